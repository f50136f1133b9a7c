"""The cores while a listener waits: a voice making the first sound of a sentence that
someone is waiting for has them to itself, and a translation decoder running beside it
(the rest of a streamed sentence) pauses between its steps until that sound is out.

On a 2-core CPU the decoder's remaining steps slowed Kokoro's first phrase by ~60 ms
(Marian-base shape, a hook's one-sentence reply: 344 ms beside the decoder vs 284 ms
alone). The pause is bounded (:data:`MAX_PAUSE_S`) so that a voice stuck in its first
phrase never stalls translation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_S = 1.0
"""The longest a decoder step waits for a first sound."""

_cond = threading.Condition()
_making = 0  # voices making a first sound now


@contextmanager
def first_sound(waited_for: bool = True) -> Iterator[None]:
    """While inside, decoders that call :func:`let_first_sound_through` wait (when
    ``waited_for``: a listener is waiting for this sound)."""
    global _making
    if not waited_for:
        yield
        return
    with _cond:
        _making += 1
    try:
        yield
    finally:
        with _cond:
            _making -= 1
            if not _making:
                _cond.notify_all()


def let_first_sound_through(timeout: float = MAX_PAUSE_S) -> None:
    """Called by a decoder between steps: return at once, or when no voice is making a
    first sound any more (at most ``timeout`` seconds)."""
    if not _making:
        return
    with _cond:
        _cond.wait_for(lambda: not _making, timeout)
