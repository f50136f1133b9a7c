"""Firing mark callbacks at given perf_counter() times, in order, off the audio thread."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

MarkCallback = Callable[[float], None]


def fire(callback: MarkCallback, when: float) -> None:
    """Call ``callback(when)``; an exception is logged, never raised."""
    try:
        callback(when)
    except Exception:  # a listener's bug must not stop the audio
        log.exception("mark callback failed")


class MarkClock:
    """A daemon thread that calls ``callback(t)`` once ``perf_counter()`` reaches ``t``.

    Callbacks run in due-time order (ties: scheduling order), each with its due time.
    """

    def __init__(self, name: str = "yomiage-marks") -> None:
        self._heap: list[tuple[float, int, MarkCallback]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def schedule(self, when: float, callback: MarkCallback) -> None:
        """Call ``callback(when)`` at ``when`` (at once if that time has passed)."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), callback))
            self._cond.notify()

    def hurry(self, when: float) -> None:
        """Make every waiting callback due at ``when`` at the latest (audio was cut)."""
        with self._cond:
            self._heap = [(min(due, when), seq, cb) for due, seq, cb in self._heap]
            heapq.heapify(self._heap)
            self._cond.notify()

    def idle(self) -> bool:
        """True when no callback is waiting or running."""
        with self._cond:
            return not self._heap and not self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every scheduled callback has run; False on timeout."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = None if deadline is None else deadline - time.perf_counter()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(0.05 if left is None else min(left, 0.05))
        return True

    def close(self, run_pending: bool = True) -> None:
        """Stop the thread; pending callbacks run at once when ``run_pending``."""
        with self._cond:
            self._closed = True
            pending = sorted(self._heap) if run_pending else []
            self._heap.clear()
            self._cond.notify_all()
        self._thread.join(timeout=1.0)
        for when, _, callback in pending:
            fire(callback, min(when, time.perf_counter()))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap:
                        left = self._heap[0][0] - time.perf_counter()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                when, _, callback = heapq.heappop(self._heap)
                self._busy += 1
            try:
                fire(callback, when)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
