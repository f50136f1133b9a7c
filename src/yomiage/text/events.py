"""NDJSON bytes → typed events: an incremental, tolerant reader of Claude Code's output.

``read_lines`` yields each line the moment its ``\\n`` arrives (pipes with a slow writer
included); ``parse_line`` turns one line into a small typed event, or ``None`` for a
blank or bad line. A bad line — not JSON, invalid UTF-8, a nesting bomb, wrong field
types — gets one warning naming its line number; nothing here raises on any input.

Example::

    for raw in read_lines(sys.stdin.buffer):
        event = parse_line(raw)        # AssistantMessage, BlockDelta, Result, … or None
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson

from yomiage.text.event_types import (
    AssistantMessage,
    Block,
    BlockDelta,
    BlockStart,
    BlockStop,
    ConversationReset,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    OtherBlock,
    ParseStats,
    RateLimit,
    RawLine,
    RedactedThinkingBlock,
    Result,
    SystemEvent,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    TranscriptEntry,
    Unknown,
    UserMessage,
)

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is skipped with one warning when it reaches this size (never held whole).

16 MB, down from 64 MB: the largest line in the real sessions is 92 KB, and the largest
legitimate one Claude Code can write is a tool result with images (the API takes images
up to 5 MB, 6.7 MB as base64), so two such images still fit; a line at the limit costs
about three times its size while it is parsed, 48 MB here instead of 190 MB."""

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16


def read_lines(stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[RawLine]:
    """Yield every line of ``stream`` as soon as its line ending (or EOF) arrives.

    A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files); the ending is
    removed. A final line without one is yielded too. A line that reaches ``max_bytes``
    without a line ending gets one warning at that moment and is skipped up to its end
    (a stream with no line break at all, ``/dev/zero``, is read on with that one warning,
    never held in memory). Reads whatever a pipe has (``read1``), so a slow writer's line
    is yielded when it arrives. BOMs are left for :func:`parse_line` to strip.
    """
    read = getattr(stream, "read1", None) or stream.read
    clock = time.perf_counter
    n = 0
    parts: list[bytes] = []  # the current line so far
    size = 0
    skipping = False  # the current line passed max_bytes: drop it up to its end
    skip_lf = False  # the last chunk ended in \r: a \n first in the next one is its pair
    while True:
        try:
            data = read(_CHUNK)
        except (OSError, ValueError) as exc:
            log.warning("input closed while reading line %d: %s", n + 1, exc)
            return
        if not data:
            break
        if skip_lf:
            skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
        if b"\r" in data:
            skip_lf = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        segments = data.split(b"\n")
        tail = segments.pop()  # after the last line ending: the start of the next line
        for seg in segments:
            if parts:
                parts.append(seg)
                seg = b"".join(parts)
                parts = []
            size = 0
            if skipping:
                skipping = False
                continue
            n += 1
            if len(seg) > max_bytes:
                _too_long(n, max_bytes)
                continue
            yield RawLine(n, seg, clock())
        if tail and not skipping:
            size += len(tail)
            if size > max_bytes:
                n += 1
                _too_long(n, max_bytes)
                parts = []
                skipping = True
            else:
                parts.append(tail)
    if parts and not skipping:
        n += 1
        yield RawLine(n, b"".join(parts), clock())


def _too_long(line_no: int, max_bytes: int) -> None:
    log.warning("line %d: longer than %s without a line break, skipped up to its end",
                line_no, _size(max_bytes))


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n} bytes"


# ---------------------------------------------------------------------- parsing ----


class BadLine(ValueError):
    """A line with a wrong field type; the message says which."""


def _loads(data: bytes) -> Any:
    """orjson first; the stdlib (lenient UTF-8, lone surrogates, raw controls, NaN) second."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = str(exc)
        if "depth limit" in msg or "after document" in msg:
            raise
    text = data.decode("utf-8", "ignore")
    return json.loads(text, strict=False)


def _str(v: Any, what: str) -> str:
    if isinstance(v, str):
        return v
    raise BadLine(f"{what} is {type(v).__name__}, not a string")


def _opt_str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _dict(v: Any, what: str) -> dict[str, Any]:
    if isinstance(v, dict):
        return v
    raise BadLine(f"{what} is {type(v).__name__}, not an object")


def _flatten(content: Any) -> str:
    """Tool-result content (string, or list of text/image blocks) as plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""


def _block(b: Any) -> Block:
    b = _dict(b, "content block")
    kind = b.get("type")
    if kind == "text":
        return TextBlock(_str(b.get("text"), "text block's text"))
    if kind == "thinking":
        return ThinkingBlock(_str(b.get("thinking", ""), "thinking"))
    if kind == "redacted_thinking":
        return RedactedThinkingBlock()
    if kind in ("tool_use", "server_tool_use"):
        inp = b.get("input")
        return ToolUseBlock(
            _opt_str(b.get("id")) or "",
            _str(b.get("name", ""), "tool name"),
            inp if isinstance(inp, dict) else {},
            server=kind == "server_tool_use",
        )
    if kind == "tool_result":
        return ToolResultBlock(
            _opt_str(b.get("tool_use_id")) or "",
            _flatten(b.get("content")),
            b.get("is_error") is True,
        )
    return OtherBlock(kind if isinstance(kind, str) else "?")


def _blocks(content: Any) -> tuple[Block, ...]:
    if isinstance(content, str):
        return (TextBlock(content),)
    if not isinstance(content, list):
        raise BadLine(f"content is {type(content).__name__}, not a list")
    return tuple(_block(b) for b in content)


def _message(d: dict[str, Any]) -> dict[str, Any]:
    msg = d.get("message")
    if msg is None:
        return d  # the oldest form put role/content at the top level
    return _dict(msg, "message")


def _assistant(d: dict[str, Any], msg: dict[str, Any]) -> AssistantMessage:
    content = msg.get("content")
    if content is None:
        raise BadLine("assistant message has no content")
    err = d.get("error")
    return AssistantMessage(
        blocks=_blocks(content),
        message_id=_opt_str(msg.get("id")),
        model=_opt_str(msg.get("model")),
        parent_tool_use_id=_opt_str(d.get("parent_tool_use_id")),
        sidechain=d.get("isSidechain") is True,
        error=err if isinstance(err, str) else None,
    )


def _user(d: dict[str, Any], msg: dict[str, Any]) -> UserMessage:
    content = msg.get("content")
    prompt: str | None = None
    blocks: tuple[Block, ...] = ()
    if isinstance(content, str):
        prompt = content
    elif isinstance(content, list):
        blocks = tuple(_block(b) for b in content)
        texts = [b.text for b in blocks if isinstance(b, TextBlock)]
        prompt = "\n".join(texts) if texts else None
    elif content is not None:
        raise BadLine(f"user content is {type(content).__name__}")
    return UserMessage(
        prompt=prompt,
        blocks=blocks,
        parent_tool_use_id=_opt_str(d.get("parent_tool_use_id")),
        sidechain=d.get("isSidechain") is True,
        meta=d.get("isMeta") is True,
        compact_summary=d.get("isCompactSummary") is True,
    )


def _result(d: dict[str, Any]) -> Result:
    subtype = _str(d.get("subtype", ""), "result subtype")
    is_error = d.get("is_error", False)
    if not isinstance(is_error, bool):
        raise BadLine(f"result is_error is {type(is_error).__name__}")
    errors = d.get("errors") or []
    if not isinstance(errors, list):
        raise BadLine("result errors is not a list")
    turns = d.get("num_turns")
    if turns is not None and not isinstance(turns, int):
        raise BadLine("result num_turns is not a number")
    status = d.get("api_error_status")
    return Result(
        subtype=subtype,
        is_error=is_error,
        errors=tuple(e for e in errors if isinstance(e, str)),
        terminal_reason=_opt_str(d.get("terminal_reason")),
        api_error_status=status if isinstance(status, int) else None,
        num_turns=turns,
        uuid=_opt_str(d.get("uuid")),
    )


def _index(e: dict[str, Any]) -> int:
    i = e.get("index", 0)
    if isinstance(i, int) and not isinstance(i, bool):
        return i
    raise BadLine("stream event index is not a number")


_DELTA_FIELDS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "input_json_delta": ("input_json", "partial_json"),
    "signature_delta": ("signature", "signature"),
}


def _stream(d: dict[str, Any]) -> Event:
    e = d.get("event")
    if type(e) is not dict:
        raise BadLine(f"stream event is {type(e).__name__}, not an object")
    parent = d.get("parent_tool_use_id")
    if parent is not None and type(parent) is not str:
        parent = None
    kind = e.get("type")
    if kind == "content_block_delta":  # the hot path: most lines of a partial stream
        delta = e.get("delta")
        index = e.get("index", 0)
        if type(delta) is not dict or type(index) is not int:
            raise BadLine("content_block_delta without an object delta and a number index")
        spec = _DELTA_FIELDS.get(delta.get("type"))  # type: ignore[arg-type]
        if spec is None:
            return BlockDelta(index, "other", "", parent)
        text = delta.get(spec[1], "")
        if type(text) is not str:
            raise BadLine(f"delta text is {type(text).__name__}, not a string")
        return BlockDelta(index, spec[0], text, parent)
    if kind == "content_block_start":
        return BlockStart(_index(e), _block(e.get("content_block")), parent)
    if kind == "content_block_stop":
        return BlockStop(_index(e), parent)
    if kind == "message_start":
        m = e.get("message")
        msg: dict[str, Any] = m if isinstance(m, dict) else {}
        return MessageStart(_opt_str(msg.get("id")), _opt_str(msg.get("model")), parent)
    if kind == "message_delta":
        md = e.get("delta")
        stop = md.get("stop_reason") if isinstance(md, dict) else None
        return MessageDelta(_opt_str(stop), parent)
    if kind == "message_stop":
        return MessageStop(parent)
    return Unknown(f"stream_event/{kind}" if isinstance(kind, str) else "stream_event/?")


_TRANSCRIPT_KINDS = frozenset({"summary", "file-history-snapshot", "queue-operation", "progress"})


def event_from_dict(d: Any) -> Event:
    """Build the typed event for one decoded line; raises BadLine on wrong field types."""
    if not isinstance(d, dict):
        raise BadLine(f"a JSON {type(d).__name__}, not an object")
    kind = d.get("type")
    if kind == "stream_event":
        return _stream(d)
    if kind == "assistant":
        return _assistant(d, _message(d))
    if kind == "user":
        return _user(d, _message(d))
    if kind == "message":
        msg = _message(d)
        role = msg.get("role")
        if role == "assistant":
            return _assistant(d, msg)
        if role == "user":
            return _user(d, msg)
        return Unknown(f"message/{role}")
    if kind == "system":
        subtype = _opt_str(d.get("subtype")) or ""
        return SystemEvent(subtype, _opt_str(d.get("session_id")), _opt_str(d.get("model")))
    if kind == "result":
        return _result(d)
    if kind == "rate_limit_event":
        info = d.get("rate_limit_info")
        return RateLimit(_opt_str(info.get("status")) if isinstance(info, dict) else None)
    if kind in _TRANSCRIPT_KINDS:
        return TranscriptEntry(str(kind))
    if kind == "conversation_reset":
        return ConversationReset()
    if not isinstance(kind, str):
        raise BadLine("no string 'type' field")
    return Unknown(kind)


def strip_line(data: bytes) -> bytes:
    """The line without a leading BOM, trailing ``\\r`` and surrounding blanks."""
    if data[:3] == _BOM:
        data = data[3:]
    return data.strip(b" \t\r")


def parse_line(raw: RawLine, warn: Callable[[int, str], None] | None = None) -> Event | None:
    """The event on ``raw``, or None for a blank line or a bad one.

    A bad line is reported once: ``warn(line_no, why)`` when given (``TextFlow`` passes a
    rate limiter, :class:`yomiage.text.bad_lines.BadLines`), else a log warning.
    """
    data = raw.data
    if data[:3] == _BOM or data[-1:] == b"\r" or data[:1] in (b" ", b"\t"):
        data = strip_line(data)
    if not data:
        return None
    why: str
    try:
        return event_from_dict(_loads(data))
    except BadLine as exc:
        why = str(exc)
    except RecursionError:
        why = "nested too deeply"
    except (ValueError, TypeError) as exc:
        why = f"not valid JSON: {_short(exc)}"
    except Exception as exc:  # a reader of hostile input must never crash
        why = f"{type(exc).__name__}: {_short(exc)}"
    if warn is None:
        log.warning("line %d: skipped (%s)", raw.line_no, why)
    else:
        warn(raw.line_no, why)
    return None


def _short(exc: BaseException) -> str:
    if "depth limit" in str(exc):
        return "nested too deeply"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


__all__ = [
    "MAX_LINE_BYTES",
    "AssistantMessage",
    "BadLine",
    "Block",
    "BlockDelta",
    "BlockStart",
    "BlockStop",
    "ConversationReset",
    "Event",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "OtherBlock",
    "ParseStats",
    "RateLimit",
    "RawLine",
    "RedactedThinkingBlock",
    "Result",
    "SystemEvent",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "TranscriptEntry",
    "Unknown",
    "UserMessage",
    "event_from_dict",
    "parse_line",
    "read_lines",
    "strip_line",
]
