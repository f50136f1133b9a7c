"""The context-manager behaviour that live and simulated sinks share."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class DrainOrStopOnExit:
    """Leaving the ``with`` block normally drains (plays what is queued); leaving it on
    an exception (Ctrl-C included) stops the sound at once. Either way the sink closes.

    Subclasses provide ``drain``, ``stop`` and ``close``.
    """

    def drain(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.drain()
            else:
                self.stop()
        finally:
            self.close()
