"""One lock for all GPU work of the PyTorch engines (translator and voice), fair between them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class FairLock:
    """A lock that threads get in the order they asked for it (first come, first served).

    A plain ``threading.Lock`` lets the thread that releases it take it again at once,
    before a woken waiter runs: a decoder that loops over short GPU stretches could keep
    the voice waiting for its whole sentence. Not reentrant; only the holder releases.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0  # the next ticket handed out
        self._serving = 0  # the ticket that holds the lock

    def acquire(self) -> None:
        """Wait until every thread that asked earlier has had and released the lock."""
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()

    def release(self) -> None:
        """Hand the lock to the longest-waiting thread."""
        with self._cond:
            self._serving += 1
            self._cond.notify_all()

    def locked(self) -> bool:
        """Whether some thread holds the lock now."""
        with self._cond:
            return self._serving != self._next

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


GPU_LOCK = FairLock()
"""Held by the PyTorch GPU engines (this decoder, the Kokoro GPU voice) around each
stretch of GPU work: captures and replays of different engines never overlap, and a
voice phrase waits for at most the decoding stretch under way (first come, first served)."""


@contextlib.contextmanager
def gpu_section(stream: torch.cuda.Stream | None, device: torch.device) -> Iterator[None]:
    """Run the enclosed GPU work on ``stream`` under ``GPU_LOCK``, after the work already
    queued on the caller's current stream; without a stream (CPU), just run it."""
    if stream is None:
        yield
        return
    with GPU_LOCK:
        import torch

        stream.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(stream):
            yield
