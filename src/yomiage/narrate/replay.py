"""Replay a recorded stream-json session at the pace an agent wrote it (a model of it).

Text streams at ~60 tokens/s, a tool result comes a while after its call, everything else
at once. Used by ``yomiage demo`` (so its latencies are what a listener of a live agent
gets) and by the pipeline benchmark's ``realtime`` mode.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from yomiage.text.events import RawLine

AGENT_CHARS_PER_SECOND = 240.0  # ~60 tokens/s of streamed text
TOOL_SECONDS = 1.5  # a tool result arrives this long after its call
OTHER_LINE_SECONDS = 0.01


def line_delay(data: bytes) -> float:
    """Seconds an agent takes to produce this line after the previous one (a model).

    A line of odd shape (fields of the wrong type) costs ``OTHER_LINE_SECONDS``."""
    try:
        return _line_delay(data)
    except (AttributeError, TypeError):
        return OTHER_LINE_SECONDS


def _line_delay(data: bytes) -> float:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return OTHER_LINE_SECONDS
    if not isinstance(obj, dict):
        return OTHER_LINE_SECONDS
    kind = obj.get("type")
    if kind == "stream_event":
        delta = (obj.get("event") or {}).get("delta") or {}
        text = delta.get("text") or delta.get("partial_json") or ""
        return max(OTHER_LINE_SECONDS, len(text) / AGENT_CHARS_PER_SECOND)
    if kind == "user":
        return TOOL_SECONDS
    if kind in ("assistant", "message"):
        msg = obj.get("message") or {}
        text = "".join(str(b.get("text", "")) for b in msg.get("content") or []
                       if isinstance(b, dict))
        return max(OTHER_LINE_SECONDS, len(text) / AGENT_CHARS_PER_SECOND)
    return OTHER_LINE_SECONDS


def schedule(lines: Sequence[bytes]) -> list[float]:
    """Arrival offsets (seconds from the start) of each line at an agent's pace.

    In partial mode the full assistant line repeats streamed text, so it costs no time.
    """
    partial = any(b'"type":"stream_event"' in ln for ln in lines)
    t, out = 0.0, []
    for data in lines:
        is_full = data.startswith(b'{"type":"assistant"')
        t += OTHER_LINE_SECONDS if partial and is_full else line_delay(data)
        out.append(t)
    return out


def replay(lines: Sequence[bytes], *, realtime: bool, gate: Any = None) -> Iterator[RawLine]:
    """Yield the lines as RawLines.

    ``realtime``: at their scheduled times; ``read_at`` is the scheduled time even when
    the consumer pulls late (the line was there). Otherwise as soon as ``gate()``
    returns (closed loop), stamped when released.
    """
    offsets = schedule(lines) if realtime else [0.0] * len(lines)
    start = time.perf_counter()
    for n, (data, off) in enumerate(zip(lines, offsets, strict=True), start=1):
        if realtime:
            due = start + off
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            yield RawLine(n, data, due)
        else:
            if gate is not None:
                gate()
            yield RawLine(n, data, time.perf_counter())
