"""Raw PCM (s16le, mono) on stdout, for piping into another player."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import BinaryIO, TextIO

from yomiage.audio.convert import ChunkResampler, Samples
from yomiage.audio.immediate import ImmediateSink
from yomiage.records import AudioChunk
from yomiage.safe_io import silence_stdout, write_all


def format_line(rate: int) -> str:
    """The one-line description of the stream and how to play it."""
    return (
        f"yomiage: raw PCM on stdout: s16le, {rate} Hz, mono. Play it with "
        f"`| aplay -q -f S16_LE -r {rate} -c 1`, "
        f"`| ffplay -nodisp -autoexit -f s16le -ar {rate} -ch_layout mono -` or "
        f"`| play -q -t raw -e signed -b 16 -r {rate} -c 1 -`"
    )


class TerminalOutput(OSError):
    """Raw PCM was asked for, but stdout is a terminal."""


class RawPcmSink(ImmediateSink):
    """Writes 16-bit little-endian mono PCM at ``sample_rate`` to ``stream`` (stdout).

    The format is announced once on ``announce`` (stderr; None = silent). Each write is
    flushed so a downstream player starts at once. Refuses (TerminalOutput) to write
    binary audio onto a terminal.
    """

    def __init__(
        self,
        sample_rate: int,
        volume: float = 1.0,
        stream: BinaryIO | None = None,
        announce: TextIO | None = sys.stderr,
    ) -> None:
        self.rate = int(sample_rate)
        self.name = "raw:stdout"
        self._out: BinaryIO = stream if stream is not None else sys.stdout.buffer
        if self._out.isatty():
            raise TerminalOutput(
                f"stdout is a terminal; pipe the raw PCM into a player, e.g. "
                f"`… --out - | aplay -q -f S16_LE -r {self.rate} -c 1`")
        self._resampler = ChunkResampler(self.rate, volume)
        self._closed = False
        if announce is not None:
            print(format_line(self.rate), file=announce, flush=True)

    def _put(self, samples: Samples) -> None:
        if not samples.size or self._closed:
            return
        try:
            # An unbuffered stream may take less than asked: the rest is written too.
            write_all(self._out.write, AudioChunk(samples, self.rate).to_int16().tobytes())
            self._out.flush()
        except (OSError, ValueError):
            # The player went away (a broken pipe), or the output is full or closed.
            # Point stdout at /dev/null so the interpreter's own flush at exit does not
            # print a second error, then let the caller stop (it reports this one).
            self._closed = True
            if self._out is sys.stdout.buffer:
                silence_stdout()
            raise

    def close(self) -> None:
        """Flush the remaining audio (stdout itself stays open)."""
        if not self._closed:
            self.drain()
            self._closed = True

    def __enter__(self) -> RawPcmSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._closed = True
