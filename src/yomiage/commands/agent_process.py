"""The agent of `yomiage run` as a child that never outlives yomiage.

Promises (POSIX):

- The agent runs in a process group of its own, so a signal meant for it reaches every
  process it started (a wrapper such as ``sh -c …`` and what the wrapper runs), and a
  terminal's Ctrl-C reaches it once, through yomiage.
- Whatever ends yomiage, the group ends too: a signal or an exception in yomiage goes
  through :meth:`AgentProcess.stop`; a hard end (SIGKILL, a crash of the interpreter)
  is caught by a small watchdog (``sh``) that holds the read end of a pipe only yomiage
  writes to: at end of file it sends SIGTERM to the group, then SIGKILL to what is left.
  On Linux the agent itself also gets SIGTERM when yomiage dies (the parent-death
  signal, ``prctl(PR_SET_PDEATHSIG)``), even before the watchdog has started.

Elsewhere (Windows) the agent is a plain child that is terminated on the way out.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
# The watchdog: ignores the signals a terminal sends (they are yomiage's to handle),
# waits for end of file on stdin, and unless told "done" ends the group ($1):
# SIGTERM, up to 2 s for it to go, then SIGKILL.
_WATCHDOG = (
    "trap '' INT HUP TERM QUIT TSTP; read -r line; [ \"$line\" = done ] && exit 0; "
    "kill -TERM -$1 2>/dev/null || exit 0; i=0; "
    "while [ $i -lt 20 ] && kill -0 -$1 2>/dev/null; do sleep 0.1; i=$((i+1)); done; "
    "kill -KILL -$1 2>/dev/null; exit 0"
)


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec function asking Linux for SIGTERM when yomiage dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):  # pragma: no cover - exotic libc
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: no logging here
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # yomiage died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _running_members(pgid: int) -> int | None:
    """Processes of group ``pgid`` that are not zombies (None without /proc)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    count = 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            count += 1
    return count


class AgentProcess:
    """A running agent command whose stdout is a pipe; see the module's promises."""

    def __init__(self, command: list[str], stdin: Any = None) -> None:
        """Start ``command``; raises OSError when it cannot start."""
        kwargs: dict[str, Any] = {}
        self._posix = os.name == "posix"
        if self._posix:
            kwargs["process_group"] = 0
            preexec = _parent_death_signal()
            if preexec is not None:
                kwargs["preexec_fn"] = preexec
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=stdin, **kwargs)
        self.pgid = self.proc.pid
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._watch_pipe: IO[bytes] | None = None
        if self._posix:
            self._start_watchdog()

    def _start_watchdog(self) -> None:
        read_end, write_end = os.pipe()  # both non-inheritable: the agent never holds them
        try:
            self._watchdog = subprocess.Popen(
                ["sh", "-c", _WATCHDOG, "yomiage-watchdog", str(self.pgid)],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:  # no sh: the other safeguards still hold
            log.debug("no watchdog for the agent: %s", exc)
            os.close(write_end)
        else:
            self._watch_pipe = os.fdopen(write_end, "wb", buffering=0)
        finally:
            os.close(read_end)

    @property
    def stdout(self) -> IO[bytes]:
        """The agent's stdout (the stream-json)."""
        assert self.proc.stdout is not None
        return self.proc.stdout

    def poll(self) -> int | None:
        """The agent's return code, None while it runs."""
        return self.proc.poll()

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to every process of the agent's group (quietly if gone)."""
        try:
            if self._posix:
                os.killpg(self.pgid, signum)
            elif self.proc.poll() is None:  # pragma: no cover - Windows
                self.proc.terminate()
        except (ProcessLookupError, PermissionError):
            pass

    def group_alive(self) -> bool:
        """True while any process of the agent's group is running (zombies, which
        only wait for their parent or init to reap them, do not count)."""
        if not self._posix:  # pragma: no cover - Windows
            return self.proc.poll() is None
        self.proc.poll()
        try:
            os.killpg(self.pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        members = _running_members(self.pgid)
        return True if members is None else members > 0

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the agent (the group's leader); its return code, None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _wait_group(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.group_alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self, grace: float = 1.0, first: int | None = None) -> int | None:
        """End the whole group; returns the leader's return code.

        ``first``: a signal already sent (e.g. SIGINT); the group gets ``grace`` seconds
        to end on it, then SIGTERM and 1 s, then SIGKILL. Without ``first`` it starts
        with SIGTERM. Leaves no process of the group behind.
        """
        if first is None:
            self.signal_group(signal.SIGTERM if self._posix else 0)
        if not self._wait_group(grace):
            if first is not None:
                self.signal_group(signal.SIGTERM)
            if not self._wait_group(1.0):
                self.signal_group(signal.SIGKILL if self._posix else 0)
                self._wait_group(2.0)
        return self.proc.poll()

    def release(self) -> None:
        """The agent's group is over (or left to the watchdog): close the watchdog.

        When the group still has processes the watchdog ends them, as it would if
        yomiage died; otherwise it is told "done" and exits.
        """
        pipe, self._watch_pipe = self._watch_pipe, None
        if pipe is not None:
            try:
                if not self.group_alive():
                    pipe.write(b"done\n")
            except OSError:
                pass
            finally:
                pipe.close()
        if self._watchdog is not None:
            # (on a timeout it is ending the group; it exits on its own)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=0.5)
        with contextlib.suppress(OSError):
            self.stdout.close()
