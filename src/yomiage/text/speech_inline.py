"""Inline markdown → speakable words: code spans, links, URLs, paths, emphasis, emoji.

Pure functions on complete pieces of one line; ``safe_end`` tells the streaming
converter (``speech_text.SpeechText``) how much of a partial line may be reduced now.
"""

from __future__ import annotations

import html
import re

PROTECT_OPEN = "\ue000"
PROTECT_CLOSE = "\ue001"
LONG_CODE = 60
"""Inline code longer than this (after shortening paths/URLs) is dropped."""
HOLD_MAX = 400
"""An unclosed inline span (`` ` `` ``[`` ``<``) held longer than this many characters is
released as plain words, so one stray backtick cannot hold a whole line's speech."""

# Emoji, pictographs, dingbats, arrows, box drawing, shapes, flags, tags, keycaps,
# variation selectors, zero-width/format characters, BOM, private use, lone surrogates.
_DROP = re.compile(
    "[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u2500-\u27bf\u2900-\u297f\u2b00-\u2bff"
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
    r"|(?P<tag>(?i:</?(?:br|p|div|span|details|summary|sub|sup|kbd|b|i|u|s|em|strong|code|pre"
    r"|img|a|hr|ul|ol|li|table|thead|tbody|tr|td|th|h[1-6]|small|mark|del|ins|center)\b"
    r"[^<>]*>))"
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
_EXT = re.compile(r"^[\w@+-][\w.@+-]*\.[A-Za-z][A-Za-z0-9_+-]{0,9}$")
_ROOTED = re.compile(r"^(?:~?/|\.{1,2}[/\\]|[A-Za-z]:[\\/])")
_SEP = re.compile(r"[/\\]+")


def url_host(url: str) -> str:
    """``https://www.github.com:443/a/b?c`` → ``github.com``."""
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host[4:] if host.startswith("www.") else host


def path_name(token: str) -> str:
    """A file path → its last segment; other slash-separated words are returned unchanged.

    ``C:\\x\\Cargo.toml`` → ``Cargo.toml``, ``/etc/app/tls.toml`` → ``tls.toml``, but
    ``1/5/2024``, ``Asia/Tokyo`` and ``fix/logging-and-flaky-test`` stay as they are.
    """
    parts = _SEP.split(token)
    last = parts[-1]
    if len(parts) < 2 or not last:
        return token
    if _EXT.match(last) or (_ROOTED.match(token) and any(c.isalpha() for c in last)):
        return last
    return token


def _shorten(core: str) -> str:
    if "://" in core or core.startswith("www."):
        return url_host(core)
    if "/" in core or "\\" in core:
        return path_name(core)
    return core


_WINDOWS = re.compile(r"[A-Za-z]:\\|\\[A-Za-z0-9]")


def _unescape(m: re.Match[str]) -> str:
    return chr(_ESC_BASE + ord(m.group(1)))


def _word(w: str) -> str:
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
    if "/" in w or "\\" in w or w.startswith("www."):
        w = _shorten(w)
    if _ROBOT in w:
        w = w.replace(_ROBOT, "")
    if w and not w.strip("#"):  # closing hashes of a heading ("## Title ##")
        w = ""
    w = lead + w + trail
    return _ESC_RE.sub(lambda m: chr(ord(m.group()) - _ESC_BASE), w) if escaped else w


_NO_EMPH = str.maketrans("", "", "*_~")


def _code(text: str) -> str:
    t = " ".join(text.split())
    if t and " " not in t:
        t = _shorten(t)
    if not t or len(t) > LONG_CODE:
        return ""
    return PROTECT_OPEN + t + PROTECT_CLOSE


_NEEDS_RULES = re.compile("[`*_~\\[\\]<>\\\\/&#\U0001f916]|www\\.")


def reduce_inline(text: str) -> str:
    """Speakable form of one complete piece of inline markdown (no line breaks)."""
    if not _NEEDS_RULES.search(text):
        return text  # plain words: nothing to change (the common case, kept fast)
    out: list[str] = []
    last = 0
    for m in _INLINE.finditer(text):
        start = m.start()
        if start > last:
            out.append(text[last:start])
        last = m.end()
        kind = m.lastgroup
        if kind == "word":
            out.append(_word(m.group()))
        elif kind == "stray":
            out.append("" if m.group() == "`" else m.group())
        elif kind == "code":
            out.append(_code(m.group("code")))
        elif kind == "ltext":
            out.append(reduce_inline(m.group("ltext")))
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
