"""Where the daemon listens, locks and logs; standard library only (clients import it).

* socket: ``$YOMIAGE_SOCKET`` if set, else ``$XDG_RUNTIME_DIR/yomiage/daemon.sock``, else
  ``<state dir>/daemon.sock`` (``$XDG_STATE_HOME/yomiage`` or ``~/.local/state/yomiage``
  on Linux, ``~/Library/Application Support/yomiage`` on macOS);
* ``<socket>.lock``: held (flock) by the running daemon for its whole life — the one
  daemon per socket path;
* ``<socket>.start``: held by a client while it starts a daemon — one starter at a time;
* log: ``<state dir>/daemon.log`` (``$YOMIAGE_DAEMON_LOG`` overrides).

Paths are plain strings (``os.path``): a client process does not pay for ``pathlib``.
The folder holding the socket is created 0700 and must belong to the user.
"""

from __future__ import annotations

import os
import stat
import sys

ENV_SOCKET = "YOMIAGE_SOCKET"
ENV_LOG = "YOMIAGE_DAEMON_LOG"


def state_dir() -> str:
    """The user's state folder for yomiage (not created)."""
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "yomiage")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return os.path.join(base, "yomiage")


def socket_path() -> str:
    """The daemon's socket path (see the module docstring)."""
    override = os.environ.get(ENV_SOCKET)
    if override:
        return os.path.expanduser(override)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "yomiage", "daemon.sock")
    return os.path.join(state_dir(), "daemon.sock")


def lock_path(sock: str | os.PathLike[str]) -> str:
    """The lock the running daemon holds for ``sock``."""
    return os.fspath(sock) + ".lock"


def start_lock_path(sock: str | os.PathLike[str]) -> str:
    """The lock a client holds while starting a daemon for ``sock``."""
    return os.fspath(sock) + ".start"


def log_path() -> str:
    """The daemon's log file."""
    return os.environ.get(ENV_LOG) or os.path.join(state_dir(), "daemon.log")


def ensure_private_dir(folder: str | os.PathLike[str]) -> None:
    """Create ``folder`` 0700 if missing. yomiage's own folders (named ``yomiage``) must
    belong to the user and are made 0700 if they were open to others; a folder that an
    override names (``YOMIAGE_SOCKET=/tmp/x.sock``) is left as it is — the socket itself
    is 0600 and every peer's uid is checked. Raises PermissionError with one line."""
    folder = os.fspath(folder) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if os.path.basename(folder.rstrip("/")) != "yomiage":
        return
    st = os.stat(folder)
    if st.st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(folder, 0o700)
