"""Talking to the daemon: connect (starting it if needed), send a message, read the reply.

Standard library only — no numpy, engines, rich or configuration — so that a client
process (``yomiage hook``, ``yomiage say --daemon``) starts and hands its message over in
a few tens of milliseconds::

    from yomiage.daemon.client import send
    reply = send({"type": "say", "text": "Build finished."})   # starts a daemon if none
    assert reply["ok"]

Auto-start is race-free: a client that finds no daemon takes ``<socket>.start`` (flock),
looks again, and only then spawns ``python -m yomiage.cli daemon run``; the daemon itself
holds ``<socket>.lock`` for its whole life, so two daemons never serve one path, and a
socket left by a killed daemon (nobody holds the lock) is replaced. The message is sent
once the new daemon answers (it binds its socket before loading engines), so nothing is
lost.
"""

from __future__ import annotations

import _socket  # the C module: `socket` would import enum, selectors… (~10-20 ms)
import fcntl
import os
import sys
import time

from yomiage.daemon import paths
from yomiage.daemon.protocol import MAX_REPLY, ProtocolError, decode_reply, encode

TYPE_CHECKING = False  # (not from typing: this module must import fast)
if TYPE_CHECKING:
    from typing import Any

    PathArg = str | os.PathLike[str] | None

START_TIMEOUT = 20.0
"""Seconds a client waits for a daemon it started (or saw starting) to answer."""
REPLY_TIMEOUT = 10.0
"""Seconds a client waits for one reply (``wait`` requests set their own)."""
ENV_AUTOSTART = "YOMIAGE_DAEMON_AUTOSTART"
"""Set to 0 (or false, no, off) to keep every client from starting a daemon."""


def autostart_allowed() -> bool:
    """False when ``$YOMIAGE_DAEMON_AUTOSTART`` turns auto-start off."""
    return os.environ.get(ENV_AUTOSTART, "1").strip().lower() not in ("0", "false", "no", "off")


class DaemonUnavailable(RuntimeError):
    """No daemon answers (and none could be started); the text is one line."""


class Connection:
    """One open connection to the daemon: requests go out one at a time, in order."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self._buf = b""

    def request(self, message: dict[str, Any], timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """Send ``message`` and return the daemon's reply. Raises DaemonUnavailable when
        the connection breaks or the reply does not come within ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            try:  # noqa: SIM105 (contextlib costs a client process milliseconds)
                self.sock.sendall(encode(message))
            except OSError:
                pass  # the daemon may have answered (e.g. refused) and closed: read it
            while b"\n" not in self._buf:
                data = self.sock.recv(65536)
                if not data:
                    raise DaemonUnavailable("the daemon closed the connection")
                self._buf += data
                if len(self._buf) > MAX_REPLY:
                    raise DaemonUnavailable("the daemon's reply is too long")
        except (OSError, TimeoutError) as exc:
            raise DaemonUnavailable(f"lost the daemon: {exc}") from None
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            return decode_reply(line)
        except ProtocolError as exc:
            raise DaemonUnavailable(str(exc)) from None

    def close(self) -> None:
        """Close the connection (the daemon keeps what was already acknowledged)."""
        try:  # noqa: SIM105 (contextlib costs a client process milliseconds)
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _path(path: PathArg) -> str:
    return os.fspath(path) if path is not None else paths.socket_path()


def try_connect(path: PathArg = None) -> Connection | None:
    """A connection to a running daemon at ``path``, or None if none answers there."""
    path = _path(path)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(REPLY_TIMEOUT)
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return Connection(sock)


def daemon_alive(path: PathArg = None) -> bool:
    """True when a daemon holds the lock of ``path`` (running, perhaps still starting)."""
    path = _path(path)
    try:
        fd = os.open(paths.lock_path(path), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def spawn_daemon(path: PathArg, args: list[str] | None = None) -> int:
    """Start a detached daemon for ``path``; returns its pid (it may still be starting).

    Its stderr goes to the daemon log; it runs in a session of its own so that the
    client's terminal, Ctrl-C or exit do not reach it."""
    import subprocess  # (only a starting client pays for it)

    log = paths.log_path()
    paths.ensure_private_dir(os.path.dirname(log))
    env = dict(os.environ)
    env[paths.ENV_SOCKET] = _path(path)
    cmd = [sys.executable, "-m", "yomiage.cli", "daemon", "run", *(args or [])]
    with open(log, "ab") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, start_new_session=True,
                                close_fds=True)
    return proc.pid


def _wait_answer(path: str, deadline: float) -> Connection | None:
    delay = 0.005
    while time.monotonic() < deadline:
        conn = try_connect(path)
        if conn is not None:
            return conn
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
    return None


def connect(*, autostart: bool = True, path: PathArg = None,
            start_timeout: float = START_TIMEOUT,
            daemon_args: list[str] | None = None) -> Connection:
    """A connection to the daemon, starting one first when none answers and
    ``autostart`` is true. Raises DaemonUnavailable with one line."""
    path = _path(path)
    conn = try_connect(path)
    if conn is not None:
        return conn
    if not autostart or not autostart_allowed():
        raise DaemonUnavailable(f"no yomiage daemon answers at {path} "
                                "(start one: yomiage daemon start)")
    try:
        paths.ensure_private_dir(os.path.dirname(path))
        lock_fd = os.open(paths.start_lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise DaemonUnavailable(f"cannot start a daemon at {path}: {exc}") from None
    deadline = time.monotonic() + start_timeout
    try:
        while True:  # one starter at a time; the others wait here, then just connect
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise DaemonUnavailable("timed out waiting for another client to "
                                            "start the daemon") from None
                time.sleep(0.005)
        conn = try_connect(path)
        if conn is not None:
            return conn
        if not daemon_alive(path):
            spawn_daemon(path, daemon_args)
        conn = _wait_answer(path, deadline)
        if conn is None:
            raise DaemonUnavailable(f"the daemon did not answer at {path} within "
                                    f"{start_timeout:.0f} s (see {paths.log_path()})")
        return conn
    finally:
        os.close(lock_fd)  # releases the flock


def send(message: dict[str, Any], *, autostart: bool = True, path: PathArg = None,
         timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
    """Send one message and return the daemon's reply (``reply["ok"]`` says whether it
    was accepted; ``reply["error"]`` why not). Starts a daemon when none answers and
    ``autostart`` is true. Raises DaemonUnavailable (one line) when no daemon can be
    reached."""
    with connect(autostart=autostart, path=path) as conn:
        return conn.request(message, timeout=timeout)
