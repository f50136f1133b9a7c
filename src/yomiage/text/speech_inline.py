"""Inline markdown → speakable words: code spans, links, URLs, paths, emphasis, emoji.

Pure functions on complete pieces of one line; ``safe_end`` tells the streaming
converter (``speech_text.SpeechText``) how much of a partial line may be reduced now.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from yomiage.text.code_speech import (
    is_japanese,
    shorten,
    speak_code,
    url_host,
)

HOLD_MAX = 400
"""An unclosed inline span (`` ` `` ``[`` ``<``) held longer than this many characters is
released as plain words, so one stray backtick cannot hold a whole line's speech."""

# Emoji, pictographs, dingbats, arrows, box drawing, shapes, flags, tags, keycaps,
# variation selectors, zero-width/format characters, BOM, private use, lone surrogates.
_DROP = re.compile(
    "[\U0001f000-\U0001faff\u2190\u2191\u2193-\u21d1\u21d3-\u21ff\u2300-\u23ff\u2500-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\ufe00-\ufe0f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\u00ad\u20e3\u3030\u303d"
    "\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff\ud800-\udfff]+"
)
_ROBOT = "\U0001f916"
_TO_SPACE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean_chars(text: str, keep_robot: bool = False) -> str:
    """Remove emoji and invisible characters; turn controls and separators into spaces."""
    if text.isascii():
        return _TO_SPACE.sub(" ", text) if not text.isprintable() else text
    if keep_robot and _ROBOT in text:
        parts = text.split(_ROBOT)
        return _ROBOT.join(clean_chars(p) for p in parts)
    return _TO_SPACE.sub(" ", _DROP.sub("", text))


# ------------------------------------------------------------------ inline text ----

_INLINE = re.compile(
    r"(?P<ticks>`+)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)"
    # (no "[" inside [...], "(" only paired inside (...), no "<" inside <...>: each try
    # stops at the next opener, so a line of a million "[" or "<" is linear, not quadratic)
    r"|!\[[^\[\]]*\]\((?:[^()]|\([^()]*\))*\)"
    r"|\[(?P<ltext>[^\[\]]+)\](?:\((?:[^()]|\([^()]*\))*\)|\[[^\[\]]*\])"
    r"|<(?P<auto>(?:https?|ftp)://[^<>\s]+|www\.[^<>\s]+)>"
    r"|(?P<tag><(?:(?i:/?(?:br|p|div|span|details|summary|sub|sup|kbd|b|i|u|s|em|strong|code"
    r"|pre|img|a|hr|ul|ol|li|table|thead|tbody|tr|td|th|h[1-6]|small|mark|del|ins|center)\b"
    r"[^<>]*>)"
    # XML-ish wrapper tags an agent writes around text (<analysis>, <command-name>); an
    # opening one not after a word character, so Vec<u8> and Option<T> stay
    r"|(?<![\w<]<)[a-z][a-z0-9]{2,}(?:[-_][a-z0-9]+)*>|/[a-z][a-z0-9]{2,}(?:[-_][a-z0-9]+)*>))"
    # a whole word that some rule may change (emphasis, URL, path, escape, entity, …);
    # plain words between matches are copied as they are
    "|(?P<word>(?<![^\\s`\\[<])[^\\s`\\[<]*(?:[*_~\\]>\\\\/&#\U0001f916]|www\\.)[^\\s`\\[<]*)"
    r"|(?P<stray>[`\[<])"
)
_EMPH = re.compile(r"\*\*|__|~~")
_LEAD = re.compile(r"[(\"'“‘*_~]+")
_TRAIL = re.compile(r"[.,;:!?)\"'”’*_~]+$")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESC_BASE = 0xE100  # private-use stand-ins for backslash-escaped punctuation
_ESC_RE = re.compile("[\ue100-\ue17f]")
_WINDOWS = re.compile(r"[A-Za-z]:\\|\\[A-Za-z0-9]")


def _unescape(m: re.Match[str]) -> str:
    return chr(_ESC_BASE + ord(m.group(1)))


def _word(w: str, ja: bool) -> str:
    if "&" in w and ";" in w:
        w = html.unescape(w)
    escaped = "\\" in w and not _WINDOWS.search(w)
    if escaped:  # \* and friends: literal characters, hidden from the rules below
        w = _ESCAPE.sub(_unescape, w)
    if "**" in w or "__" in w or "~~" in w:
        w = _EMPH.sub("", w)
    lead = ""
    m = _LEAD.match(w)
    if m:
        lead, w = m.group().translate(_NO_EMPH), w[m.end() :]
    trail = ""
    m = _TRAIL.search(w)
    if m:
        trail, w = m.group().translate(_NO_EMPH), w[: m.start()]
    if "/" in w or "\\" in w or w.startswith("www.") or ":" in w or "#L" in w:
        w = shorten(w, ja)
    if _ROBOT in w:
        w = w.replace(_ROBOT, "")
    if w and not w.strip("#"):  # closing hashes of a heading ("## Title ##")
        w = ""
    w = lead + w + trail
    return _ESC_RE.sub(lambda m: chr(ord(m.group()) - _ESC_BASE), w) if escaped else w


_NO_EMPH = str.maketrans("", "", "*_~")


_NEEDS_RULES = re.compile("[`*_~\\[\\]<>\\\\/&#\U0001f916\u2192\u21d2]|www\\.")
_ARROW = re.compile(r"\s*(?:[\u2192\u21d2]|(?<!\S)->(?!\S))\s*")
ARROW_WORDS = (" to ", "から")
"""What an arrow between two terms is read as ("John Doe → JD"), English / Japanese."""
# a file name with line numbers and no separator (NavUser.tsx:54); with one it is a word
_LINE_HINT = re.compile(r"\.[A-Za-z][\w+-]{0,9}:\d")
_LINE_WORD = re.compile(r"(?<![^\s(\[])[\w@+-][\w.@+-]*\.[A-Za-z][\w+-]{0,9}:\d[\d,:-]*")


def _outside_code(text: str, fn: Callable[[str], str]) -> str:
    if "`" not in text:
        return fn(text)
    parts = re.split(r"(`+[^`]*`+)", text)
    return "".join(p if p.startswith("`") else fn(p) for p in parts)


def _line_words(text: str, ja: bool) -> str:
    def one(m: re.Match[str]) -> str:
        core = m.group().rstrip(",:-")
        return shorten(core, ja) + m.group()[len(core) :]

    return _outside_code(text, lambda p: _LINE_WORD.sub(one, p))


def _arrows(text: str, ja: bool) -> str:
    word = ARROW_WORDS[1] if ja else ARROW_WORDS[0]
    return _outside_code(text, lambda p: _ARROW.sub(word, p))


def reduce_inline(text: str, ja: bool = False) -> str:
    """Speakable form of one complete piece of inline markdown (no line breaks).

    Words added for code (line numbers, placeholders, arrows) are Japanese when ``ja``
    or when the piece holds Japanese.
    """
    if not _NEEDS_RULES.search(text):  # plain words (the common case, kept fast)
        if ":" in text and _LINE_HINT.search(text):
            return _line_words(text, ja or (not text.isascii() and is_japanese(text)))
        return text
    ascii_only = text.isascii()
    ja = ja or (not ascii_only and is_japanese(text))
    if ":" in text and _LINE_HINT.search(text):
        text = _line_words(text, ja)
    if " -> " in text or (not ascii_only and ("\u2192" in text or "\u21d2" in text)):
        text = _arrows(text, ja)
    out: list[str] = []
    last = 0
    for m in _INLINE.finditer(text):
        start = m.start()
        if start > last:
            out.append(text[last:start])
        last = m.end()
        kind = m.lastgroup
        if kind == "word":
            out.append(_word(m.group(), ja))
        elif kind == "stray":
            out.append("" if m.group() == "`" else m.group())
        elif kind == "code":
            out.append(speak_code(m.group("code"), ja))
        elif kind == "ltext":
            out.append(reduce_inline(m.group("ltext"), ja))
        elif kind == "auto":
            out.append(url_host(m.group("auto")))
        elif kind == "tag":  # simple HTML markup: a space where it stood
            out.append(" ")
        # images are dropped
    out.append(text[last:])
    return "".join(out)


_SAFE_SPECIAL = re.compile(r"`+|[\[\]<>(]|\s")


def safe_end(s: str) -> int:
    """Length of the longest prefix of ``s`` ending in whitespace outside code/link/<…>.

    Inline markdown cut there reduces the same way alone as within the whole line.
    """
    if not s:
        return 0
    if "`" not in s and "[" not in s and "<" not in s:
        if s[-1].isspace():
            return len(s)
        parts = s.rsplit(None, 1)
        return len(s) - len(parts[-1]) if len(parts) == 2 else 0
    code = 0
    stage = 0  # 1 inside [...], 2 just after ], 3 inside (url)
    depth = 0
    angle = False
    after = -1
    safe = 0
    n = len(s)
    for m in _SAFE_SPECIAL.finditer(s):
        t = m.group()
        i = m.start()
        if code:
            if t[0] == "`" and len(t) == code:
                code = 0
            continue
        if stage == 2:
            if i == after and t in "([":
                stage = 3 if t == "(" else 1
                depth = 1
                continue
            stage = 0
        if stage == 1:
            if t == "[":
                depth += 1
            elif t == "]":
                depth -= 1
                if depth == 0:
                    stage, after = 2, m.end()
                    if after == n:
                        return safe
            continue
        if stage == 3:
            if t == ")" or t == "]":
                stage = 0
            continue
        if angle:
            if t == ">":
                angle = False
                continue
            if not t.isspace():
                continue
            angle = False
        if t[0] == "`":
            if m.end() == n:
                return safe
            code = len(t)
        elif t == "[":
            stage, depth = 1, 1
        elif t == "<":
            angle = True
        elif t.isspace():
            safe = m.end()
    return safe
