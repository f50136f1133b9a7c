"""Sinks that play nothing: one discards at once, one keeps real-time pace (benchmarks)."""

from __future__ import annotations

import threading
import time

from yomiage.audio.lifecycle import DrainOrStopOnExit
from yomiage.audio.marks import MarkCallback, MarkClock, fire
from yomiage.records import AudioChunk


class NullSink(DrainOrStopOnExit):
    """Discards audio; marks fire at once. Counts what it was given."""

    name = "null"

    def __init__(self) -> None:
        self.chunks = 0
        self.seconds = 0.0

    def write(self, chunk: AudioChunk) -> None:
        """Count and drop ``chunk``."""
        self.chunks += 1
        self.seconds += chunk.duration

    def mark(self, callback: MarkCallback) -> None:
        """Call ``callback`` at once."""
        fire(callback, time.perf_counter())

    def pending_seconds(self) -> float:
        """Always 0."""
        return 0.0

    def drain(self) -> None:
        """Nothing to wait for."""

    def stop(self) -> None:
        """Nothing to cut."""

    def close(self) -> None:
        """Nothing to release."""


class TimingSink(DrainOrStopOnExit):
    """Plays nothing but keeps the clock of a real device, for benchmarks.

    Audio "plays" from when it is written (after ``latency`` seconds, and not before
    the audio already queued has finished) for ``chunk.duration``; marks fire when the
    audio written before them would have been heard; ``write`` blocks while more than
    ``capacity_seconds`` are queued, like the speakers' ring.
    """

    name = "timing"

    def __init__(self, latency: float = 0.0, capacity_seconds: float = 32.0) -> None:
        self.latency = float(latency)
        self.capacity = float(capacity_seconds)
        self.seconds = 0.0
        self._end = 0.0
        self._lock = threading.Lock()
        self._clock = MarkClock("yomiage-timing-marks")
        self._closed = False

    def write(self, chunk: AudioChunk) -> None:
        """Queue ``chunk``'s duration on the simulated device."""
        with self._lock:
            now = time.perf_counter()
            start = max(now + self.latency, self._end)
            self._end = start + chunk.duration
            self.seconds += chunk.duration
            wait = self._end - now - self.capacity
        if wait > 0:
            time.sleep(wait)

    def mark(self, callback: MarkCallback) -> None:
        """Call ``callback(t)`` when everything written so far would have been heard."""
        with self._lock:
            when = max(time.perf_counter(), self._end)
        self._clock.schedule(when, callback)

    def pending_seconds(self) -> float:
        """Seconds of written audio not yet (virtually) heard."""
        with self._lock:
            return max(0.0, self._end - time.perf_counter())

    def drain(self) -> None:
        """Sleep until everything written would have been heard and marks have fired."""
        left = self.pending_seconds()
        if left > 0:
            time.sleep(left)
        self._clock.wait_idle(1.0)

    def stop(self) -> None:
        """Drop the queued audio; waiting marks fire now."""
        with self._lock:
            now = time.perf_counter()
            self._end = now
        self._clock.hurry(now)

    def close(self) -> None:
        """Stop the mark thread (waiting marks fire at once)."""
        if not self._closed:
            self._closed = True
            self._clock.close(run_pending=True)
