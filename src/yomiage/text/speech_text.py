"""Markdown/code/URLs/paths → speakable text, incrementally.

``SpeechText.feed(delta)`` takes markdown split anywhere (inside a code fence, an inline
code span, a URL, an emoji sequence) and returns the speakable text that is already
certain, so a sentence can complete as soon as its end has arrived; nothing waits for
the end of the paragraph. The output is meant for :mod:`yomiage.text.segment`:

* ``"\\n"`` marks a hard boundary (end of a heading, paragraph or list item);
* inline code is wrapped in :data:`PROTECT_OPEN`/:data:`PROTECT_CLOSE` so that the
  segmenter never ends a sentence inside it (``Use the `?` operator``); the segmenter
  removes the markers.

Rules: headings, emphasis, lists and quotes become plain sentences (a list item's or a
heading's leading number is not read); fenced code and
tables are dropped (announced, "Code omitted." / "Table omitted.", where a sentence
ending in ":" promised them, or always / never: ``code_notice``); tables are dropped
rather than read row by row because cells are fragments that make no sentence when
heard; ``[text](url)`` → text; a bare or ``<…>`` URL → its host; a path → its last part
and ``file.py:12-20`` → "file.py, lines 12 to 20"; inline code is spoken by category
(:mod:`yomiage.text.code_speech`: a call → its name, a tuple → its words, a long
expression → "this code"); a hard line break (two spaces or a backslash before the
newline) ends the item like a paragraph break; ``→`` between two terms is read "to";
emoji, zero-width and decorative symbols are removed; controls and line separators
become spaces; XML-ish wrapper tags (``<summary>``) are removed; ``<system-reminder>``
and ``<analysis>`` blocks, ``Co-Authored-By:`` and ``🤖 Generated with`` lines are never
spoken.

Example::

    st = SpeechText()
    st.feed("## Steps\\n\\n1. Edit `src/app/main.py`")  # → "Steps\\n" + "\\ue000main.py\\ue001"…
    st.flush()
"""

from __future__ import annotations

import re

from yomiage.text.code_speech import (
    LONG_CODE,
    PROTECT_CLOSE,
    PROTECT_OPEN,
    is_japanese,
    path_name,
    url_host,
)
from yomiage.text.speech_inline import (
    _ROBOT,
    HOLD_MAX,
    clean_chars,
    reduce_inline,
    safe_end,
)

# ------------------------------------------------------------------- line starts ----

_LEAD_WS = re.compile(r"[ \t]*(?:>[ \t]*)*")
_FENCE = re.compile(r"(`{3,}|~{3,})")
_HEADING = re.compile(r"#{1,6}(?:[ \t]+|$)")
_BULLET = re.compile(r"[-*+•→⇒][ \t]+")
_ORDERED = re.compile(r"\d{1,9}[.)][ \t]+")
_CHECKBOX = re.compile(r"\[[ xX]\][ \t]+")
_ONLY_RULE = re.compile(r"[-*_=+ \t]*")
_FENCE_LINE = {c: re.compile("(?m)^[ \t>]*" + re.escape(c)) for c in "`~"}
_DROP_PREFIXES = ("co-authored-by:", _ROBOT + " generated with")


def _is_prefix(rest: str, complete: bool, *patterns: str) -> bool:
    low = rest.lower()
    return not complete and any(p.startswith(low) for p in patterns)


def classify(s: str, complete: bool) -> tuple[str, int] | None:
    """Kind of the line beginning ``s`` and where its text starts, or None (need more).

    Kinds: blank, heading, item, para, fence, table, drop. ``complete`` says that
    ``s`` is the whole line.
    """
    lead = _LEAD_WS.match(s)
    k = lead.end() if lead else 0
    rest = s[k:]
    if not rest:
        return ("blank", k) if complete else None
    c = rest[0]
    if c in "`~":
        m = _FENCE.match(rest)
        if m and (m.end() < len(rest) or complete):
            return ("fence", k)
        if not complete and rest == c * len(rest):
            return None
    if c == "#":
        m = _HEADING.match(rest)
        if m and (m.end() < len(rest) or complete):
            body = rest[m.end() :]  # "### 1. Setup": the number goes, as in a list
            n = _ORDERED.match(body)
            if n:
                return ("heading", k + m.end() + n.end())
            if not complete and re.fullmatch(r"\d{1,9}[.)]?", body):
                return None
            return ("heading", k + m.end())
        if m and not complete:
            return None
        if not complete and rest == "#" * len(rest) and len(rest) <= 6:
            return None
    if c == "|":
        return ("table", k)
    if c in "-*+_=•→⇒":
        m = _BULLET.match(rest)
        if m:
            body = rest[m.end() :]
            if _ONLY_RULE.fullmatch(body):
                if not complete:
                    return None
                if c in "-*_" and len(rest.replace(" ", "")) >= 3:
                    return ("drop", k)
            return _item(s, k + m.end(), complete)
        if _ONLY_RULE.fullmatch(rest):
            if not complete:
                return None
            return ("drop", k) if len(rest.strip()) >= 3 or rest.strip() in "-*+" else ("para", k)
    if c.isdigit():
        m = _ORDERED.match(rest)
        if m:
            return _item(s, k + m.end(), complete)
        if not complete and re.fullmatch(r"\d{1,9}[.)]?", rest):
            return None
    if c in "cC" + _ROBOT:
        low = rest.lower()
        if any(low.startswith(p) for p in _DROP_PREFIXES):
            return ("drop", k)
        if _is_prefix(rest, complete, *_DROP_PREFIXES):
            return None
    return ("para", k)


def _item(s: str, start: int, complete: bool) -> tuple[str, int] | None:
    body = s[start:]
    m = _CHECKBOX.match(body)
    if m:
        return ("item", start + m.end())
    if not complete and body and "[x] ".startswith(body.lower().replace(" ", "x", 1)[:4]) \
            and len(body) < 4:
        return None
    return ("item", start)


# ------------------------------------------------------------------ tag stripper ----

_NOTICE = {("code", False): "Code omitted.", ("code", True): "コードは省略します。",
           ("table", False): "Table omitted.", ("table", True): "表は省略します。"}
_DROPPED_BLOCKS = (("<system-reminder>", "</system-reminder>"), ("<analysis>", "</analysis>"))
"""Blocks never spoken: reminders injected into the conversation, and the ``<analysis>``
scratch pad of a compaction summary (a chronological retelling of what the listener
already heard; the ``<summary>`` that follows it is spoken, its tags removed)."""


class _TagStripper:
    """Removes the :data:`_DROPPED_BLOCKS` (``<system-reminder>…</system-reminder>``, …)
    from a stream of deltas."""

    __slots__ = ("_close", "_held")

    def __init__(self) -> None:
        self._held = ""
        self._close = ""  # the closing tag awaited, "" outside a dropped block

    def feed(self, s: str, final: bool = False) -> str:
        if self._held:
            s, self._held = self._held + s, ""
        elif not self._close and "<" not in s:
            return s
        out: list[str] = []
        i, n = 0, len(s)  # an index, not slices: linear on a line of a million "<"
        while i < n:
            if self._close:
                j = s.find(self._close, i)
                if j < 0:
                    if not final:
                        tail = s[max(i, n - len(self._close)):]
                        self._held = _tail_prefix(tail, self._close)
                    return "".join(out)
                i = j + len(self._close)
                self._close = ""
                continue
            j = s.find("<", i)
            if j < 0:
                out.append(s[i:])
                break
            out.append(s[i:j])
            for open_tag, close_tag in _DROPPED_BLOCKS:
                if s.startswith(open_tag, j):
                    self._close = close_tag
                    i = j + len(open_tag)
                    break
            else:
                if not final and any(n - j < len(o) and o.startswith(s[j:])
                                     for o, _ in _DROPPED_BLOCKS):
                    self._held = s[j:]
                    break
                out.append("<")
                i = j + 1
        return "".join(out)


def _tail_prefix(s: str, tag: str) -> str:
    for n in range(min(len(tag) - 1, len(s)), 0, -1):
        if tag.startswith(s[-n:]):
            return s[-n:]
    return ""


# ------------------------------------------------------------------- SpeechText ----

_START, _TEXT, _DROPLINE, _CODE_START, _CODE_SKIP = range(5)


class SpeechText:
    """Incremental markdown → speech converter for one content block.

    Attributes:
        code_chars: characters of fenced code skipped so far.
        prose_chars: characters of text emitted so far.
    """

    def __init__(self, code_notice: bool | str = "auto") -> None:
        """``code_notice``: where a skipped code block or table is announced ("Code
        omitted." / "Table omitted.", in Japanese in a Japanese block): "auto" = only
        right after text ending in a colon, which promised the listener something, and
        once a block of text; "always" (or True); "never" (or False)."""
        if isinstance(code_notice, bool):
            code_notice = "always" if code_notice else "never"
        self.code_notice = code_notice
        self._last = ""  # the last character of speech emitted (":" promises what follows)
        self._announced = False  # a skipped block announced in this block of text
        self.code_chars = 0
        self.prose_chars = 0
        self._tags = _TagStripper()
        self._buf = ""  # unprocessed text of the current line
        self._mode = _START
        self._open = False  # text emitted since the last hard boundary
        self._heading = False
        self._fence = ""
        self._table = False
        self._tail = ""  # the last two characters of the line's text already emitted
        self._ja = False  # Japanese seen in this block: words added for code are Japanese

    def feed(self, delta: str) -> str:
        """Speakable text that ``delta`` made certain (possibly empty)."""
        return self._run(delta, final=False)

    def flush(self) -> str:
        """Everything still held, at the end of the block."""
        out = self._run("", final=True)
        self._tags = _TagStripper()
        return out

    def _run(self, delta: str, final: bool) -> str:
        text = self._tags.feed(clean_chars(delta, keep_robot=True), final)
        if not self._ja and not text.isascii():
            self._ja = is_japanese(text)
        ja = self._ja
        buf = self._buf + text if self._buf else text
        out: list[str] = []
        pos = 0
        n = len(buf)
        while pos < n:
            nl = buf.find("\n", pos)
            complete = nl >= 0 or final
            end = nl if nl >= 0 else n
            mode = self._mode
            if mode == _CODE_START:  # jump over code lines that cannot close the fence
                m = _FENCE_LINE[self._fence[0]].search(buf, pos)
                skip_to = m.start() if m else (n if final else buf.rfind("\n", pos) + 1)
                if skip_to > pos:
                    self.code_chars += skip_to - pos
                    pos = skip_to
                    continue
            if mode in (_START, _CODE_START):
                got = classify(buf[pos:end], complete)
                if got is None:
                    break
                pos = self._start_line(got, buf, pos, end, out)
                continue
            if mode == _TEXT:
                if nl < 0 and not final:
                    cut = pos + safe_end(buf[pos:end])
                    if end - cut > HOLD_MAX:  # an unclosed ` [ or <: stop waiting for it
                        k = max(buf.rfind(" ", cut, end), buf.rfind("\t", cut, end))
                        cut = k + 1 if k >= cut else cut
                    if cut > pos:
                        self._tail = (self._tail + buf[max(pos, cut - 2) : cut])[-2:]
                        self._emit(reduce_inline(buf[pos:cut], ja), out)
                        pos = cut
                    break
                line = buf[pos:end]
                hard = False
                if nl >= 0:  # a hard line break: two spaces or a backslash before it
                    if line.endswith("\\") and not line.endswith("\\\\"):
                        line, hard = line[:-1], True
                    else:
                        hard = line.endswith("  ") or (
                            len(line) < 2 and (self._tail + line).endswith("  "))
                self._emit(reduce_inline(line, ja), out)
                self._end_line(out, hard)
                pos = end + 1 if nl >= 0 else end
                if nl < 0:
                    break
                continue
            # dropped line or code
            if mode == _CODE_SKIP:
                self.code_chars += end - pos
            if nl < 0:
                pos = n
                break
            pos = nl + 1
            self._mode = _CODE_START if mode == _CODE_SKIP else _START
        self._buf = buf[pos:] if pos < n else ""
        if final:
            if self._buf:  # an unfinished line start: read it as text
                self._emit(reduce_inline(self._buf, ja), out)
                self._buf = ""
            self._mode = _START
            self._open = False
            self._heading = False
            self._tail = ""
            self._ja = False
            self._last = ""
            self._announced = False
        return "".join(out)

    def _start_line(self, got: tuple[str, int], buf: str, pos: int, end: int,
                    out: list[str]) -> int:
        kind, start = got
        if self._mode == _CODE_START:
            rest = buf[pos + start : end].strip()
            if kind == "fence" and rest.startswith(self._fence) and \
                    rest.strip(self._fence[0]) == "":
                self._mode = _DROPLINE
            else:
                self._mode = _CODE_SKIP
            return pos
        if kind != "table" and kind != "blank":
            self._table = False
        if kind == "para" and self._open and not self._heading:
            self._mode = _TEXT  # a soft line break: the paragraph goes on
            return pos + start
        if self._open:
            out.append("\n")
            self._open = False
        if kind == "blank":
            self._mode = _DROPLINE
            return pos
        if kind in ("heading", "item", "para"):
            self._mode = _TEXT
            self._open = True
            self._heading = kind == "heading"
            return pos + start
        if kind == "fence":
            m = _FENCE.match(buf, pos + start)
            self._fence = m.group() if m else "```"
            self._mode = _CODE_SKIP
            if self._announce():
                out.append(_NOTICE["code", self._ja] + "\n")
            return pos
        if kind == "table" and not self._table and self._announce():
            out.append(_NOTICE["table", self._ja] + "\n")
        self._table = kind == "table"
        self._mode = _DROPLINE
        return pos

    def _announce(self) -> bool:
        """Whether a block skipped here is announced (see ``code_notice``; "auto" says it
        once a block of text: a reply that walks through five snippets is not
        interrupted five times)."""
        said = self.code_notice == "always" or (
            self.code_notice == "auto" and self._last in (":", "：") and not self._announced)
        self._announced |= said
        self._last = ""
        return said

    def _end_line(self, out: list[str], hard: bool = False) -> None:
        self._tail = ""
        if self._heading or hard:
            out.append("\n")
            self._open = False
            self._heading = False
        else:
            out.append(" ")
        self._mode = _START

    def _emit(self, text: str, out: list[str]) -> None:
        if text:
            self.prose_chars += len(text)
            if not text.isspace():
                self._last = text.rstrip()[-1]
            out.append(text)


__all__ = [
    "HOLD_MAX", "LONG_CODE", "PROTECT_CLOSE", "PROTECT_OPEN", "SpeechText", "classify",
    "clean_chars", "path_name", "reduce_inline", "safe_end", "url_host",
]
