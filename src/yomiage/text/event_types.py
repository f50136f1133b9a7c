"""Typed events of Claude Code's stream-json and transcript lines (see ``events``).

Small mutable slot records (not frozen: they are made for every line of a busy stream,
and frozen dataclasses cost about twice as much to build).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RawLine:
    """One input line: 1-based number, bytes without the ``\\n``, perf_counter() when read."""

    line_no: int
    data: bytes
    read_at: float


@dataclass(slots=True)
class TextBlock:
    text: str


@dataclass(slots=True)
class ThinkingBlock:
    thinking: str


@dataclass(slots=True)
class RedactedThinkingBlock:
    pass


@dataclass(slots=True)
class ToolUseBlock:
    """A tool call; ``server`` marks a server tool use (web search and the like)."""

    id: str
    name: str
    input: dict[str, Any]
    server: bool = False


@dataclass(slots=True)
class ToolResultBlock:
    tool_use_id: str
    content: str
    is_error: bool = False


@dataclass(slots=True)
class OtherBlock:
    """Image blocks and block types this reader does not know."""

    type: str


Block = (
    TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock | ToolResultBlock | OtherBlock
)


@dataclass(slots=True)
class SystemEvent:
    """``system`` lines: init (a new run), task_*, hooks, status, api_retry, compaction…"""

    subtype: str
    session_id: str | None = None
    model: str | None = None


@dataclass(slots=True)
class AssistantMessage:
    """A full assistant line (stream-json, older ``message`` form, or a transcript entry)."""

    blocks: tuple[Block, ...]
    message_id: str | None = None
    model: str | None = None
    parent_tool_use_id: str | None = None
    sidechain: bool = False
    error: str | None = None

    @property
    def subagent(self) -> bool:
        return self.parent_tool_use_id is not None or self.sidechain


@dataclass(slots=True)
class UserMessage:
    """A user line: a prompt (``prompt`` set) and/or tool results."""

    prompt: str | None
    blocks: tuple[Block, ...] = ()
    parent_tool_use_id: str | None = None
    sidechain: bool = False
    meta: bool = False
    compact_summary: bool = False

    @property
    def subagent(self) -> bool:
        return self.parent_tool_use_id is not None or self.sidechain


@dataclass(slots=True)
class Result:
    """The end of a run."""

    subtype: str
    is_error: bool
    errors: tuple[str, ...] = ()
    terminal_reason: str | None = None
    api_error_status: int | None = None
    num_turns: int | None = None
    uuid: str | None = None  # the line's id: a replayed result is announced once


@dataclass(slots=True)
class RateLimit:
    status: str | None = None


@dataclass(slots=True)
class MessageStart:
    message_id: str | None
    model: str | None = None
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class BlockStart:
    """``content_block_start``; ``block`` is the (mostly empty) block being opened."""

    index: int
    block: Block
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class BlockDelta:
    """``content_block_delta``; ``kind`` is text, thinking, input_json, signature or other."""

    index: int
    kind: str
    text: str
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class BlockStop:
    index: int
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class MessageDelta:
    stop_reason: str | None = None
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class MessageStop:
    parent_tool_use_id: str | None = None


@dataclass(slots=True)
class TranscriptEntry:
    """Transcript bookkeeping: summary, file-history-snapshot, queue-operation, progress."""

    kind: str


@dataclass(slots=True)
class ConversationReset:
    pass


@dataclass(slots=True)
class Unknown:
    """A line or stream event of a type this reader does not know (ignored, counted)."""

    type: str


Event = (
    SystemEvent | AssistantMessage | UserMessage | Result | RateLimit | MessageStart | BlockStart
    | BlockDelta | BlockStop | MessageDelta | MessageStop | TranscriptEntry | ConversationReset
    | Unknown
)


@dataclass(slots=True)
class ParseStats:
    """Counts kept by :func:`parse_line` callers (see ``TextFlow``)."""

    lines: int = 0
    bad: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
