"""Code inside prose → something a listener can follow: inline code spoken by category.

Pure functions used by :mod:`yomiage.text.speech_inline`. Each inline code span, path or
``file:line`` reference becomes words that keep the sentence whole:

* a URL → its host; a path → its last part (a file name, or a folder's name:
  ``priv/static/assets/`` → ``assets``; the sentence around it already says "folder"
  or "in", and the name is what tells the folder apart — words such as "a path under"
  would be English inserted into prose that may be Japanese);
* ``apps/src/NavUser.tsx:24-40,54`` → ``NavUser.tsx`` + ", lines 24 to 40 and 54"
  (Japanese prose: "の24から40行目と54行目");
* a function call → its name: ``parse_date(s)`` → ``parse_date`` (a call whose only
  argument is a short string or a number keeps it: ``toLocaleDateString("ja-JP")`` →
  ``toLocaleDateString ja-JP``, ``time.sleep(1.05)`` → ``time.sleep 1.05``);
* a short span made mostly of symbols → its words: ``{:error, %Chain{}, ...}`` →
  ``error, Chain``, ``{nil, []}`` → ``nil``, ``user?.name`` → ``user.name``;
* a function with its arity (Elixir, Erlang) → its name: ``render/1`` → ``render``,
  ``Access.get/2`` → ``Access.get`` (``HTTP/2``, all capitals, stays);
* an atom, a template assign or a component → its name: ``:kind`` → ``kind``,
  ``@show_debug`` → ``show_debug``, ``<.transcript_panel>`` → ``transcript_panel``, and a
  union of atoms ``:user | :assistant`` → ``user, assistant``;
* anything still longer than :data:`LONG_CODE` characters → a short placeholder ("this
  code" / "このコード") instead of a hole in the sentence.

Names that stay (file names, identifiers, commands) are wrapped in the protection
markers so the segmenter never cuts inside them; the added words are plain text, free
to be translated. The added words are Japanese when the piece of text, or what came
before it in the same block, holds Japanese (a stream cut right after a code span, before
the Japanese that follows it arrives, gets the English words for that span).
"""

from __future__ import annotations

import re

PROTECT_OPEN = "\ue000"
PROTECT_CLOSE = "\ue001"
LONG_CODE = 60
"""Inline code longer than this (after the rules above) is replaced by a placeholder."""
MAX_LINE_PARTS = 3
"""A ``file:line`` reference lists at most this many lines or ranges; more are counted."""

_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_SEP = re.compile(r"[/\\]+")
_EXT = re.compile(r"^[\w@+-][\w.@+-]*\.[A-Za-z][A-Za-z0-9_+-]{0,9}$")
_ROOTED = re.compile(r"^(?:~?/|\.{1,2}[/\\]|[A-Za-z]:[\\/])")
_SEGMENT = re.compile(r"^[\w.@+-]+$")
# name.ext:24  name.ext:24-40,54  name.ext:24:7 (column dropped)  name.ext#L24-L40
# name.ex:25:guard_fail (a compiler's tag after the line, dropped)
_LINE_REF = re.compile(
    r"^(?P<file>.*?\.[A-Za-z][A-Za-z0-9_+-]{0,9})"
    r"(?::(?P<lines>\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)(?::\d+)?(?::[A-Za-z_]\w*)?"
    r"|#L(?P<a>\d+)(?:-L?(?P<b>\d+))?)$"
)
_CALL = re.compile(
    r"^(?:await\s+|new\s+)?(?P<name>[A-Za-z_$][\w$]*[?!]?(?:(?:\.|::|->|#)[A-Za-z_$][\w$]*[?!]?)*)"
    r"(?:<[^()]*>)?\((?P<args>.*?)\)[?!;]*(?:\s*(?:::|->|=>|:)\s*\S.*)?$"
)
_LITERAL_ARG = re.compile(r"""^\s*(?:["']([^"'\\]{1,20})["']|(-?\d{1,9}(?:\.\d+)?))\s*$""")
_WORDISH = re.compile(r"[A-Za-z0-9_]+(?:\??\.[A-Za-z0-9_]+)*|,")
_SYMBOLIC = re.compile(r"[{}]|\?\.|%[A-Za-z{]")
_PATTERN = re.compile(r"\[[^\]]*\w-\w[^\]]*\]|\\[dwsbDWS]|\(\?[:=!<]")
_PLAIN_NAME = re.compile(rf"[\w.@+-]{{1,{LONG_CODE}}}\Z")
_NOT_SYMBOL = re.compile(r"[\w ]+")
_OPERATOR = re.compile(r"\s(?:[=!<>]=|===|!==|&&|\|\||[+\-*/]=|<>)\s")
_FLAG = re.compile(r"^--?[A-Za-z0-9][\w-]*(?:=\S*)?$")
_ARITY = re.compile(r"^(?P<name>[A-Za-z_]\w*[?!]?(?:\.[A-Za-z_]\w*[?!]?)*)/\d{1,2}$")
_SIGIL_NAME = re.compile(r"^[:@](?P<name>[A-Za-z_]\w*[?!]?)$")  # :kind  @show_debug
_COMPONENT = re.compile(r"^<\.?(?P<name>[A-Za-z_][\w.]*)(?:\s[^<>]*)?/?>$")  # <.panel id={x}>
_ATOM_UNION = re.compile(r"^:?[A-Za-z_]\w*(?:\s*\|\s*:?[A-Za-z_]\w*)+$")  # :a | :b
SHORT_SYMBOLS = 12
"""A span mostly of symbols is kept as written up to this length (``?``, ``2>&1``), and
replaced by the placeholder when longer (a regular expression, an operator soup)."""
SHORT_EXPRESSION = 16
"""An expression with a comparison or logical operator is kept up to this length
(``a == b``) and replaced by the placeholder when longer."""
MAX_SYMBOL_WORDS = 4
"""A tuple or map with more words than this is a long expression: the placeholder."""


def is_japanese(text: str) -> bool:
    """True when ``text`` holds kana or kanji (the added words are then Japanese)."""
    return _CJK.search(text) is not None


def url_host(url: str) -> str:
    """``https://www.github.com:443/a/b?c`` → ``github.com``."""
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host[4:] if host.startswith("www.") else host


def path_name(token: str, folders: bool = False) -> str:
    """A path → its last part; other slash-separated words are returned unchanged.

    Files: ``C:\\x\\Cargo.toml`` → ``Cargo.toml``, ``/etc/app/tls.toml`` → ``tls.toml``.
    Folders: a trailing separator (``priv/static/assets/`` → ``assets``), a rooted path
    (``/usr/local/bin`` → ``bin``), or with ``folders`` (inline code, where a path is
    likely) three parts or more made of name characters (``apps/app/src`` → ``src``).
    ``1/5/2024``, ``Asia/Tokyo``, ``and/or``, ``All/Active/Completed`` and
    ``fix/logging-and-flaky-test`` stay as they are.
    """
    parts = _SEP.split(token)
    if parts and not parts[-1] and len(parts) >= 3:  # a trailing separator: a folder
        parts = parts[:-1]
        last = parts[-1]
        if last and any(c.isalpha() for c in last) and all(
                _SEGMENT.match(p) for p in parts[1:]):
            return last
        return token
    last = parts[-1]
    if len(parts) < 2 or not last:
        return token
    if _EXT.match(last) or (_ROOTED.match(token) and any(c.isalpha() for c in last)):
        return last
    if folders and len(parts) >= 3 and any(c.isalpha() for c in last) and all(
            p and _SEGMENT.match(p) and not p.isdigit() for p in parts):
        return last
    return token


def _lines_words(spec: list[tuple[str, str | None]], ja: bool) -> str:
    shown = spec[:MAX_LINE_PARTS] if len(spec) <= MAX_LINE_PARTS else spec[:2]
    more = len(spec) - len(shown)
    if ja:
        items = [f"{a}から{b}" if b else a for a, b in shown]
        text = "と".join(items) + "行目"
        return f"の{text}ほか{more}か所" if more else "の" + text
    items = [f"{a} to {b}" if b else a for a, b in shown]
    if more:
        items.append(f"{more} more")
    head = "line" if len(spec) == 1 and not spec[0][1] else "lines"
    body = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return f", {head} {body}"


def line_ref(token: str, ja: bool = False) -> tuple[str, str] | None:
    """``src/NavUser.tsx:24-40,54`` → (``NavUser.tsx``, ", lines 24 to 40 and 54"), or
    None when ``token`` is not a file name followed by line numbers."""
    m = _LINE_REF.match(token)
    if m is None:
        return None
    name = m.group("file")
    if "/" in name or "\\" in name:
        name = path_name(name)
    if not _EXT.match(name):
        return None
    spec: list[tuple[str, str | None]] = []
    if m.group("lines"):
        for part in m.group("lines").split(","):
            a, _, b = part.partition("-")
            spec.append((a, b or None))
    else:
        spec.append((m.group("a"), m.group("b")))
    return name, _lines_words(spec, ja)


def named(t: str) -> str | None:
    """The name that a short piece of code stands for, or None: a function with its
    arity (``render/1``; not ``HTTP/2``), an atom (``:kind``), a template assign
    (``@show_debug``) or a component tag (``<.transcript_panel>``)."""
    m = _ARITY.match(t)
    if m is not None:
        name = m.group("name")
        return name if any(c.islower() for c in name) else None
    m = _SIGIL_NAME.match(t) or _COMPONENT.match(t)
    return m.group("name") if m is not None else None


def shorten(core: str, ja: bool = False) -> str:
    """One word of prose: a URL → host, a path → last part, ``file:line`` → name and
    lines, a function with its arity → its name; anything else unchanged."""
    if "://" in core or core.startswith("www."):
        return url_host(core)
    if "/" in core and _ARITY.match(core):
        return named(core) or core
    if ":" in core or "#L" in core:
        ref = line_ref(core, ja)
        if ref is not None:
            return ref[0] + ref[1]
    if "/" in core or "\\" in core:
        return path_name(core)
    return core


def _symbol_words(t: str) -> str:
    """The words of a span of symbols, with its commas: ``{:error, %C{}, r}`` → ``error, C, r``."""
    out: list[str] = []
    for w in _WORDISH.findall(t):
        if w == ",":
            if out and out[-1] != ",":
                out.append(",")
        else:
            out.append(w.replace("?", "").lstrip("_") or w)
    while out and out[-1] == ",":
        out.pop()
    return " ".join(out).replace(" ,", ",")


def _placeholder(ja: bool) -> str:
    return "このコード" if ja else "this code"


def _protected(t: str) -> str:
    return PROTECT_OPEN + t + PROTECT_CLOSE


def speak_code(text: str, ja: bool = False) -> str:
    """The speakable form of an inline code span (see the module docstring).

    Kept names come wrapped in the protection markers; ``""`` only for an empty span.
    """
    t = " ".join(text.split())
    name = named(t) if t[:1] in (":", "@", "<") or "/" in t else None
    if name:
        return _protected(name)
    if (t.isidentifier() and len(t) <= LONG_CODE) or (
            _PLAIN_NAME.match(t) and not t.startswith("www.")):
        return PROTECT_OPEN + t + PROTECT_CLOSE  # a name: main.py, parse_date, --verbose
    if not t:
        return ""
    if ("|" in t and _ATOM_UNION.match(t)) and (t.startswith(":") or " :" in t):
        return _protected(", ".join(p.strip().lstrip(":") for p in t.split("|")))
    if " " not in t:
        if "://" in t or t.startswith("www."):
            return _protected(url_host(t))
        if ":" in t or "#L" in t:
            ref = line_ref(t, ja)
            if ref is not None:
                return _protected(ref[0]) + ref[1]
        if "/" in t or "\\" in t:
            short = path_name(t, folders=True)
            if short != t:
                return _protected(short)
    if "(" in t:
        m = _CALL.match(t)
        if m is not None:
            lit = _LITERAL_ARG.match(m.group("args"))
            if lit:  # toLocaleDateString("ja-JP"): the argument is what the sentence is about
                return _protected(m.group("name") + " " + (lit.group(1) or lit.group(2)))
            return _protected(m.group("name"))
    if len(t) > LONG_CODE:
        return _placeholder(ja)
    if "\u2192" in t or "\u21d2" in t:  # arrows inside code are not read
        t = " ".join(t.replace("\u2192", " ").replace("\u21d2", " ").split())
    if len(t) > SHORT_SYMBOLS and _PATTERN.search(t):  # a regular expression
        return _placeholder(ja)
    if len(t) > SHORT_EXPRESSION and _OPERATOR.search(t):  # a condition, an assignment
        return _placeholder(ja)
    if _SYMBOLIC.search(t):  # a tuple, map or struct: its words
        words = _symbol_words(t)
        if sum(1 for w in words.split() if w != ",") > MAX_SYMBOL_WORDS:
            return _placeholder(ja)
        if any(c.isalpha() for c in words):
            return _protected(words)
    if len(t) > SHORT_SYMBOLS and _symbol_share(t) > 0.4 and not _FLAG.match(t):
        return _placeholder(ja)
    return _protected(t)


def _symbol_share(t: str) -> float:
    return len(_NOT_SYMBOL.sub("", t)) / len(t)
