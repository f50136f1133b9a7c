"""Loaded by the network test's subprocesses (on PYTHONPATH): records every outbound
connection attempt and name lookup, and every import of a network-capable engine.

Records go as JSON lines to $YOMIAGE_NET_AUDIT. Connections to local (AF_UNIX) sockets
are not recorded. Nothing is blocked: the test decides what is allowed.
"""

from __future__ import annotations

import json
import os
import socket
import sys

_LOG = os.environ.get("YOMIAGE_NET_AUDIT")


def _record(event: str, detail: object) -> None:
    if not _LOG:
        return
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": event, "detail": repr(detail), "argv": sys.argv}) + "\n")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.getaddrinfo":
        _record(event, args[:2])
    elif event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) != getattr(socket, "AF_UNIX", None):
            _record(event, address)
    elif event == "import" and args and args[0] in ("openvino", "huggingface_hub"):
        _record("import", args[0])


if _LOG:
    sys.addaudithook(_hook)
