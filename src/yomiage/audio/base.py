"""The Sink protocol: where audio goes (speakers, WAV, raw PCM, nothing)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, runtime_checkable

from yomiage.records import AudioChunk


@runtime_checkable
class Sink(Protocol):
    """Accepts audio chunks in order and plays or stores them.

    A sink is a context manager: leaving it flushes and closes (a WAV stays valid).
    ``write`` may block to apply back-pressure (live playback) but never longer than
    the audio already queued. ``stop`` cuts sound at once (interruption, Ctrl-C).
    ``pending_seconds`` says how much written audio has not been heard yet.
    ``mark(callback)`` calls ``callback(t)`` (t = perf_counter seconds) once all audio
    written before the mark has been played (live) or stored (files: at once); the
    pipeline uses marks to timestamp when each sentence started and ended playing.
    A mark whose audio ``stop`` dropped fires at the cut (every mark fires exactly once).
    """

    name: str

    def write(self, chunk: AudioChunk) -> None:
        """Queue a chunk for playback or storage (resampled as needed)."""
        ...

    def mark(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(perf_counter())`` when everything written so far has played."""
        ...

    def pending_seconds(self) -> float:
        """Seconds of written audio not yet played (0 for files)."""
        ...

    def drain(self) -> None:
        """Block until everything written has been played or stored."""
        ...

    def stop(self) -> None:
        """Drop queued audio and silence output at once."""
        ...

    def __enter__(self) -> Sink: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


NOBODY_WAITS_S = 3600.0
"""What :func:`unheard_seconds` says of a sink that stores audio for later."""


def unheard_seconds(sink: Sink | None) -> float:
    """Seconds of speech written to ``sink`` and not heard yet: its ``pending_seconds``,
    or :data:`NOBODY_WAITS_S` for a sink that stores audio (``stored = True``, a WAV
    file: no listener waits for its next sound), 0 when it cannot tell. A voice cuts a
    sentence into a short first phrase only when this is small (tts/phrases.py)."""
    if sink is None:
        return 0.0
    if getattr(sink, "stored", False):
        return NOBODY_WAITS_S
    try:
        return float(sink.pending_seconds())
    except Exception:  # a sink that cannot tell: as if caught up
        return 0.0
