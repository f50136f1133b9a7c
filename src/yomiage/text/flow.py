"""The text half glued together: lines → events → narration → speech text → sentences.

``TextFlow`` is what the pipeline's reader thread drives, one line at a time::

    flow = TextFlow(cfg)
    for raw in read_lines(stream):
        for sentence in flow.feed(raw):   # Sentence records, seq 0, 1, 2, …
            ...
    flow.finish()

``run_text`` is ``yomiage text FILE|-``: it prints each sentence the moment the line that
completes it has been read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from yomiage.config import Config
from yomiage.records import Sentence, SentenceKind
from yomiage.text.bad_lines import BadLines
from yomiage.text.bounds import (
    BLOCK_NOTICE,
    MAX_BLOCK_CHARS,
    MAX_RAW_WORD_CHARS,
    MAX_SENTENCE_CHARS,
    RAW_WORD_NOTICE,
    SENTENCE_NOTICE,
    WordCap,
)
from yomiage.text.events import ParseStats, RawLine, Unknown, parse_line
from yomiage.text.narration import Fragment, Narrator
from yomiage.text.sanitize import StreamSanitizer
from yomiage.text.segment import Piece, Segmenter, speakable, tidy
from yomiage.text.speech_text import SpeechText

log = logging.getLogger(__name__)

_SLICE = 1 << 16
"""Markdown is sanitized and capped in slices of this many characters."""
CODE_HEAVY_MIN = 400
"""With ``skip_code_heavy``, a block with at least this much code and three times more
code than prose is cut off (and one notice says so)."""


@dataclass(slots=True)
class _Channel:
    speech: SpeechText | None  # None: plain text (tool phrases, notices)
    seg: Segmenter
    frag: Fragment
    muted: bool = False
    clean: StreamSanitizer = field(default_factory=StreamSanitizer)  # no escapes in speech
    words: WordCap = field(default_factory=WordCap)  # no endless word spoken
    raw_words: WordCap = field(default_factory=lambda: WordCap(MAX_RAW_WORD_CHARS,
                                                                 RAW_WORD_NOTICE))
    over: bool = False  # the block reached MAX_BLOCK_CHARS
    fed: int = 0  # markdown characters read (MAX_BLOCK_CHARS)
    sentence: int = 0  # characters of the current sentence's pieces (MAX_SENTENCE_CHARS)
    cutting: bool = False  # the rest of an over-long sentence is being skipped


class TextFlow:
    """Stateful text stage: feed raw lines, get the sentences they complete."""

    def __init__(self, cfg: Config, clock: Callable[[], float] = time.perf_counter) -> None:
        self.cfg = cfg
        self.stats = ParseStats()
        self._bad = BadLines()  # bad-line warnings, rate-limited
        self._narrator = Narrator(cfg)
        self._clock = clock
        self._channels: dict[int, _Channel] = {}
        self._seq = 0
        self._turn_count: dict[int, int] = {}
        self._last = RawLine(0, b"", 0.0)

    @property
    def turn(self) -> int:
        """The current turn number (see ``Sentence.turn``)."""
        return self._narrator.turn

    def feed(self, raw: RawLine) -> list[Sentence]:
        """Sentences completed by this line, in order."""
        self._last = raw
        self.stats.lines += 1
        event = parse_line(raw, self._bad)
        if event is None:
            if raw.data.strip(b" \t\r\xef\xbb\xbf"):
                self.stats.bad += 1
            return []
        if self._bad.in_run:
            self._bad.good()
        if type(event) is Unknown:
            u = self.stats.unknown
            u[event.type] = u.get(event.type, 0) + 1
            return []
        frags = self._narrator.handle(event)
        if not frags:
            return []
        out: list[Sentence] = []
        for f in frags:
            self._fragment(f, raw, out)
        return out

    def feed_markdown(self, channel: int, markdown: str, *, end: bool, turn: int,
                      kind: SentenceKind = SentenceKind.PROSE,
                      message_id: str | None = None) -> list[Sentence]:
        """Sentences completed by ``markdown`` appended to ``channel``: text that does not
        come as stream-json (a hook's reply) through the same speech text, segmentation
        and caps as stream-json prose — block and sentence lengths, ``max_sentences``
        (counted per ``turn``) and ``skip_code_heavy``. ``end`` closes the channel.
        Channels here must not be ones stream-json lines use (a flow of its own)."""
        raw = RawLine(0, b"", self._clock())
        self._last = raw
        out: list[Sentence] = []
        self._fragment(Fragment(channel, markdown, end, kind, message_id, None, False, turn),
                       raw, out)
        return out

    def drop_channel(self, channel: int) -> None:
        """Forget an open :meth:`feed_markdown` channel and the text it still holds."""
        self._channels.pop(channel, None)

    def finish(self) -> list[Sentence]:
        """Sentences still held at the end of the input."""
        out: list[Sentence] = []
        for f in self._narrator.finish():
            self._fragment(f, self._last, out)
        for ch_id in list(self._channels):
            ch = self._channels.pop(ch_id)
            self._pieces(ch, self._flush(ch), self._last, out)
        self._bad.finish()
        if self.stats.bad or self.stats.unknown:
            log.debug("%d lines, %d skipped, unknown types: %s", self.stats.lines,
                      self.stats.bad, self.stats.unknown)
        return out

    # ------------------------------------------------------------------------------

    def _fragment(self, f: Fragment, raw: RawLine, out: list[Sentence]) -> None:
        ch = self._channels.get(f.channel)
        if ch is None:
            speech = SpeechText(self.cfg.code_notice) if f.markdown else None
            ch = _Channel(speech, Segmenter(self.cfg.max_clause_chars), f)
            if f.end and speech is not None and self.cfg.skip_code_heavy and \
                    _code_heavy(f.text[:MAX_BLOCK_CHARS]):
                ch.muted = True
                self._notice_code(f, raw, out)
            if not f.end:
                self._channels[f.channel] = ch
        elif f.end:
            del self._channels[f.channel]
        if ch.muted:
            return
        pieces: list[Piece] = []
        text, over = self._read(ch, f.text)
        if text:
            text = ch.speech.feed(text) if ch.speech is not None else text
            if text:
                text = ch.words.feed(text)
                if text:
                    pieces = ch.seg.feed(text)
        if f.end or over:
            skipping = ch.words.skipping
            pieces += self._flush(ch)
            over = over or ch.over
        self._pieces(ch, pieces, raw, out)
        if over:
            ch.muted = True
            if not (skipping or ch.cutting):  # one notice for one long thing
                self._emit(BLOCK_NOTICE, SentenceKind.NOTICE, f, raw, out)
            return
        sp = ch.speech
        if sp is not None and not f.end and self.cfg.skip_code_heavy and \
                sp.code_chars >= CODE_HEAVY_MIN and sp.code_chars > 3 * sp.prose_chars:
            ch.muted = True
            self._notice_code(f, raw, out)

    def _flush(self, ch: _Channel) -> list[Piece]:
        if ch.muted:
            return []
        tail = ch.clean.flush()
        tail = (ch.raw_words.feed(tail) if tail else "") + ch.raw_words.flush()
        tail, ch.over = self._take(ch, tail)
        if ch.speech is not None:
            tail = (ch.speech.feed(tail) if tail else "") + ch.speech.flush()
        tail = (ch.words.feed(tail) if tail else "") + ch.words.flush()
        pieces = ch.seg.feed(tail) if tail else []
        return pieces + ch.seg.flush()

    def _read(self, ch: _Channel, markdown: str) -> tuple[str, bool]:
        """``markdown`` sanitized and raw-word capped, up to what the block may still read;
        True when the block is full. Works in slices, so a megabyte costs only what is read
        (and a linear scan over an over-long word)."""
        parts: list[str] = []
        over = False
        for i in range(0, len(markdown), _SLICE):
            part, over = self._take(ch, ch.raw_words.feed(ch.clean.feed(markdown[i:i + _SLICE])))
            parts.append(part)
            if over:
                break
        return "".join(parts), over

    @staticmethod
    def _take(ch: _Channel, text: str) -> tuple[str, bool]:
        """``text`` cut to what the block may still read (MAX_BLOCK_CHARS); True if cut."""
        room = MAX_BLOCK_CHARS - ch.fed
        over = len(text) > room
        if over:
            text = text[:max(room, 0)]
        ch.fed += len(text)
        return text, over

    def _notice_code(self, f: Fragment, raw: RawLine, out: list[Sentence]) -> None:
        self._emit("Skipping a reply that is mostly code.", SentenceKind.NOTICE, f, raw, out)

    def _pieces(self, ch: _Channel, pieces: list[Piece], raw: RawLine,
                out: list[Sentence]) -> None:
        f = ch.frag
        for p in pieces:
            if ch.cutting:  # the rest of an over-long sentence
                ch.cutting = p.continues
                continue
            if p.continues:
                ch.sentence += len(p)
                if ch.sentence > MAX_SENTENCE_CHARS:
                    ch.cutting, ch.sentence = True, 0
                    self._emit(SENTENCE_NOTICE, SentenceKind.NOTICE, f, raw, out)
                    continue
            else:
                ch.sentence = 0
            if f.kind is SentenceKind.PROSE and self.cfg.max_sentences > 0:
                n = self._turn_count.get(f.turn, 0) + 1
                self._turn_count[f.turn] = n
                if n > self.cfg.max_sentences:
                    if n == self.cfg.max_sentences + 1:
                        self._emit("Skipping the rest of this reply.", SentenceKind.NOTICE, f,
                                   raw, out)
                    continue
            self._emit(p, f.kind, f, raw, out, p.continues)

    def _emit(self, text: str, kind: SentenceKind, f: Fragment, raw: RawLine,
              out: list[Sentence], continues: bool = False) -> None:
        out.append(Sentence(
            text=str(text), seq=self._seq, kind=kind, message_id=f.message_id, block=f.block,
            subagent=f.subagent, turn=f.turn, line_no=raw.line_no, read_at=raw.read_at,
            segmented_at=self._clock(), continues=continues,
        ))
        self._seq += 1


def _code_heavy(markdown: str) -> bool:
    probe = SpeechText()
    spoken = tidy(probe.feed(markdown) + probe.flush())
    return probe.code_chars >= CODE_HEAVY_MIN and probe.code_chars > 3 * len(spoken)


def iter_sentences(lines: Iterable[RawLine], cfg: Config) -> Iterator[Sentence]:
    """Every sentence the lines produce, each yielded as soon as its line is read."""
    flow = TextFlow(cfg)
    for raw in lines:
        yield from flow.feed(raw)
    yield from flow.finish()


def sentence_json(s: Sentence) -> dict[str, object]:
    """The ``yomiage text --json`` object for one sentence."""
    return {
        "seq": s.seq, "text": s.text, "kind": s.kind.value, "message_id": s.message_id,
        "block": s.block, "subagent": s.subagent, "turn": s.turn, "line_no": s.line_no,
        "read_at": s.read_at, "segmented_at": s.segmented_at, "continues": s.continues,
    }


__all__ = ["TextFlow", "iter_sentences", "sentence_json", "speakable"]
