"""`yomiage [FILE|-] --daemon`: hand a stream-json stream to the daemon, line by line.

Light (standard library only). Lines go over one connection as they are read — each
line at once from a live stream, in batches from a file — then the end of the stream;
then the client waits until the daemon has spoken this session (Ctrl-C stops that
session's speech and exits).
"""

from __future__ import annotations

import os
import sys

from yomiage.daemon.client import Connection, DaemonUnavailable, connect
from yomiage.daemon.protocol import MAX_LINES

TYPE_CHECKING = False  # (not from typing: this module must import fast)
if TYPE_CHECKING:
    from typing import BinaryIO

BATCH_BYTES = 1024 * 1024
"""A file's lines go in messages of about this size."""


def session_id() -> str:
    """This client's own session id (host and pid)."""
    return f"cli-{os.uname().nodename}-{os.getpid()}"


def stream_to_daemon(stream: BinaryIO, *, live: bool, session: str | None = None,
                     cwd: str | None = None, wait: bool = True,
                     autostart: bool = True) -> int:
    """Send every line of ``stream`` to the daemon as session ``session``; returns the
    exit code. ``live``: send each line as soon as it is read (stdin); otherwise batch."""
    sid = session or session_id()
    base = {"type": "lines", "session": sid, "cwd": cwd or os.getcwd(), "agent": "cli"}
    try:
        conn = connect(autostart=autostart)
    except DaemonUnavailable as exc:
        print(f"yomiage: {exc}", file=sys.stderr)
        return 1
    with conn:
        try:
            batch: list[str] = []
            size = 0
            for raw in iter(stream.readline, b""):
                batch.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                size += len(raw)
                if live or size >= BATCH_BYTES or len(batch) >= MAX_LINES:
                    _send(conn, {**base, "lines": batch})
                    batch, size = [], 0
            _send(conn, {**base, "lines": batch, "end": True})
            if wait:
                while not conn.request({"type": "wait", "session": sid, "timeout": 600},
                                       timeout=660).get("idle"):
                    pass
        except KeyboardInterrupt:
            try:  # noqa: SIM105 (contextlib costs a client process milliseconds)
                conn.request({"type": "stop", "session": sid}, timeout=2)
            except DaemonUnavailable:
                pass
            return 130
        except DaemonUnavailable as exc:
            print(f"yomiage: {exc}", file=sys.stderr)
            return 1
    return 0


def _send(conn: Connection, msg: dict[str, object]) -> None:
    reply = conn.request(msg)
    if not reply.get("ok"):
        raise DaemonUnavailable(f"the daemon refused the stream: {reply.get('error')}")
