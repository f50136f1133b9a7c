"""Where the daemon listens, locks and logs; standard library only (clients import it).

* socket: ``$YOMIAGE_SOCKET`` if set, else ``$XDG_RUNTIME_DIR/yomiage/daemon.sock``, else
  ``<state dir>/yomiage/daemon.sock`` (``$XDG_STATE_HOME`` or ``~/.local/state`` on Linux,
  ``~/Library/Application Support`` on macOS);
* ``<socket>.lock``: held (flock) by the running daemon for its whole life — the one
  daemon per socket path;
* ``<socket>.start``: held by a client while it starts a daemon — one starter at a time;
* log: ``<state dir>/yomiage/daemon.log`` (``$YOMIAGE_DAEMON_LOG`` overrides).

The folder holding the socket is created 0700 and must belong to the user.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

ENV_SOCKET = "YOMIAGE_SOCKET"
ENV_LOG = "YOMIAGE_DAEMON_LOG"


def state_dir() -> Path:
    """The user's state folder for yomiage (not created)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "yomiage"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "yomiage"


def socket_path() -> Path:
    """The daemon's socket path (see the module docstring)."""
    override = os.environ.get(ENV_SOCKET)
    if override:
        return Path(os.path.expanduser(override))
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "yomiage" / "daemon.sock"
    return state_dir() / "daemon.sock"


def lock_path(sock: Path) -> Path:
    """The lock the running daemon holds for ``sock``."""
    return sock.with_name(sock.name + ".lock")


def start_lock_path(sock: Path) -> Path:
    """The lock a client holds while starting a daemon for ``sock``."""
    return sock.with_name(sock.name + ".start")


def log_path() -> Path:
    """The daemon's log file."""
    override = os.environ.get(ENV_LOG)
    return Path(override) if override else state_dir() / "daemon.log"


def ensure_private_dir(folder: Path) -> None:
    """Create ``folder`` 0700 if missing. yomiage's own folders (named ``yomiage``) must
    belong to the user and are made 0700 if they were open to others; a folder that an
    override names (``YOMIAGE_SOCKET=/tmp/x.sock``) is left as it is — the socket itself
    is 0600 and every peer's uid is checked. Raises PermissionError with one line."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.name != "yomiage":
        return
    st = folder.stat()
    if st.st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(folder, 0o700)
