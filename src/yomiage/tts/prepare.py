"""Preparation in idle time: a voice's optional warm-up steps, run one at a time while
the narrator has had nothing to do for a while (an agent thinking, a user typing).

Kokoro's vocoder prepares its kernels per input length on first use (a first phrase of an
unseen length costs ~1.9× a later one); :meth:`prepare_next` runs it on the common
first-phrase lengths ahead. A step takes up to ~0.5 s; its owners start the idle second
only once nothing is queued or playing, which keeps the steps out of a stream's way
(sentences that follow each other arrive within tens of milliseconds; a next prompt's
reply comes seconds after the last one ended). A sentence that still arrives during a
step waits for that step.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

IDLE_BEFORE_S = 1.0
"""Seconds with nothing to do before a preparation step may run."""


class IdlePreparer:
    """Runs ``voice.prepare_next()`` (where the voice has it) once its owner has been
    idle for ``after_s`` seconds, a step per :meth:`idle` call, until the voice reports
    nothing left. Not thread-safe: call it from the thread that uses the voice."""

    def __init__(self, voice: Any, after_s: float = IDLE_BEFORE_S) -> None:
        self.voice = voice
        self.after_s = after_s
        self.steps = 0
        self._step = getattr(voice, "prepare_next", None)
        self._since = time.monotonic()

    @property
    def done(self) -> bool:
        """True when the voice has nothing (left) to prepare."""
        return self._step is None

    def busy(self) -> None:
        """The owner just worked: the idle clock starts again."""
        self._since = time.monotonic()

    def idle(self) -> bool:
        """Run one step if the owner has been idle long enough; True if one ran."""
        if self._step is None or time.monotonic() - self._since < self.after_s:
            return False
        try:
            ran = bool(self._step())
        except Exception as exc:  # optional work: never let it stop the narrator
            log.debug("voice preparation failed: %s", exc)
            ran = False
        if ran:
            self.steps += 1
        else:
            self._step = None
            if self.steps:
                log.debug("%s: %d preparation steps done", getattr(self.voice, "name", "voice"),
                          self.steps)
        return ran


def prepare_all(voice: Any) -> int:
    """Run every preparation step ``voice`` has, now; the number run."""
    step = getattr(voice, "prepare_next", None)
    steps = 0
    while callable(step) and step():
        steps += 1
    return steps
