"""Incremental sentence segmenter: streamed text in, sentences out as soon as they are certain.

A sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by
whitespace; at ``。！？`` (not inside ``「…」``); and at every line break (the speech
text marks headings, paragraphs and list items with ``\\n``). These never end one: a
period inside a version, decimal or file name (``v1.2.3``, ``3.14``, ``main.py``), the
abbreviations in :data:`ABBREVIATIONS`, an ellipsis or ``etc.`` followed by a lowercase
word, and anything inside inline code (between ``PROTECT_OPEN``/``PROTECT_CLOSE``).
A split is decided only once the character after it is known, so every way of cutting
the same text into chunks yields the same sentences. A sentence longer than
``max_chars`` is cut at its last clause boundary (``,`` ``;`` ``:`` ``、`` …, else a
space) so that speech can start early; such pieces have ``continues=True``.

Example::

    seg = Segmenter()
    seg.feed("Version 2.4")   # []
    seg.feed(".1 works. Ne")  # ["Version 2.4.1 works."]
    seg.flush()               # ["Ne"]
"""

from __future__ import annotations

import re

from yomiage.speech_text import PROTECT_CLOSE, PROTECT_OPEN

ABBREVIATIONS = frozenset({
    "e.g", "i.e", "dr", "mr", "mrs", "ms", "prof", "vs", "cf", "st", "sr", "jr", "approx",
    "fig", "viz", "eq", "no", "nos", "resp", "incl",
})
"""Words that a period never ends (compared in lower case, without the final period)."""
MAYBE_ABBREVIATIONS = frozenset({"etc", "inc", "ltd", "co", "corp", "al", "a.m", "p.m", "u.s"})
"""Words whose period ends a sentence only when a capital (or non-letter) follows."""

_ASCII_TERM = ".!?"
_CJK_TERM = "。！？｡"
_OPEN_Q = "「『（【〈《"
_CLOSE_Q = "」』）】〉》"
_CLOSERS = "\"')]}”’" + _CLOSE_Q
_CLAUSE = ",;:—–、，；："
_SPECIAL = re.compile(
    "[.!?。！？｡…\n" + PROTECT_OPEN + PROTECT_CLOSE + _OPEN_Q + _CLOSE_Q + _CLAUSE + "]"
)
_NON_SPACE = re.compile(r"\S")
_MIN_PIECE = 20


class Piece(str):
    """A segment of text; ``continues`` marks a clause cut from a longer sentence."""

    continues: bool

    def __new__(cls, text: str, continues: bool = False) -> Piece:
        obj = super().__new__(cls, text)
        obj.continues = continues
        return obj


def tidy(text: str) -> str:
    """Sentence text without protection marks and with whitespace collapsed."""
    if PROTECT_OPEN in text or PROTECT_CLOSE in text:
        text = text.replace(PROTECT_OPEN, "").replace(PROTECT_CLOSE, "")
    return " ".join(text.split())


def speakable(text: str) -> bool:
    """True when ``text`` has at least one letter or digit."""
    return any(c.isalnum() for c in text)


class Segmenter:
    """Holds the unfinished sentence; ``feed`` returns the sentences each delta completes.

    Work per delta is proportional to the delta (the scan resumes where it stopped).
    """

    def __init__(self, max_chars: int = 120) -> None:
        self.max_chars = max(max_chars, _MIN_PIECE + 1)
        self._buf = ""
        self._pos = 0  # scan position in _buf
        self._depth = 0  # open 「『（ brackets
        self._protected = False
        self._clauses: list[int] = []  # cut points (after a clause mark) in _buf
        self._offset = 0  # chars dropped from the front of the input so far
        self._record: list[int] | None = None  # boundaries seen (find_sentence_end)

    def feed(self, delta: str) -> list[Piece]:
        """Sentences completed by ``delta``, in order (tidied, never empty)."""
        if delta:
            if self._buf:
                self._buf += delta
            else:
                self._buf = delta.lstrip()
                self._offset += len(delta) - len(self._buf)
        return self._scan(final=False)

    def flush(self) -> list[Piece]:
        """Whatever remains, as the last sentence(s); the segmenter is then empty."""
        out = self._scan(final=True)
        rest = tidy(self._buf)
        if rest and speakable(rest):
            out.append(Piece(rest))
        self._reset("")
        return out

    def _reset(self, rest: str) -> None:
        self._offset += len(self._buf) - len(rest.lstrip())
        self._buf = rest.lstrip()
        self._pos = 0
        self._clauses = []
        self._protected = False

    def _scan(self, final: bool) -> list[Piece]:
        out: list[Piece] = []
        buf = self._buf
        i = self._pos
        limit = self.max_chars
        while True:
            m = _SPECIAL.search(buf, i)
            nxt = m.start() if m else len(buf)
            if nxt > limit and len(buf) > limit:
                cut = self._cut_point(buf)
                self._emit(buf[:cut], True, out)
                self._offset += cut + len(buf[cut:]) - len(buf[cut:].lstrip())
                rest = buf[cut:]
                stripped = rest.lstrip()
                shift = cut + len(rest) - len(stripped)
                self._buf = buf = stripped
                self._clauses = [c - shift for c in self._clauses if c - shift > 0]
                i = max(i - shift, 0)
                continue
            if m is None:
                self._pos = len(buf)
                break
            p = m.start()
            c = buf[p]
            i = p + 1
            if c == PROTECT_OPEN:
                self._protected = True
                continue
            if c == PROTECT_CLOSE:
                self._protected = False
                continue
            if c == "\n":
                self._depth = 0
                self._emit(buf[:p], False, out)
                self._reset(buf[p + 1 :])
                buf, i = self._buf, 0
                continue
            if self._protected:
                continue
            if c in _OPEN_Q:
                self._depth += 1
                continue
            if c in _CLOSE_Q:
                self._depth = max(self._depth - 1, 0)
                continue
            if c in _CLAUSE:
                if i == len(buf) and not final:
                    self._pos = p
                    return out
                if c in "、，；：" or (i < len(buf) and buf[i].isspace()):
                    self._clauses.append(i)
                continue
            end = self._sentence_end(buf, p, final)
            if end is None:  # undecided: wait for more text
                self._pos = p
                return out
            if end <= 0:
                i = -end if end < 0 else i
                continue
            self._emit(buf[:end], False, out)
            self._reset(buf[end:])
            buf, i = self._buf, 0
        return out

    def _sentence_end(self, buf: str, p: int, final: bool) -> int | None:
        """End index of the sentence whose terminator is at ``p``; None = undecided;
        0 or a negative index (-where to resume) = not an end."""
        n = len(buf)
        j = p + 1
        cjk = buf[p] in _CJK_TERM
        while j < n and buf[j] in _ASCII_TERM + _CJK_TERM + "…":
            cjk = cjk or buf[j] in _CJK_TERM
            j += 1
        inside = self._depth > 0
        depth = self._depth
        while j < n and buf[j] in _CLOSERS:
            if buf[j] in _CLOSE_Q:
                depth = max(depth - 1, 0)
            j += 1
        if j == n and not final:
            return None
        if inside:  # 「それは。」です: a quoted sentence does not end the outer one
            self._depth = depth
            return -j
        self._depth = depth
        if cjk:
            return j
        if j < n and not buf[j].isspace():
            return -j
        run = buf[p:j]
        if buf[p] == "." and run.count(".") == 1:
            word = _word_before(buf, p)
            if word in ABBREVIATIONS:
                return -j
            if word not in MAYBE_ABBREVIATIONS:
                return j
        elif "..." not in run and "…" not in run:
            return j
        # an ellipsis or etc.: ends unless a lowercase word follows
        m = _NON_SPACE.search(buf, j)
        if m is None:
            return j if final else None
        return -j if buf[m.start()].islower() else j

    def _cut_point(self, buf: str) -> int:
        limit = self.max_chars
        for c in reversed(self._clauses):
            if _MIN_PIECE <= c <= limit:
                return c
        k = buf.rfind(" ", _MIN_PIECE, limit + 1)
        return k + 1 if k > 0 else limit

    def _emit(self, text: str, continues: bool, out: list[Piece]) -> None:
        if self._record is not None:
            self._record.append(self._offset + len(text))
        t = tidy(text)
        if t and speakable(t):
            out.append(Piece(t, continues))


def _word_before(buf: str, p: int) -> str:
    k = p
    lo = max(0, p - 16)
    while k > lo and not buf[k - 1].isspace():
        k -= 1
    return buf[k:p].lstrip("(\"'“‘[").lower()


def find_sentence_end(text: str, final: bool = False, max_chars: int = 120) -> int:
    """Index just past the first certain sentence boundary in ``text`` (0 if none yet).

    With ``final``, the end of ``text`` counts as a boundary. A clause cut of an
    over-long sentence counts as a boundary too.
    """
    seg = Segmenter(max_chars)
    seg._record = []
    seg.feed(text)
    if not seg._record and final:
        seg._scan(final=True)
        if not seg._record and text.strip():
            return len(text)
    return seg._record[0] if seg._record else 0
