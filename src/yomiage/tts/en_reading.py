"""English text → what an English voice should say for code names, offsets and standards.

The speech text keeps names verbatim (translation must not touch them), so an English
voice receives ``datetime.fromisoformat``, ``+09:00`` and ``ISO 8601``. espeak-ng (the
phonemizer behind Piper and Kokoro's English voices, and the espeak voice itself) reads
them as "datetime dot fromisoformat" (one mumbled word), "plus nine zero zero" and
"ISO eight thousand six hundred one". :func:`english_reading` rewrites them first:

* a dotted name → its parts, each compound split into known words:
  ``datetime.fromisoformat`` → "datetime from iso format" (file names such as
  ``main.py`` and versions stay: the voice reads "main dot py" well);
* ``snake_case`` and ``camelCase`` → words (``parse_date`` → "parse date");
* a UTC offset after a time or alone → ``+09:00`` → "UTC plus 9", ``-05:30`` →
  "UTC minus 5 30";
* a standard's number (ISO, RFC, IEC, PEP, ECMA) of four digits or more → digit by
  digit: ``ISO 8601`` → "ISO 8 6 0 1";
* a host and its port → "port": ``localhost:3001`` → "localhost port 3001";
* a range of numbers → "to": ``lines 400-458`` → "lines 400 to 458" (espeak-ng said
  "four hundred dash…"); ``2+ minutes`` → "2 or more minutes"; ``v4`` / ``v0.7.5`` →
  "version 4" / "version 0.7.5";
* a word espeak-ng says wrongly → how developers say it, from ``data/en_spoken.tsv``
  (``pytest`` → "pie test", ``stdout`` → "standard out"; kept only where a speech
  recognizer hears the rewrite better: ``python -m yomiage.bench.spoken``).

A compound is split only when it is covered entirely by :data:`WORDS` (the vocabulary
of identifiers), preferring the fewest parts, so a word the list does not know is left
for the voice as it is.

    >>> english_reading("Use datetime.fromisoformat for +09:00 (ISO 8601).")
    'Use datetime from iso format for UTC plus 9 (ISO 8 6 0 1).'
    >>> english_reading("Run pytest and read stderr.")
    'Run pie test and read standard error.'
"""

from __future__ import annotations

import functools
import re
from importlib import resources

WORDS = frozenset(str.split(
    "a add all alloc and any app append arg args array as assert async attr auth await "
    "base basic batch bin bind bit block body bool buf buffer build by byte bytes cache "
    "call case cast char check child class clear client close code col collect config "
    "conn connect const content context copy count create csv ctx cur current data date "
    "day db debug decode def default del delete dict diff dir do doc dump each edit else "
    "empty encode end ends entry enum env eq err error event exec exists exit expand "
    "extend fetch field file fill filter find first flag flat float flush fmt for form "
    "format from func get global group handle has hash head header id if in index info "
    "init input insert instance int into is iso item items iter join json key keys kind "
    "last len length line link list load local lock log long lookup loop lower main make "
    "map match max merge meta method min mod mode model module name names new next node "
    "none not now num number obj object of off on one open or order out output page "
    "parse part path peek point pop port post pre print proc process prop push put query "
    "queue range raw re read real record reduce ref remove render replace repr req "
    "request reset resolve rest result ret return reverse root row run safe save scan "
    "script search seek self send set setup shape show size skip sleep slice sort split "
    "sql start starts stat state status std stop store str stream string strip sub sum "
    "super sync sys table tag task temp test text then time timestamp title to token "
    "tool total trace tree trim try tuple type unit update upper url use user utc util "
    "val valid value values var version view wait walk with word words work write yield "
    "zip"
))
"""Words a compound identifier may be split into (``fromisoformat``, ``getattr``)."""
MAX_COMPOUND = 24
"""Longer lowercase runs are not split (too costly to search, rarely identifiers)."""

_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]+(?:\.[A-Za-z_][A-Za-z0-9_]+)+\b(?!\.\w)")
_FILE_EXT = frozenset(str.split(
    "py pyi rs ts tsx js jsx mjs cjs json toml yaml yml md txt rst cfg ini lock sh c h cc "
    "cpp hpp go java kt swift rb php cs html css scss sql proto xml csv log env vue ex exs "
    "lua dart zig ipynb io com org net dev ai app"
))
_SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b")
_CAMEL_CUT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_OFFSET = re.compile(r"(?:(?<=\d)|(?<![\w:+\-−]))([+\-−])(\d{2}):(\d{2})\b(?![:\d])")
_STANDARD = re.compile(r"\b(ISO|RFC|IEC|PEP|ECMA)([ -])(\d{4,6})\b")
_RANGE = re.compile(r"(?<![A-Za-z0-9_.\-–/:])(\d{1,6}(?:\.\d+)?)[-–](\d{1,6}(?:\.\d+)?)"
                    r"(?![\d.\-–/:]*\d)")
HOST = (r"(?<![\w.:/])(localhost|(?:\d{1,3}\.){3}\d{1,3}|[A-Za-z][\w-]*(?:\.[\w-]+)*\."
        r"(?:com|org|net|io|dev|app|ai|jp|local|internal|test|example))")
"""A host name that a port may follow (localhost, an IPv4 address, a dotted name with a
common top-level part: not main.py), as a regular expression with one group."""
_HOST_PORT = re.compile(HOST + r":(\d{2,5})\b(?![:.]\d)")  # localhost:3001
_OR_MORE = re.compile(r"(?<![A-Za-z0-9_.+])(\d{1,6})\+(?=\s+[A-Za-z])")
_V_VERSION = re.compile(r"(?<![A-Za-z0-9_.\-])v(\d+(?:\.\d+){0,3})(?![\w.]*\w)")  # not V8


@functools.lru_cache(maxsize=4096)
def split_compound(word: str) -> str:
    """``fromisoformat`` → ``from iso format``; the word itself when not covered by
    :data:`WORDS` (or too long)."""
    w = word.lower()
    n = len(w)
    if n < 5 or n > MAX_COMPOUND or w in WORDS:
        return word
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(1, n + 1):
        for j in range(max(0, i - 12), i):
            prev = best[j]
            if prev is not None and w[j:i] in WORDS:
                cand = [*prev, w[j:i]]
                cur = best[i]
                if cur is None or len(cand) < len(cur):
                    best[i] = cand
    parts = best[n]
    return " ".join(parts) if parts and len(parts) > 1 else word


@functools.cache
def spoken_forms() -> dict[str, str]:
    """``data/en_spoken.tsv``: lower-case word → what an English voice should say."""
    text = (resources.files("yomiage") / "data" / "en_spoken.tsv").read_text("utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and line[0] != "#")
    return {word.lower(): spoken.strip() for word, spoken in rows}


@functools.cache
def _spoken_pattern() -> re.Pattern[str]:
    words = sorted(spoken_forms(), key=len, reverse=True)
    return re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, words)) + r")(?!\w)",
                      re.IGNORECASE)


def say_words(text: str) -> str:
    """``text`` with each word of :func:`spoken_forms` replaced by how it is said."""
    return _spoken_pattern().sub(lambda m: spoken_forms()[m.group().lower()], text)


def _dotted(m: re.Match[str]) -> str:
    name = m.group()
    parts = name.split(".")
    if parts[-1].lower() in _FILE_EXT or any(p.isdigit() for p in parts):
        return name  # a file or host name: "main dot py" is how it is said
    return " ".join(_words(p) for p in parts)


def _words(part: str) -> str:
    spoken = say_words(part)
    if spoken != part:
        return spoken
    if "_" in part:
        return " ".join(_words(p) for p in part.split("_") if p)
    if _CAMEL.fullmatch(part):
        return " ".join(split_compound(p) for p in _CAMEL_CUT.split(part))
    return split_compound(part) if part.islower() else part


def _offset(m: re.Match[str]) -> str:
    sign = "plus" if m.group(1) == "+" else "minus"
    hours, minutes = int(m.group(2)), m.group(3)
    return f" UTC {sign} {hours}" + ("" if minutes == "00" else f" {int(minutes)}")


def _v_version(m: re.Match[str]) -> str:
    said = m.string[max(0, m.start() - 8) : m.start()].lower().endswith("version ")
    return m.group(1) if said else "version " + m.group(1)


def english_reading(text: str) -> str:
    """``text`` with code names, UTC offsets and standards' numbers rewritten for an
    English voice (see the module docstring); anything else unchanged."""
    if ":" in text:
        text = _HOST_PORT.sub(r"\1 port \2", text)
    if "." in text:
        text = _DOTTED.sub(_dotted, text)
    if "_" in text:
        text = _SNAKE.sub(lambda m: _words(m.group()), text)
    text = _CAMEL.sub(lambda m: _words(m.group()), text)
    if ":" in text:
        text = _OFFSET.sub(_offset, text)
    if "-" in text or "–" in text:
        text = _RANGE.sub(r"\1 to \2", text)
    if "+" in text:
        text = _OR_MORE.sub(r"\1 or more", text)
    if "v" in text:
        text = _V_VERSION.sub(_v_version, text)
    if any(s in text for s in ("ISO", "RFC", "IEC", "PEP", "ECMA")):
        text = _STANDARD.sub(lambda m: m.group(1) + " " + " ".join(m.group(3)), text)
    text = say_words(text)
    return text if "  " not in text else " ".join(text.split(" ")).replace("  ", " ")
