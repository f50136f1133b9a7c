"""Per-session text state inside the daemon: each agent session narrated on its own.

A :class:`Session` owns a :class:`~yomiage.text.flow.TextFlow` for stream-json lines
(narration, speech text, segmentation and its exactly-once bookkeeping across partial
deltas and final messages) and, for ``reply`` messages (hooks: the reply's text so far),
one channel per message id in a second TextFlow (the same speech text, segmentation and
caps as stream-json prose), fed only the part of the text beyond what it already had — so
a reply streamed line by line and then sent whole at the end is spoken exactly once.
No threads here: the server calls it under its lock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import PurePath

from yomiage.config import Config
from yomiage.records import Sentence, SentenceKind
from yomiage.text.events import RawLine
from yomiage.text.flow import TextFlow
from yomiage.text.segment import Segmenter, tidy

log = logging.getLogger(__name__)

MAX_REPLIES = 64
"""Message ids a session remembers (the oldest are forgotten first)."""


@dataclass
class _Reply:
    channel: int  # its channel in the session's reply flow (also its turn there)
    had: str = ""  # the reply text received so far
    complete: bool = False


def project_name(cwd: str | None, project: str | None = None) -> str:
    """The name the lead-in says: ``project``, else the last part of ``cwd``."""
    if project:
        return project
    if cwd:
        name = PurePath(cwd.rstrip("/")).name
        if name:
            return name
    return ""


@dataclass
class Session:
    """One agent session's text state and bookkeeping (see the module docstring)."""

    id: str
    cfg: Config
    cwd: str | None = None
    project: str = ""
    agent: str = ""
    voice: str | None = None
    created: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    spoken_s: float = 0.0
    sentences: int = 0
    generation: int = 0
    """Bumped by every interrupt: items of an older generation are stale."""
    flow: TextFlow = field(init=False)
    _reply_flow: TextFlow = field(init=False)
    _replies: dict[str, _Reply] = field(init=False, default_factory=dict)
    _reply_no: int = field(init=False, default=0)
    _started: dict[object, None] = field(init=False, default_factory=dict)
    _line_no: int = field(init=False, default=0)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.flow = TextFlow(self.cfg)
        self._reply_flow = TextFlow(self.cfg)

    def touch(self, cwd: str | None = None, project: str | None = None,
              agent: str | None = None) -> None:
        """Note activity, and the session's project and agent when a message names them."""
        self.last_seen = time.monotonic()
        if cwd:
            self.cwd = cwd
        if project or cwd:
            self.project = project_name(cwd or self.cwd, project) or self.project
        if agent:
            self.agent = agent

    def first_of(self, reply: object) -> bool:
        """True the first time ``reply`` (a reply's key) is asked about."""
        if reply in self._started:
            return False
        self._started[reply] = None
        while len(self._started) > MAX_REPLIES:
            del self._started[next(iter(self._started))]
        return True

    # --------------------------------------------------------------- stream-json
    def feed_lines(self, lines: list[str], end: bool = False) -> tuple[list[Sentence], bool]:
        """Sentences the stream-json ``lines`` complete, and whether a new user turn
        began in them (the caller interrupts the session's earlier speech)."""
        turn = self.flow.turn
        out: list[Sentence] = []
        new_turn = False
        for text in lines:
            self._line_no += 1
            raw = RawLine(self._line_no, text.encode("utf-8", "replace"), time.perf_counter())
            got = self.flow.feed(raw)
            if self.flow.turn > turn:
                new_turn = True
                turn = self.flow.turn
                out = [s for s in out if s.turn >= turn]  # earlier turn: cut with it
            out += got
        if end:
            out += self.flow.finish()
            self.flow = TextFlow(self.cfg)
        return out, new_turn

    # -------------------------------------------------------------------- replies
    def feed_reply(self, text: str, message_id: str = "turn", complete: bool = False,
                   kind: SentenceKind = SentenceKind.PROSE) -> list[Sentence]:
        """Sentences completed by the reply ``text`` (the whole reply so far)."""
        rep = self._replies.get(message_id)
        if rep is None:
            self._reply_no += 1
            rep = _Reply(self._reply_no)
            self._replies[message_id] = rep
            while len(self._replies) > MAX_REPLIES:
                old = self._replies.pop(next(iter(self._replies)))
                self._reply_flow.drop_channel(old.channel)
        if rep.complete:
            return []  # spoken already: a late or repeated copy
        if not text.startswith(rep.had):
            common = _common_prefix(rep.had, text)
            log.debug("session %s reply %s: text changed after %d of %d characters",
                      self.id, message_id, common, len(rep.had))
        delta = text[len(rep.had):] if len(text) > len(rep.had) else ""
        if delta:
            rep.had = text
        rep.complete = complete
        if not delta and not complete:
            return []
        # Each reply is its own turn in the reply flow: max_sentences counts per reply.
        got = self._reply_flow.feed_markdown(rep.channel, delta, end=complete,
                                             turn=rep.channel, kind=kind,
                                             message_id=message_id)
        return [self.sentence(s.text, s.kind, message_id, s.continues) for s in got
                if tidy(s.text)]

    def sentence(self, text: str, kind: SentenceKind, message_id: str | None = None,
                 continues: bool = False) -> Sentence:
        """A Sentence record of this session, stamped now."""
        now = time.perf_counter()
        self._seq += 1
        return Sentence(text=text, seq=self._seq, kind=kind, message_id=message_id,
                        turn=self.flow.turn, read_at=now, segmented_at=now,
                        continues=continues)

    def plain_sentences(self, text: str) -> list[str]:
        """``text`` (plain, not markdown) cut into sentences."""
        seg = Segmenter(self.cfg.max_clause_chars)
        return [str(p) for p in [*seg.feed(text), *seg.flush()] if tidy(str(p))]


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
