"""What the file and pipe sinks share: audio is taken as fast as it comes."""

from __future__ import annotations

import time

from yomiage.audio.convert import ChunkResampler, Samples
from yomiage.audio.marks import MarkCallback, fire
from yomiage.records import AudioChunk


class ImmediateSink:
    """A sink with no playback clock (a WAV file, a pipe): chunks are resampled to the
    sink's rate and handed to ``_put`` at once, marks fire as soon as what came before
    them is out, and nothing is ever pending.

    Subclasses set ``_resampler`` and implement ``_put``.
    """

    _resampler: ChunkResampler

    def _put(self, samples: Samples) -> None:
        raise NotImplementedError

    def write(self, chunk: AudioChunk) -> None:
        """Put ``chunk`` out, resampled to the sink's rate."""
        self._put(self._resampler.push(chunk))

    def mark(self, callback: MarkCallback) -> None:
        """Put out what the resampler holds, then call ``callback`` at once."""
        self._put(self._resampler.flush())
        fire(callback, time.perf_counter())

    def pending_seconds(self) -> float:
        """Always 0: nothing waits to be heard."""
        return 0.0

    def drain(self) -> None:
        """Put out what the resampler holds."""
        self._put(self._resampler.flush())

    def stop(self) -> None:
        """Drop the resampler's held tail (what is already out stays)."""
        self._resampler.reset()
