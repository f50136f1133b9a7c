"""A WAV file written as audio arrives, whose header is correct after every write.

Each write appends PCM and then rewrites the header's RIFF and data sizes in one
``pwrite``, so the file on disk is a valid WAV at every moment: if the process is
killed (SIGTERM, SIGKILL, Ctrl-C) it holds everything written up to the last chunk.
Short writes are retried; when a write fails (a full disk) the header is set to what
did reach the file, the error is raised once, and later writes are refused with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
from pathlib import Path
from types import TracebackType

from yomiage.audio.convert import ChunkResampler, Samples
from yomiage.audio.immediate import ImmediateSink
from yomiage.records import AudioChunk
from yomiage.safe_io import pwrite_all, written_before

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

    stored = True  # audio for later: no listener waits for the next sound

    def __init__(self, path: str | os.PathLike[str], sample_rate: int, volume: float = 1.0) -> None:
        self.path = Path(path)
        self.rate = int(sample_rate)
        self.name = f"wav:{self.path}"
        self._resampler = ChunkResampler(self.rate, volume)
        self._data_bytes = 0
        self._full_warned = False
        self._failed: OSError | None = None
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            pwrite_all(self._fd, wav_header(0, self.rate), 0)
        except OSError:
            os.close(self._fd)
            raise

    @property
    def frames(self) -> int:
        """Frames stored so far."""
        return self._data_bytes // 2

    def _put(self, samples: Samples) -> None:
        if self._fd is None:
            raise ValueError(f"{self.name} is closed")
        if self._failed is not None:
            raise self._failed
        if not samples.size:
            return
        pcm = AudioChunk(samples, self.rate).to_int16().tobytes()
        room = _MAX_DATA - self._data_bytes
        if len(pcm) > room:
            if not self._full_warned:
                log.warning("%s reached the 4 GiB WAV limit; the rest is dropped", self.path)
                self._full_warned = True
            pcm = pcm[: room - room % 2]
        try:
            self._data_bytes += pwrite_all(self._fd, pcm, HEADER_BYTES + self._data_bytes)
        except OSError as exc:
            self._failed = exc
            written = written_before(exc)
            self._data_bytes += written - written % 2  # whole samples only
            with contextlib.suppress(OSError):  # rewrites bytes already allocated
                self._write_sizes()
            raise
        self._write_sizes()

    def _write_sizes(self) -> None:
        # One syscall for both sizes: a kill never leaves them inconsistent.
        assert self._fd is not None
        pwrite_all(self._fd, wav_header(self._data_bytes, self.rate), 0)

    def drain(self) -> None:
        """Store what the resampler holds (nothing once closed)."""
        if self._fd is not None:
            super().drain()

    def close(self) -> None:
        """Flush and close the file (idempotent). Raises OSError when what was held back
        cannot be written or synced, unless a write already failed (raised then)."""
        if self._fd is None:
            return
        try:
            if self._failed is None:
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
