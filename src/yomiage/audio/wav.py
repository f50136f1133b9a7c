"""A WAV file written as audio arrives, whose header is correct after every write.

Each write appends PCM and then rewrites the header's RIFF and data sizes in one
``pwrite``, so the file on disk is a valid WAV at every moment: if the process is
killed (SIGTERM, SIGKILL, Ctrl-C) it holds everything written up to the last chunk.
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path
from types import TracebackType

from yomiage.audio.convert import ChunkResampler, Samples
from yomiage.audio.immediate import ImmediateSink
from yomiage.records import AudioChunk

log = logging.getLogger(__name__)

HEADER_BYTES = 44
_MAX_DATA = 0xFFFFFFFF - 36


def wav_header(data_bytes: int, rate: int, channels: int = 1, bits: int = 16) -> bytes:
    """The 44-byte canonical PCM WAV header for ``data_bytes`` of audio."""
    block = channels * bits // 8
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE",
        b"fmt ", 16, 1, channels, rate, rate * block, block, bits,
        b"data", data_bytes,
    )


class WavSink(ImmediateSink):
    """Writes 16-bit mono PCM to ``path`` at ``sample_rate``, resampling other rates."""

    def __init__(self, path: str | os.PathLike[str], sample_rate: int, volume: float = 1.0) -> None:
        self.path = Path(path)
        self.rate = int(sample_rate)
        self.name = f"wav:{self.path}"
        self._resampler = ChunkResampler(self.rate, volume)
        self._data_bytes = 0
        self._full_warned = False
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(self._fd, wav_header(0, self.rate))

    @property
    def frames(self) -> int:
        """Frames stored so far."""
        return self._data_bytes // 2

    def _put(self, samples: Samples) -> None:
        if self._fd is None:
            raise ValueError(f"{self.name} is closed")
        if not samples.size:
            return
        pcm = AudioChunk(samples, self.rate).to_int16().tobytes()
        room = _MAX_DATA - self._data_bytes
        if len(pcm) > room:
            if not self._full_warned:
                log.warning("%s reached the 4 GiB WAV limit; the rest is dropped", self.path)
                self._full_warned = True
            pcm = pcm[: room - room % 2]
        os.pwrite(self._fd, pcm, HEADER_BYTES + self._data_bytes)
        self._data_bytes += len(pcm)
        # One syscall for both sizes: a kill never leaves them inconsistent.
        os.pwrite(self._fd, wav_header(self._data_bytes, self.rate), 0)

    def drain(self) -> None:
        """Store what the resampler holds (nothing once closed)."""
        if self._fd is not None:
            super().drain()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._fd is None:
            return
        try:
            self.drain()
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WavSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
