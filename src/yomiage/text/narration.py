"""Events → what is worth saying: the narration policy.

``Narrator.handle(event)`` returns :class:`Fragment` records: pieces of markdown for a
numbered *channel* (one content block, or one phrase), each tagged with its source.
The text half (``textflow``) reduces each channel's markdown to speech and cuts
sentences.

Policy (see ``Config``): main-thread assistant prose always; thinking with
``thinking``; a brief phrase per tool call with ``tools="brief"``; subagent traffic
(``parent_tool_use_id`` set or ``isSidechain``) only with ``subagents``; a failed run is
always announced (``SentenceKind.NOTICE``), a good one only with ``announce_success``, one
the user stopped never; an ``API Error: …`` message is spoken as one short notice
(:mod:`yomiage.text.api_error`), and the run's result does not repeat it; of a
compaction summary only where the work stands is spoken (:mod:`yomiage.text.compaction`).
With partial messages each block is spoken once: the deltas when they arrive, and the
repeated block of the full ``assistant`` line is then ignored; without deltas the full
line is spoken. A message replayed with the same id (``cat S S``, a resumed transcript)
is spoken once: a message start already seen opens no spoken block, and a full block
already seen for that id is skipped (a result line with a ``uuid`` seen before, too).
``turn`` goes up with every new run (``system/init``), user prompt or conversation reset,
so the pipeline can cut the previous turn's speech.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import orjson

from yomiage.config import Config
from yomiage.records import SentenceKind
from yomiage.text.api_error import api_error_phrase, status_words
from yomiage.text.compaction import compaction_digest
from yomiage.text.events import (
    AssistantMessage,
    Block,
    BlockDelta,
    BlockStart,
    BlockStop,
    ConversationReset,
    Event,
    MessageStart,
    MessageStop,
    Result,
    SystemEvent,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    UserMessage,
)
from yomiage.text.tool_phrases import tool_phrase

log = logging.getLogger(__name__)

_MAX_TOOL_JSON = 256 * 1024
_REMEMBERED_MESSAGES = 256
REPLAY_WINDOW = 65_536
"""Message starts and blocks remembered to recognise a replay (``cat S S``): about 6 MB
at most, many times the blocks of the longest real session."""


class _Seen:
    """A bounded set (first in, first out) of hashes of what has been spoken."""

    __slots__ = ("_order", "_set")

    def __init__(self) -> None:
        self._set: set[int] = set()
        self._order: deque[int] = deque()

    def add(self, key: int) -> bool:
        """Remember ``key``; False when it was already there (a replay)."""
        if key in self._set:
            return False
        self._set.add(key)
        self._order.append(key)
        if len(self._order) > REPLAY_WINDOW:
            self._set.discard(self._order.popleft())
        return True


def _block_key(message_id: str, block: Block) -> int:
    if isinstance(block, TextBlock):
        return hash((message_id, "text", block.text))
    if isinstance(block, ThinkingBlock):
        return hash((message_id, "thinking", block.thinking))
    if isinstance(block, ToolUseBlock):
        what = block.id or orjson.dumps(block.input, default=str, option=orjson.OPT_SORT_KEYS)
        return hash((message_id, "tool", block.name, what))
    return hash((message_id, "other", type(block).__name__))


@dataclass(slots=True)
class Fragment:
    """Markdown for ``channel``; ``end`` closes the channel after this text."""

    channel: int
    text: str
    end: bool
    kind: SentenceKind
    message_id: str | None
    block: int | None
    subagent: bool
    turn: int
    markdown: bool = True


@dataclass(slots=True)
class _OpenBlock:
    kind: SentenceKind | None  # None: not spoken
    channel: int
    tool: ToolUseBlock | None = None
    json_parts: list[str] = field(default_factory=list)
    json_len: int = 0


@dataclass(slots=True)
class _Stream:
    message_id: str | None
    blocks: dict[int, _OpenBlock] = field(default_factory=dict)
    replay: bool = False  # a message start seen before: its blocks are not spoken again


_RESULT_NOTICES = {
    "error_max_turns": "The run stopped: it reached its turn limit.",
    "error_during_execution": "The run failed during execution.",
    "error_max_budget_usd": "The run stopped: it reached its budget limit.",
    "error_max_structured_output_retries": "The run failed to produce valid structured output.",
}


INTERRUPT_MARK = "[Request interrupted by user"
"""How Claude Code records, as a user message, that the user stopped the run."""


def result_notice(ev: Result, announce_success: bool, interrupted: bool = False) -> str | None:
    """The sentence announcing how a run ended, or None when nothing should be said.

    A run the user stopped (``terminal_reason`` "aborted_streaming", or any failed end
    after the interrupt mark, ``interrupted``) is not announced: the user knows, and the
    silence they asked for should not be broken by "The run failed".
    """
    if ev.subtype == "success" and not ev.is_error:
        return "The run finished." if announce_success else None
    if ev.terminal_reason == "aborted_streaming" or (
            interrupted and ev.terminal_reason in (None, "aborted_tools")):
        return None
    if ev.subtype in _RESULT_NOTICES:
        return _RESULT_NOTICES[ev.subtype]
    if ev.terminal_reason == "api_error" or ev.api_error_status:
        what = status_words(ev.api_error_status)
        return f"The run ended with an API error: {what}." if what else \
            "The run ended with an API error."
    return "The run ended with an error."


class Narrator:
    """Turns events into fragments according to ``cfg``; keeps the per-stream state."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.turn = 0
        self._next_channel = 0
        self._streams: dict[str | None, _Stream] = {}
        # message id → block indices that arrived as deltas (their full copy is skipped)
        self._streamed: OrderedDict[str, set[int]] = OrderedDict()
        # message id → how many blocks its full lines have carried so far
        self._full_seen: OrderedDict[str, int] = OrderedDict()
        # message starts and full blocks already seen: a replayed message is spoken once
        self._seen = _Seen()
        self._api_error_said = False  # this turn's API error was spoken from its message
        self._interrupted = False  # the user stopped this turn (INTERRUPT_MARK seen)

    # ---------------------------------------------------------------- policy ----

    def _wants(self, kind: SentenceKind, subagent: bool) -> bool:
        if subagent and not self.cfg.subagents:
            return False
        if kind is SentenceKind.PROSE:
            return True
        if kind is SentenceKind.THINKING:
            return self.cfg.thinking
        if kind is SentenceKind.TOOL:
            return self.cfg.tools == "brief"
        return True

    def _channel(self) -> int:
        self._next_channel += 1
        return self._next_channel

    def _frag(self, channel: int, text: str, end: bool, kind: SentenceKind,
              message_id: str | None, block: int | None, subagent: bool,
              markdown: bool = True) -> Fragment:
        return Fragment(channel, text, end, kind, message_id, block, subagent, self.turn,
                        markdown)

    # ---------------------------------------------------------------- events ----

    def handle(self, ev: Event) -> list[Fragment]:
        """Fragments to speak for one event (often none)."""
        t = type(ev)
        if t is BlockDelta:
            return self._delta(ev)  # type: ignore[arg-type]
        if t is AssistantMessage:
            return self._assistant(ev)  # type: ignore[arg-type]
        if t is BlockStart:
            return self._block_start(ev)  # type: ignore[arg-type]
        if t is BlockStop:
            return self._block_stop(ev)  # type: ignore[arg-type]
        if t is MessageStart:
            return self._message_start(ev)  # type: ignore[arg-type]
        if t is MessageStop:
            return self._close_stream(ev.parent_tool_use_id)  # type: ignore[union-attr]
        if t is UserMessage:
            return self._user(ev)  # type: ignore[arg-type]
        if t is SystemEvent:
            if ev.subtype == "init":  # type: ignore[union-attr]
                return self._new_turn()
            return []
        if t is Result:
            return self._result(ev)  # type: ignore[arg-type]
        if t is ConversationReset:
            return self._new_turn()
        return []

    def finish(self) -> list[Fragment]:
        """Close every open channel (end of input)."""
        out: list[Fragment] = []
        for parent in list(self._streams):
            out += self._close_stream(parent)
        return out

    def _new_turn(self) -> list[Fragment]:
        out = self.finish()
        self.turn += 1
        self._api_error_said = False
        self._interrupted = False
        return out

    def _user(self, ev: UserMessage) -> list[Fragment]:
        if ev.subagent or ev.meta or ev.compact_summary or not ev.prompt:
            return []
        if any(not isinstance(b, TextBlock) for b in ev.blocks):
            return []  # tool results
        out = self._new_turn()
        self._interrupted = ev.prompt.lstrip().startswith(INTERRUPT_MARK)
        return out

    def _result(self, ev: Result) -> list[Fragment]:
        out = self.finish()
        text = result_notice(ev, self.cfg.announce_success, self._interrupted)
        if self._api_error_said and (ev.terminal_reason == "api_error" or ev.api_error_status):
            text = None  # already said, from the error's own message
        self._api_error_said = self._interrupted = False
        if ev.uuid and not self._seen.add(hash(("result", ev.uuid))):
            text = None  # the same result line again: a replayed stream
        if text:
            out.append(self._frag(self._channel(), text, True, SentenceKind.NOTICE,
                                  None, None, False, markdown=False))
        return out

    # ------------------------------------------------------------- streaming ----

    def _remember(self, table: OrderedDict[str, Any], key: str, default: Any) -> Any:
        if key in table:
            table.move_to_end(key)
            return table[key]
        table[key] = default
        if len(table) > _REMEMBERED_MESSAGES:
            table.popitem(last=False)
        return default

    def _message_start(self, ev: MessageStart) -> list[Fragment]:
        out = self._close_stream(ev.parent_tool_use_id)
        replay = ev.message_id is not None and not self._seen.add(hash(("start",
                                                                          ev.message_id)))
        self._streams[ev.parent_tool_use_id] = _Stream(ev.message_id, replay=replay)
        if ev.message_id:
            self._remember(self._streamed, ev.message_id, set())
        return out

    def _stream(self, parent: str | None) -> _Stream:
        st = self._streams.get(parent)
        if st is None:
            st = self._streams[parent] = _Stream(None)
        return st

    def _open(self, st: _Stream, index: int, block: Block | None, delta_kind: str,
              subagent: bool) -> _OpenBlock:
        kind: SentenceKind | None = None
        tool = None
        if isinstance(block, TextBlock) or (block is None and delta_kind == "text"):
            kind = SentenceKind.PROSE
        elif isinstance(block, ThinkingBlock) or (block is None and delta_kind == "thinking"):
            kind = SentenceKind.THINKING
        elif isinstance(block, ToolUseBlock):
            kind, tool = SentenceKind.TOOL, block
        if kind is not None and (st.replay or not self._wants(kind, subagent)):
            kind = None
        ob = _OpenBlock(kind, self._channel(), tool)
        st.blocks[index] = ob
        if st.message_id:
            self._remember(self._streamed, st.message_id, set()).add(index)
        return ob

    def _block_start(self, ev: BlockStart) -> list[Fragment]:
        parent = ev.parent_tool_use_id
        st = self._stream(parent)
        out = self._close_block(st, ev.index, parent) if ev.index in st.blocks else []
        ob = self._open(st, ev.index, ev.block, "", parent is not None)
        first = ""
        if isinstance(ev.block, TextBlock):
            first = ev.block.text
        elif isinstance(ev.block, ThinkingBlock):
            first = ev.block.thinking
        if first and ob.kind is not None:
            out.append(self._frag(ob.channel, first, False, ob.kind, st.message_id, ev.index,
                                  parent is not None))
        return out

    def _delta(self, ev: BlockDelta) -> list[Fragment]:
        parent = ev.parent_tool_use_id
        st = self._streams.get(parent)
        if st is None:
            st = self._stream(parent)
        ob = st.blocks.get(ev.index)
        if ob is None:
            ob = self._open(st, ev.index, None, ev.kind, parent is not None)
        if ob.kind is None or not ev.text:
            return []
        if ev.kind == "input_json":
            if ob.tool is not None and ob.json_len < _MAX_TOOL_JSON:
                ob.json_parts.append(ev.text)
                ob.json_len += len(ev.text)
            return []
        if (ev.kind == "text" and ob.kind is SentenceKind.PROSE) or (
            ev.kind == "thinking" and ob.kind is SentenceKind.THINKING
        ):
            return [self._frag(ob.channel, ev.text, False, ob.kind, st.message_id, ev.index,
                               parent is not None)]
        return []

    def _block_stop(self, ev: BlockStop) -> list[Fragment]:
        st = self._streams.get(ev.parent_tool_use_id)
        if st is None or ev.index not in st.blocks:
            return []
        return self._close_block(st, ev.index, ev.parent_tool_use_id)

    def _close_block(self, st: _Stream, index: int, parent: str | None) -> list[Fragment]:
        ob = st.blocks.pop(index)
        if ob.kind is None:
            return []
        subagent = parent is not None
        if ob.tool is not None:
            inp: Any = ob.tool.input
            if ob.json_parts and ob.json_len < _MAX_TOOL_JSON:
                try:
                    inp = orjson.loads("".join(ob.json_parts))
                except orjson.JSONDecodeError:
                    log.debug("tool input of block %d is not valid JSON", index)
            text = tool_phrase(ob.tool.name, inp if isinstance(inp, dict) else {}, ob.tool.server)
            return [self._frag(ob.channel, text, True, ob.kind, st.message_id, index, subagent,
                               markdown=False)]
        return [self._frag(ob.channel, "", True, ob.kind, st.message_id, index, subagent)]

    def _close_stream(self, parent: str | None) -> list[Fragment]:
        st = self._streams.pop(parent, None)
        if st is None:
            return []
        out: list[Fragment] = []
        for index in sorted(st.blocks):
            out += self._close_block(st, index, parent)
        return out

    # ------------------------------------------------------------ full lines ----

    def _assistant(self, ev: AssistantMessage) -> list[Fragment]:
        mid = ev.message_id
        streamed: set[int] = set()
        first = 0
        if mid:
            streamed = self._streamed.get(mid, streamed)
            first = self._remember(self._full_seen, mid, 0)
            self._full_seen[mid] = first + len(ev.blocks)
        subagent = ev.subagent
        out: list[Fragment] = []
        for k, block in enumerate(ev.blocks):
            index = first + k
            if mid and not self._seen.add(_block_key(mid, block)):
                continue  # the same block of the same message again: a replayed stream
            if index in streamed:
                continue  # already spoken from its deltas
            kind: SentenceKind
            if isinstance(block, TextBlock):
                kind, text, md = SentenceKind.PROSE, block.text, True
                phrase = api_error_phrase(text)
                if phrase is not None:  # no JSON body, no request id
                    kind, text, md = SentenceKind.NOTICE, phrase, False
                    self._api_error_said = not subagent
                elif "<summary>" in text:
                    text = compaction_digest(text) or ""
            elif isinstance(block, ThinkingBlock):
                kind, text, md = SentenceKind.THINKING, block.thinking, True
            elif isinstance(block, ToolUseBlock):
                kind, md = SentenceKind.TOOL, False
                text = tool_phrase(block.name, block.input, block.server)
            else:
                continue
            if text and self._wants(kind, subagent):
                out.append(self._frag(self._channel(), text, True, kind, mid, index, subagent,
                                      markdown=md))
        return out
