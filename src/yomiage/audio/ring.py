"""The playback buffer between a writer thread and the audio callback.

One writer appends samples; the audio callback renders blocks from it. Positions
are frame counts since the start, so a mark is just "the write position when it was
made": it fires when the callback has rendered past it, at the moment those frames
reach the loudspeaker (the callback's DAC time).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from yomiage.audio.marks import MarkCallback, MarkClock

Samples = npt.NDArray[np.float32]


class PlaybackBuffer:
    """A single-producer, single-consumer ring of float32 mono samples with marks.

    ``write`` blocks only while the ring is full. ``render`` never blocks for long
    (it takes a lock held for microseconds) and outputs silence when starved.
    ``cut`` drops everything written so far; the next ``render`` fades the current
    sound out over ``fade_ms`` instead of clicking, then goes on with newer audio.
    """

    def __init__(
        self,
        rate: int,
        clock: MarkClock,
        capacity_seconds: float = 32.0,
        fade_ms: float = 5.0,
    ) -> None:
        self.rate = int(rate)
        self._clock = clock
        self._ring: Samples = np.zeros(max(1, int(capacity_seconds * rate)), dtype=np.float32)
        self._fade: Samples = np.linspace(1.0, 0.0, max(1, int(fade_ms * rate / 1000)),
                                          dtype=np.float32)
        self._lock = threading.Lock()
        self._write_pos = 0
        self._read_pos = 0
        self._marks: deque[tuple[int, MarkCallback]] = deque()
        self._cut_at: int | None = None
        self._cut_done = threading.Event()
        self._heard_until = 0.0  # perf_counter() when the last rendered frame is heard

    # -- writer side -------------------------------------------------------------
    def write(self, samples: Samples, cancelled: Callable[[], bool] | None = None) -> None:
        """Append ``samples``, waiting while the ring is full (until ``cancelled()``)."""
        cap = self._ring.size
        data = np.asarray(samples, dtype=np.float32)
        done = 0
        while done < data.size:
            free = cap - (self._write_pos - self._read_pos)
            if free <= 0:
                if cancelled is not None and cancelled():
                    return
                time.sleep(0.005)
                continue
            n = min(free, data.size - done)
            start = self._write_pos % cap
            first = min(n, cap - start)
            self._ring[start:start + first] = data[done:done + first]
            if n > first:
                self._ring[: n - first] = data[done + first:done + n]
            with self._lock:
                self._write_pos += n
            done += n

    def add_mark(self, callback: MarkCallback) -> None:
        """Fire ``callback`` when everything written so far has been heard."""
        with self._lock:
            pos = self._write_pos
            if pos > self._read_pos:
                self._marks.append((pos, callback))
                return
            when = max(time.perf_counter(), self._heard_until)
        self._clock.schedule(when, callback)

    def pending_frames(self) -> int:
        """Frames written but not yet handed to the audio device."""
        return self._write_pos - self._read_pos

    def pending_seconds(self) -> float:
        """Seconds until everything written so far has been heard."""
        with self._lock:
            frames = self._write_pos - self._read_pos
            heard = self._heard_until
        return frames / self.rate + max(0.0, heard - time.perf_counter())

    def cut(self) -> None:
        """Ask the next render to drop what was written so far (with a short fade)."""
        with self._lock:
            self._cut_done.clear()
            self._cut_at = self._write_pos

    def wait_cut(self, timeout: float) -> bool:
        """Wait until a requested cut has been applied by a render."""
        return self._cut_done.wait(timeout)

    def cut_now(self) -> None:
        """Apply a cut without rendering (the device is not running)."""
        with self._lock:
            cut = self._write_pos if self._cut_at is None else self._cut_at
            self._read_pos = max(self._read_pos, cut)
            self._cut_at = None
            self._fire_upto(cut, time.perf_counter())
            self._cut_done.set()

    # -- audio callback side -----------------------------------------------------
    def render(self, out: Samples, dac_time: float) -> None:
        """Fill ``out`` with the next frames; ``dac_time`` = when out[0] will be heard."""
        frames = out.shape[0]
        filled = 0
        with self._lock:
            r = self._read_pos
            w = self._write_pos
            if self._cut_at is not None:
                cut = self._cut_at
                n = min(self._fade.size, cut - r, frames)
                if n > 0:
                    self._copy_out(out[:n], r, n)
                    ramp = self._fade if n == self._fade.size else np.linspace(
                        1.0, 0.0, n, dtype=np.float32)
                    out[:n] *= ramp
                    filled = n
                r = max(r, cut)
                self._cut_at = None
                self._fire_upto(cut, dac_time + filled / self.rate)
                self._cut_done.set()
            n = min(frames - filled, w - r)
            if n > 0:
                self._copy_out(out[filled:filled + n], r, n)
                while self._marks and self._marks[0][0] <= r + n:
                    pos, callback = self._marks.popleft()
                    self._clock.schedule(dac_time + (filled + pos - r) / self.rate, callback)
                r += n
                filled += n
            if filled < frames:
                out[filled:] = 0.0
            self._read_pos = r
            self._heard_until = dac_time + frames / self.rate

    def _copy_out(self, dest: Samples, pos: int, n: int) -> None:
        cap = self._ring.size
        start = pos % cap
        first = min(n, cap - start)
        dest[:first] = self._ring[start:start + first]
        if n > first:
            dest[first:n] = self._ring[: n - first]

    def _fire_upto(self, pos: int, when: float) -> None:
        while self._marks and self._marks[0][0] <= pos:
            _, callback = self._marks.popleft()
            self._clock.schedule(when, callback)
