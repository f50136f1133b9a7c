"""Ctrl-C while the command starts or loads models: it ends at once, quietly.

As the ``yomiage`` console script (never in a library user's process):

- From the first line of ``yomiage/__init__`` until :func:`yomiage.cli.main` takes over
  (:func:`restore_sigint`), SIGINT has its default action: the process ends by the
  signal itself, at once, with no traceback (the shell shows exit status 130). Imports
  of numpy and friends take about half a second and hold the interpreter's lock in long
  native calls, during which Python's own handler could not run.
- While models load (:func:`sigint_ends_process`), the same: nothing has been written
  yet, and a loader inside a long native call would otherwise delay Ctrl-C for seconds.
- :func:`leave_now` ends an interrupted run without interpreter finalisation, which
  would wait for loader threads and could abort under an engine inside a native call.

Interpreter start-up itself (the first few tens of milliseconds, before any yomiage
code runs) is Python's: a Ctrl-C then is reported by Python.
"""

from __future__ import annotations

import _signal  # built in: importing `signal` (it imports enum) would be a window itself
import sys

INTERRUPTED = 130


def is_console_script() -> bool:
    """True when this process is the `yomiage` command (not a library user)."""
    name = sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if sys.argv else ""
    return name in ("yomiage", "yomiage.exe", "yomiage-script.py")


def _default_while_starting() -> None:
    if (is_console_script() and hasattr(_signal, "SIGINT")
            and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler):
        try:
            _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        except ValueError:  # not the main thread
            return


_default_while_starting()  # before anything else is imported


def restore_sigint() -> None:
    """Python's KeyboardInterrupt again, if the start-up set the default action."""
    if is_console_script() and _signal.getsignal(_signal.SIGINT) == _signal.SIG_DFL:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)


class sigint_ends_process:
    """``with sigint_ends_process(): load()``: as the console script, in the main
    thread, Ctrl-C inside the block ends the process at once by the signal itself.

    ``also``: more signals given their default action meanwhile (``yomiage run`` adds
    SIGTERM and SIGHUP, which it otherwise handles: the agent's watchdog then ends the
    agent).
    """

    def __init__(self, also: tuple[int, ...] = ()) -> None:
        self._signals = tuple(dict.fromkeys((int(_signal.SIGINT), *map(int, also))))
        self._previous: dict[int, object] = {}

    def __enter__(self) -> None:
        import threading

        if is_console_script() and threading.current_thread() is threading.main_thread():
            for signum in self._signals:
                self._previous[signum] = _signal.getsignal(signum)
                _signal.signal(signum, _signal.SIG_DFL)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            _signal.signal(signum, handler)
        self._previous.clear()


def leave_now(code: int) -> None:
    """Flush logging and the standard streams, then end the process with ``code`` without
    interpreter finalisation (threads inside native engine calls are not waited for)."""
    import contextlib
    import logging
    import os

    with contextlib.suppress(Exception):  # leaving anyway
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)

