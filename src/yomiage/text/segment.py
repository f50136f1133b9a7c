"""Incremental sentence segmenter: streamed text in, sentences out as soon as they are certain.

A sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by
whitespace; at ``。！？`` (not inside ``「…」``); and at every line break (the speech
text marks headings, paragraphs and list items with ``\\n``). These never end one: a
period inside a version, decimal or file name (``v1.2.3``, ``3.14``, ``main.py``), the
abbreviations in :data:`ABBREVIATIONS`, an ellipsis, ``etc.`` or a quoted mark
(``"??"``, ``"Stop!"``) followed by a lowercase word, and anything inside inline code
(between ``PROTECT_OPEN``/``PROTECT_CLOSE``).
A split is decided only once the character after it is known, so every way of cutting
the same text into chunks yields the same sentences. A sentence longer than
``max_chars`` is cut at its last clause boundary (``,`` ``;`` ``:`` ``、`` …) outside
brackets and inline code, else before a word that starts a clause, else at a space (never
inside brackets or code), so that speech can start early; such pieces have
``continues=True``.

Example::

    seg = Segmenter()
    seg.feed("Version 2.4")   # []
    seg.feed(".1 works. Ne")  # ["Version 2.4.1 works."]
    seg.flush()               # ["Ne"]
"""

from __future__ import annotations

import re

from yomiage.text.speech_text import PROTECT_CLOSE, PROTECT_OPEN

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
_ALL_TERM = _ASCII_TERM + _CJK_TERM + "…"
_CLOSERS = "\"')]}”’" + _CLOSE_Q
_CLAUSE = ",;:—–、，；："
_SPECIAL = re.compile(
    "[.!?。！？｡…\n" + PROTECT_OPEN + PROTECT_CLOSE + _OPEN_Q + _CLOSE_Q + _CLAUSE + "]"
)
_NON_SPACE = re.compile(r"\S")
_QUOTES = "\"'”’"  # a closing quote after the mark: the sentence goes on if lowercase follows
_WORD = re.compile(r"[A-Za-z']+")
_MIN_PIECE = 20
_BRACKET_OPEN = "([{" + _OPEN_Q + PROTECT_OPEN
_BRACKET_CLOSE = ")]}" + _CLOSE_Q + PROTECT_CLOSE
_CLAUSE_STARTS = frozenset((
    "and", "but", "or", "so", "because", "which", "that", "when", "while", "where", "if",
    "with", "from", "for", "after", "before", "since", "until", "unless", "then", "without",
))
"""Words that a long sentence may be cut before: the translator gets a clause."""
_NO_CUT_AFTER = frozenset((
    "a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "from", "with", "and", "or",
    "but", "as", "is", "are", "was", "were", "be", "my", "your", "its", "our", "their",
    "this", "that", "these", "those", "not", "no",
))


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

    Work per delta is proportional to the delta: the scan resumes where it stopped, and
    the consumed front of the buffer is dropped only now and then (amortised linear).
    """

    def __init__(self, max_chars: int = 120) -> None:
        self.max_chars = max(max_chars, _MIN_PIECE + 1)
        self._buf = ""
        self._start = 0  # where the current sentence starts in _buf
        self._pos = 0  # scan position in _buf
        self._depth = 0  # open 「『（ brackets
        self._protected = False
        self._clauses: list[int] = []  # cut points (after a clause mark) in _buf
        self._offset = 0  # chars dropped from the front of the input so far
        self._record: list[int] | None = None  # boundaries seen (find_sentence_end)

    def feed(self, delta: str) -> list[Piece]:
        """Sentences completed by ``delta``, in order (tidied, never empty)."""
        if delta:
            self._buf += delta
        return self._scan(final=False)

    def flush(self) -> list[Piece]:
        """Whatever remains, as the last sentence(s); the segmenter is then empty."""
        out = self._scan(final=True)
        if self._start < len(self._buf):
            self._emit(self._start, len(self._buf), False, out)
        self._offset += len(self._buf)
        self._buf = ""
        self._start = self._pos = self._depth = 0
        self._clauses = []
        self._protected = False
        return out

    def _skip_space(self) -> None:
        m = _NON_SPACE.search(self._buf, self._start)
        self._start = m.start() if m else len(self._buf)
        self._pos = max(self._pos, self._start)

    def _new_sentence(self, at: int) -> int:
        self._start = at
        self._skip_space()
        self._clauses = []
        self._protected = False
        return self._start

    def _compact(self) -> None:
        s = self._start
        if s and (s == len(self._buf) or (s > 4096 and 2 * s > len(self._buf))):
            self._buf = self._buf[s:]
            self._pos -= s
            self._clauses = [c - s for c in self._clauses]
            self._offset += s
            self._start = 0

    def _scan(self, final: bool) -> list[Piece]:
        out: list[Piece] = []
        buf = self._buf
        self._skip_space()
        i = self._pos
        while True:
            start = self._start
            limit = start + self.max_chars
            m = _SPECIAL.search(buf, i, limit + 1)  # bounded: never rescan a long tail
            if m is None and len(buf) > limit:
                cut = self._cut_point(buf, start, limit)
                self._emit(start, cut, True, out)
                self._start = cut
                self._skip_space()
                self._clauses = [c for c in self._clauses if c > self._start]
                i = max(i, self._start)
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
                self._emit(start, p, False, out)
                i = self._new_sentence(p + 1)
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
                    break
                if c in "、，；：" or (i < len(buf) and buf[i].isspace()):
                    self._clauses.append(i)
                continue
            end = self._sentence_end(buf, start, p, final)
            if end is None:  # undecided: wait for more text
                self._pos = p
                break
            if end < 0:
                i = -end
                continue
            self._emit(start, end, False, out)
            i = self._new_sentence(end)
        self._compact()
        return out

    def _sentence_end(self, buf: str, start: int, p: int, final: bool) -> int | None:
        """End index of the sentence whose terminator is at ``p``; None = undecided;
        a negative index (-where to resume) = not an end."""
        n = len(buf)
        j = p + 1
        cjk = buf[p] in _CJK_TERM
        while j < n and buf[j] in _ALL_TERM:
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
        self._depth = depth
        if inside:  # 「それは。」です: a quoted sentence does not end the outer one
            return -j
        if cjk:
            return j
        if j < n and not buf[j].isspace():
            return -j
        run = buf[p:j]
        if any(q in run for q in _QUOTES):  # 'Returns "??" as a', 'said "Stop!" and left'
            m = _NON_SPACE.search(buf, j)
            if m is None:
                if not final:
                    return None
            elif buf[m.start()].islower():
                return -j
        if buf[p] == "." and run.count(".") == 1:
            word = _word_before(buf, start, p)
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

    def _cut_point(self, buf: str, start: int, limit: int) -> int:
        """Where to cut a sentence longer than ``max_chars``: its last clause boundary
        outside brackets and inline code; else the last space before a word that starts
        a clause (and, which, because, from, …) in the piece's second half; else a space
        not after a word that needs the next one (the, to, of, …); else the last space."""
        lo = start + _MIN_PIECE
        end = min(limit, len(buf) - 1)
        inside = [False] * (end + 1 - start)
        depth = 0
        for j in range(start, end + 1):
            ch = buf[j]
            if ch in _BRACKET_OPEN:
                depth += 1
            elif ch in _BRACKET_CLOSE and depth:
                depth -= 1
            inside[j - start] = depth > 0
        for c in reversed(self._clauses):
            if lo <= c <= limit and not inside[c - 1 - start]:
                return c
        spaces = [k for k in range(end, lo - 1, -1) if buf[k] == " " and not inside[k - start]]
        half = start + self.max_chars // 2
        for k in spaces:
            if k >= half and _first_word(buf, k + 1, limit + 1) in _CLAUSE_STARTS:
                return k + 1
        for k in spaces:
            if _word_before(buf, start, k).strip("\"'([{") not in _NO_CUT_AFTER:
                return k + 1
        if spaces:
            return spaces[0] + 1
        k = buf.rfind(" ", lo, limit + 1)
        return k + 1 if k > 0 else limit

    def _emit(self, start: int, end: int, continues: bool, out: list[Piece]) -> None:
        if self._record is not None:
            self._record.append(self._offset + end)
        t = tidy(self._buf[start:end])
        if t and speakable(t):
            out.append(Piece(t, continues))


def _first_word(buf: str, p: int, endpos: int) -> str:
    """The word at ``p`` if it ends before ``endpos`` (what has arrived may stop there:
    the decision must not depend on how the text was cut into deltas), else ""."""
    m = _WORD.match(buf, p, endpos)
    return m.group().lower() if m and m.end() < endpos else ""


def _word_before(buf: str, start: int, p: int) -> str:
    seg = buf[max(start, p - 16) : p]
    if not seg or seg[-1].isspace():
        return ""
    return seg.rsplit(None, 1)[-1].lstrip("(\"'“‘[").lower()


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
