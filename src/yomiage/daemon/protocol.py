"""The daemon's wire protocol: newline-delimited JSON, versioned, size-limited.

Every request is one JSON object on one line with ``"v"`` (the protocol version) and
``"type"``; the daemon answers each with exactly one line, ``{"v": 1, "ok": true, …}`` or
``{"v": 1, "ok": false, "error": "…"}``, echoing the request's ``"id"`` when it had one.
A line that is not JSON, too long, of an unknown type or with a bad field gets an error
reply and the connection is closed. docs/daemon.md is the reference; this module is the
one place that checks messages. It imports nothing but daemon/wirejson.py (CPython's C
JSON codec without the ``json`` package), so that clients stay light.
"""

from __future__ import annotations

from yomiage.daemon import wirejson

TYPE_CHECKING = False  # (not from typing: clients import this module and must start fast)
if TYPE_CHECKING:
    from typing import Any

VERSION = 1
"""The protocol version this code speaks. A request with a higher ``v`` is refused."""

MAX_LINE = 8 * 1024 * 1024
"""Bytes in one request line, newline included (a stream-json line may be megabytes)."""
MAX_REPLY = 1024 * 1024
"""Bytes in one reply line."""
MAX_LINES = 4096
"""Stream-json lines in one ``lines`` message."""
MAX_TEXT = 256 * 1024
"""Characters in one ``say`` or ``reply`` text."""
MAX_ID = 200
"""Characters in a session id, project, agent, message id or request id."""

PRIORITIES = ("alert", "reply", "tool")
"""Priority classes, most urgent first: the agent needs the user or an error; the
assistant's replies; tool briefs."""

POLICIES = ("fair", "fifo", "latest")

TYPES = frozenset({
    "ping", "lines", "reply", "say", "hook", "interrupt", "stop", "skip", "pause",
    "resume", "forget", "wait", "status", "shutdown",
})
"""Every request type of version 1 (docs/daemon.md describes each)."""

# The types a hook handler may return (a subset: no hook recursion, no shutdown).
HANDLER_TYPES = frozenset({"lines", "reply", "say", "interrupt", "stop", "skip", "forget",
                           "ping"})


class ProtocolError(ValueError):
    """A message that breaks the protocol; the text is the error reply, one line."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of UTF-8 JSON ending in a newline."""
    return wirejson.dumps(message).encode() + b"\n"


def reply_ok(request: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A success reply to ``request`` (its ``id`` echoed) carrying ``fields``."""
    out: dict[str, Any] = {"v": VERSION, "ok": True}
    if request is not None and "id" in request:
        out["id"] = request["id"]
    out.update(fields)
    return out


def reply_error(error: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error reply (one line of text) to ``request``."""
    out: dict[str, Any] = {"v": VERSION, "ok": False, "error": error}
    if request is not None and "id" in request:
        out["id"] = request["id"]
    return out


def decode(line: bytes) -> dict[str, Any]:
    """Parse and check one request line; raises ProtocolError with the reason."""
    if len(line) > MAX_LINE:
        raise ProtocolError(f"message too long ({len(line)} bytes; the limit is {MAX_LINE})")
    try:
        msg = wirejson.loads(line)
    except (ValueError, RecursionError):
        raise ProtocolError("not a JSON object") from None
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    check(msg)
    return msg


def decode_reply(line: bytes) -> dict[str, Any]:
    """Parse one reply line from the daemon; raises ProtocolError."""
    try:
        msg = wirejson.loads(line)
    except (ValueError, RecursionError):
        raise ProtocolError("the daemon's reply is not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("ok"), bool):
        raise ProtocolError("the daemon's reply is not a reply object")
    return msg


def _str(msg: dict[str, Any], key: str, *, required: bool = False, limit: int = MAX_ID,
         empty: bool = False) -> None:
    value = msg.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"{msg.get('type')}: {key!r} is required")
        return
    if not isinstance(value, str):
        raise ProtocolError(f"{msg.get('type')}: {key!r} must be a string")
    if len(value) > limit:
        raise ProtocolError(f"{msg.get('type')}: {key!r} is longer than {limit} characters")
    if not value and not empty:
        raise ProtocolError(f"{msg.get('type')}: {key!r} is empty")


def _bool(msg: dict[str, Any], key: str) -> None:
    if key in msg and not isinstance(msg[key], bool):
        raise ProtocolError(f"{msg.get('type')}: {key!r} must be true or false")


def _number(msg: dict[str, Any], key: str, low: float, high: float) -> None:
    if key not in msg:
        return
    value = msg[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not low <= value <= high:
        raise ProtocolError(f"{msg.get('type')}: {key!r} must be a number in [{low}, {high}]")


def check(msg: dict[str, Any]) -> None:
    """Raise ProtocolError unless ``msg`` is a valid request of this version."""
    v = msg.get("v", VERSION)
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ProtocolError("'v' must be a positive whole number")
    if v > VERSION:
        raise ProtocolError(f"protocol version {v} is newer than this daemon's ({VERSION}); "
                            "restart it: yomiage daemon stop")
    kind = msg.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ProtocolError(f"unknown message type {kind!r}")
    if "id" in msg and (isinstance(msg["id"], bool) or not isinstance(msg["id"], str | int)
                        or len(str(msg["id"])) > MAX_ID):
        raise ProtocolError("'id' must be a short string or number")
    for key in ("session", "project", "cwd", "agent", "message_id", "lang"):
        _str(msg, key, limit=4096 if key == "cwd" else MAX_ID)
    if "priority" in msg and msg["priority"] not in PRIORITIES:
        raise ProtocolError(f"{kind}: 'priority' must be one of {', '.join(PRIORITIES)}")
    if kind == "lines":
        _str(msg, "session", required=True)
        lines = msg.get("lines")
        if not isinstance(lines, list) or len(lines) > MAX_LINES or \
                not all(isinstance(x, str) for x in lines):
            raise ProtocolError(f"lines: 'lines' must be a list of at most {MAX_LINES} strings")
        _bool(msg, "end")
    elif kind == "reply":
        _str(msg, "session", required=True)
        _str(msg, "text", required=True, limit=MAX_TEXT, empty=True)
        _bool(msg, "complete")
    elif kind == "say":
        _str(msg, "text", required=True, limit=MAX_TEXT)
        _bool(msg, "translate")
    elif kind == "hook":
        _str(msg, "agent", required=True)
        if not isinstance(msg.get("payload"), dict):
            raise ProtocolError("hook: 'payload' must be a JSON object")
    elif kind in ("interrupt", "forget"):
        _str(msg, "session", required=True)
    elif kind == "wait":
        _str(msg, "session")
        _number(msg, "timeout", 0, 3600)


def check_handler_result(messages: Any) -> list[dict[str, Any]]:
    """The messages a hook handler returned, checked (raises ProtocolError)."""
    if not isinstance(messages, list):
        raise ProtocolError("the hook handler did not return a list")
    out: list[dict[str, Any]] = []
    for m in messages:
        if not isinstance(m, dict) or m.get("type") not in HANDLER_TYPES:
            raise ProtocolError(f"the hook handler returned an unusable message: {m!r:.80}")
        check(m)
        out.append(m)
    return out
