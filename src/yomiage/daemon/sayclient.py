"""`yomiage say TEXT --daemon`: hand one line to the daemon (light: standard library)."""

from __future__ import annotations

import os
import sys

from yomiage.daemon.client import DaemonUnavailable, send
from yomiage.daemon.protocol import PRIORITIES


def say_via_daemon(text: str, *, lang: str | None = None, session: str | None = None,
                   priority: str | None = None, cwd: str | None = None) -> int:
    """Queue ``text`` on the daemon (starting one if needed); returns the exit code.

    The text is spoken as it is, in ``lang`` (default: the listener's language)."""
    text = text.strip()
    if not text:
        print("yomiage: say: nothing to say (the text is empty)", file=sys.stderr)
        return 2
    if priority is not None and priority not in PRIORITIES:
        print(f"yomiage: say: --priority must be one of {', '.join(PRIORITIES)}",
              file=sys.stderr)
        return 2
    msg: dict[str, object] = {"type": "say", "text": text, "agent": "cli",
                              "cwd": cwd or os.getcwd()}
    for key, value in (("lang", lang), ("session", session), ("priority", priority)):
        if value:
            msg[key] = value
    try:
        reply = send(msg)
    except DaemonUnavailable as exc:
        print(f"yomiage: say: {exc}", file=sys.stderr)
        return 1
    if not reply.get("ok"):
        print(f"yomiage: say: the daemon refused: {reply.get('error')}", file=sys.stderr)
        return 1
    return 0
