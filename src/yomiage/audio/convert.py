"""Bringing chunks of any rate to a sink's rate, seamlessly, with gain."""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import soxr

from yomiage.records import AudioChunk

log = logging.getLogger(__name__)

Samples = npt.NDArray[np.float32]
_EMPTY: Samples = np.zeros(0, dtype=np.float32)


def as_mono_float(samples: npt.ArrayLike) -> Samples:
    """Samples as a 1-D float32 array (2-D input is mixed down; int16 is scaled)."""
    arr = np.asarray(samples)
    if arr.dtype == np.int16:
        arr = arr.astype(np.float32) / 32768.0
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    return np.ascontiguousarray(arr, dtype=np.float32).reshape(-1)


class ChunkResampler:
    """Turns a sequence of chunks (any rates) into one stream at ``rate``.

    Consecutive chunks of the same rate go through one streaming soxr resampler, so
    their joins are seamless. The resampler holds back a few milliseconds; ``flush``
    returns them (call it at sentence ends, marks and close). After a flush the next
    chunk starts a fresh resampler.
    """

    def __init__(self, rate: int, gain: float = 1.0, quality: str = "HQ") -> None:
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, got {rate}")
        self.rate = int(rate)
        self.gain = float(gain)
        self._quality = quality
        self._stream: soxr.ResampleStream | None = None
        self._in_rate = 0

    def push(self, chunk: AudioChunk) -> Samples:
        """Audio at ``rate`` for ``chunk`` (possibly shorter: the resampler's delay)."""
        samples = as_mono_float(chunk.samples)
        in_rate = int(chunk.sample_rate)
        if in_rate <= 0:
            raise ValueError(f"chunk sample rate must be positive, got {in_rate}")
        head = _EMPTY
        if in_rate != self._in_rate:
            head = self.flush()
            self._in_rate = in_rate
        if in_rate == self.rate:
            out = samples
        else:
            if self._stream is None:
                self._stream = soxr.ResampleStream(
                    in_rate, self.rate, 1, dtype="float32", quality=self._quality
                )
            out = self._stream.resample_chunk(samples)
        if head.size:
            out = np.concatenate([head, out])
        return self._apply_gain(out)

    def flush(self) -> Samples:
        """The audio still held by the resampler; the next chunk starts afresh."""
        if self._stream is None:
            self._in_rate = 0
            return _EMPTY
        tail = self._stream.resample_chunk(_EMPTY, last=True)
        self._stream = None
        self._in_rate = 0
        return self._apply_gain(np.asarray(tail, dtype=np.float32))

    def reset(self) -> None:
        """Forget held audio (after a stop)."""
        self._stream = None
        self._in_rate = 0

    def _apply_gain(self, out: Samples) -> Samples:
        if self.gain != 1.0 and out.size:
            out = out * np.float32(self.gain)
        return np.asarray(out, dtype=np.float32)
