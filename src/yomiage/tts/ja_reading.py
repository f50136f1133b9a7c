"""Japanese readings of the Latin-script words in Japanese text, for the Japanese voices.

A coding assistant's Japanese keeps names in Latin script (README, pytest, parse_date,
v0.7.5). OpenJTalk, whose reading both Japanese voices use, spells them letter by
letter. :func:`japanese_reading` rewrites them first, the way Japanese developers say
them:

* identifiers are split into words (snake_case, camelCase, dotted, kebab-case, paths);
* each word is read from a curated dictionary (``data/ja_loanwords.tsv``: tools,
  languages, services, file names, acronyms read the Japanese way: JSON → ジェイソン),
  else spelled letter by letter when it is a true acronym (all capitals, short or
  without a vowel), else converted by the ``e2k`` library's character model (chosen
  by measurement: ``python -m yomiage.bench.katakana``); without ``e2k`` it is left
  as written;
* decimals (3.12 → サンテンイチニー: Kokoro's G2P drops the point), versions
  (v0.7.5 → バージョン ゼロテンナナテンゴ, v4 → バージョン4), numbers with units (120ms,
  2GB), ranges (400-458 → 400から458: OpenJTalk read ヨンゼロゼロ−…), dates
  (2025-12-01 → 2025年12月1日) and file extensions (main.py → メイン・ドット・パイ) are
  read naturally;
* a short lower-case word without a vowel is spelled (cwd → シーダブリューディー), and a
  host's port is read as one (localhost:3001 → ローカルホストの3001番ポート).

Japanese text, digits and punctuation pass through unchanged; the result is plain
Japanese text for any Japanese G2P. Words are cached, so a sentence costs microseconds
once its words have been seen.

Example::

    >>> japanese_reading("READMEを更新し、pytestを実行しました。")  # doctest: +SKIP
    'リードミーを更新し、パイテストを実行しました。'
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable
from importlib import resources

from yomiage.tts.en_reading import HOST

log = logging.getLogger(__name__)

_LETTER_NAMES = ("エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム エヌ "
                 "オー ピー キュー アール エス ティー ユー ブイ ダブリュー エックス ワイ ゼット")
LETTERS = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", _LETTER_NAMES.split(" "), strict=True))
DIGITS = ("ゼロ", "イチ", "ニー", "サン", "ヨン", "ゴー", "ロク", "ナナ", "ハチ", "キュー")
JOIN = "・"  # between the words of one identifier: a word boundary, no pause

# Units after a number, read in Japanese (case-sensitive: MB is not mb).
UNITS = {
    "ms": "ミリ秒", "s": "秒", "sec": "秒", "secs": "秒", "min": "分", "mins": "分",
    "h": "時間", "hr": "時間", "hrs": "時間", "ns": "ナノ秒", "us": "マイクロ秒",
    "µs": "マイクロ秒", "B": "バイト", "KB": "キロバイト", "kB": "キロバイト",
    "MB": "メガバイト", "GB": "ギガバイト", "TB": "テラバイト", "KiB": "キビバイト",
    "MiB": "メビバイト", "GiB": "ギビバイト", "Hz": "ヘルツ", "kHz": "キロヘルツ",
    "MHz": "メガヘルツ", "GHz": "ギガヘルツ", "px": "ピクセル", "fps": "エフピーエス",
    "x": "倍", "k": "千", "K": "千", "M": "百万", "ms/word": "ミリ秒",
}
# File extensions read after "ドット" (a dotted name ending in one is a file name).
EXTENSIONS = {
    "py": "パイ", "pyi": "パイアイ", "js": "ジェイエス", "mjs": "エムジェイエス",
    "cjs": "シージェイエス", "ts": "ティーエス", "tsx": "ティーエスエックス",
    "jsx": "ジェイエスエックス", "json": "ジェイソン", "jsonl": "ジェイソンエル",
    "md": "エムディー", "toml": "トムル", "yaml": "ヤムル", "yml": "ヤムル",
    "rs": "アールエス", "go": "ゴー", "rb": "アールビー", "java": "ジャバ", "kt": "ケーティー",
    "c": "シー", "h": "エイチ", "cpp": "シーピーピー", "hpp": "エイチピーピー", "cs": "シーエス",
    "sh": "エスエイチ", "txt": "テキスト", "csv": "シーエスブイ", "html": "エイチティーエムエル",
    "css": "シーエスエス", "scss": "エスシーエスエス", "sql": "エスキューエル",
    "lock": "ロック", "env": "エンブ", "cfg": "シーエフジー", "ini": "イニ",
    "xml": "エックスエムエル",
    "ex": "イーエックス", "exs": "イーエックスエス", "vue": "ビュー", "svelte": "スベルト",
    "swift": "スウィフト", "php": "ピーエイチピー", "log": "ログ", "wav": "ウェーブ",
    "png": "ピング", "svg": "エスブイジー", "pdf": "ピーディーエフ", "onnx": "オニキス",
    "ipynb": "アイパイエヌビー", "lua": "ルア", "zig": "ジグ", "dart": "ダート",
}

_VERSION = re.compile(r"(?<![A-Za-z0-9_.])([vV]?)(\d+(?:\.\d+){1,3})(?![A-Za-z0-9_.]*[A-Za-z_])")
_UNIT = re.compile(r"(?<![A-Za-z0-9_.])(\d+(?:\.\d+)?)\s?(" + "|".join(
    sorted(map(re.escape, UNITS), key=len, reverse=True)) + r")(?![A-Za-z0-9_/])")
# A Latin-script token: letters/digits joined by . _ - / (an identifier, dotted name,
# path), with C++ / C# style suffixes; it must contain a letter.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9]*(?:[._\-/][A-Za-z0-9]+)*[+#]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_VOWELS = set("AEIOUY")
_NEEDS_READING = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]|\d[.．]\d|\d\s?[-–‐〜~～]\s?\d")
_HOST_PORT = re.compile(HOST + r":(\d{2,5})(?![\d:.])")  # localhost:3001
_V_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])v(\d+)(?![A-Za-z0-9_.])")  # v4; not V8, a name
# 2025-12-01 (a date) and 400-458 (a range), not part of a longer run of numbers
_DATE = re.compile(r"(?<![A-Za-z0-9_.\-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d.\-])")
_RANGE = re.compile(r"(?<![A-Za-z0-9_.\-–‐])(\d{1,6}(?:\.\d+)?)\s?[-–‐〜~～]\s?"
                    r"(\d{1,6}(?:\.\d+)?)(?![\d.\-–‐])")
# A decimal number (not part of a version, a name or a longer dotted run): Kokoro's
# G2P drops its point (3.12 was heard as 32), so it is written out: サンテンイチニー.
_DECIMAL = re.compile(r"(?<![A-Za-z0-9_.])(\d+)\.(\d+)(?![A-Za-z0-9_.]*[A-Za-z_])(?![.\d])")


@functools.cache
def loanwords() -> dict[str, str]:
    """The curated dictionary: word (as written, and in lower case) → katakana."""
    text = (resources.files("yomiage") / "data" / "ja_loanwords.tsv").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, kana = line.partition("\t")
        table.setdefault(word.strip(), kana.strip())
    for word, kana in list(table.items()):
        table.setdefault(word.lower(), kana)
    return table


@functools.cache
def fallback_converter() -> Callable[[str], str] | None:
    """English word → katakana from ``e2k`` (its fast character model), or None when
    it is not installed."""
    try:
        from e2k import C2K
    except ImportError:
        log.info("e2k is not installed: unknown English words are left to the G2P")
        return None
    converter: Callable[[str], str] = C2K(model="turbo")
    return converter


def preload() -> None:
    """Load the dictionary and the fallback library now (~1 s for ``e2k``), so that the
    first unknown word does not pay for it: voices call this while warming up."""
    loanwords()
    fallback_converter()


def integer_reading(digits: str) -> str:
    """Katakana for a run of digits read as one number (up to 4 digits; longer runs
    digit by digit): 12 → ジューニ, 404 → ヨンヒャクヨン, 2026 → ニセンニジューロク."""
    n = int(digits)
    if len(digits) > 4 or (len(digits) > 1 and digits[0] == "0"):
        return "".join(DIGITS[int(d)] for d in digits)
    if n == 0:
        return "ゼロ"
    out = ""
    small = ["", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ"]
    special = {(3, 3): "サンゼン", (3, 8): "ハッセン", (2, 3): "サンビャク", (2, 6): "ロッピャク",
               (2, 8): "ハッピャク"}
    for power, name in ((3, "セン"), (2, "ヒャク"), (1, "ジュウ")):
        d = n // 10**power % 10
        if d == 0:
            continue
        out += special.get((power, d)) or ((small[d] if d > 1 else "") + name)
    last = n % 10
    if last:
        out += small[last] if n >= 10 else DIGITS[last]
    return out


def version_reading(text: str) -> str:
    """0.7.5 → ゼロテンナナテンゴー: each part as a number, joined by テン."""
    return "テン".join(integer_reading(p) for p in text.split("."))


def spelled(word: str) -> str:
    """A word read letter by letter (digits as numbers): CLI → シーエルアイ."""
    return "".join(LETTERS.get(c.upper(), c) if not c.isdigit() else DIGITS[int(c)]
                   for c in word)


def is_acronym(word: str) -> bool:
    """True for a word spelled letter by letter: all capitals and short (≤ 3), or with
    no vowel (HTTP, SDK); longer capitals with vowels are words (README, DATABASE)."""
    letters = [c for c in word if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return False
    return len(letters) <= 3 or not _VOWELS.intersection(letters)


@functools.lru_cache(maxsize=4096)
def word_reading(word: str) -> str:
    """The katakana of one word (no separators inside): dictionary, acronym, number,
    library, or the word itself when nothing can read it."""
    table = loanwords()
    found = table.get(word) or table.get(word.lower())
    if found:
        return found
    if word.isdigit():
        return word  # the G2P reads plain numbers well
    if len(word) == 1 or is_acronym(word) or (
            len(word) <= 4 and word.isalpha() and not _VOWELS.intersection(word.upper())):
        return spelled(word)  # HTTP, and cwd, ls, tsx
    singular = table.get(word[:-1]) or table.get(word[:-1].lower())
    if word[-1:] == "s" and len(word) > 3 and singular:  # plural of a known word
        return singular
    convert = fallback_converter()
    if convert is None:
        return word
    try:
        kana = convert(word.lower())
    except Exception as exc:  # a library failure must not stop speech
        log.debug("no katakana for %r: %s", word, exc)
        return word
    return kana or spelled(word)


def split_words(token: str) -> list[str]:
    """An identifier's words: parse_date → [parse, date]; getUserById → [get, User, By,
    Id]; HTTPServer → [HTTP, Server]; whole-word dictionary entries stay whole."""
    words: list[str] = []
    for part in re.split(r"[._\-/]+", token):
        if not part:
            continue
        if part in loanwords() or part.lower() in loanwords():
            words.append(part)
        else:
            words.extend(_CAMEL.findall(part))
    return words


def token_reading(token: str) -> str:
    """The reading of one Latin-script token (identifier, dotted name, path, C++)."""
    table = loanwords()
    whole = table.get(token) or table.get(token.lower())
    if whole:
        return whole
    suffix = ""
    while token and token[-1] in "+#":
        suffix = {"+": "プラス", "#": "シャープ"}[token[-1]] + suffix
        token = token[:-1]
    stem, dot, ext = token.rpartition(".")
    if dot and stem and ext.lower() in EXTENSIONS and "/" not in ext:
        head = token_reading(stem.rsplit("/", 1)[-1])
        return f"{head}{JOIN}ドット{JOIN}{EXTENSIONS[ext.lower()]}{suffix}"
    words = split_words(token)
    return JOIN.join(word_reading(w) for w in words) + suffix


def _version(m: re.Match[str]) -> str:
    said = "バージョン" in m.string[max(0, m.start() - 8) : m.start()]  # バージョンをv1.2
    prefix = "バージョン" if m.group(1) and not said else ""
    return prefix + version_reading(m.group(2)) if m.group(1) or m.group(2).count(".") >= 2 \
        else m.group(0)


def _decimal(m: re.Match[str]) -> str:
    return integer_reading(m.group(1)) + "テン" + "".join(DIGITS[int(d)] for d in m.group(2))


def _date(m: re.Match[str]) -> str:
    year, month, day = (int(g) for g in m.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{year}年{month}月{day}日"


def _unit(m: re.Match[str]) -> str:
    return m.group(1) + UNITS[m.group(2)]


def _token(m: re.Match[str]) -> str:
    token = m.group(0)
    if not any(c.isalpha() for c in token):
        return token  # numbers, dates, times: the G2P reads them
    return token_reading(token)


def japanese_reading(text: str) -> str:
    """``text`` with every Latin-script word, identifier, version and number with a unit
    rewritten in katakana as a Japanese developer says it; everything else unchanged
    (full-width Latin is folded to ASCII first)."""
    if not _NEEDS_READING.search(text):
        return text
    text = unicodedata.normalize("NFKC", text)
    if ":" in text:  # localhost:3001 → localhostの3001番ポート
        text = _HOST_PORT.sub(r"\1の\2番ポート", text)
    if any(dash in text for dash in "-–‐〜~"):  # (NFKC made ～ a ~)
        text = _DATE.sub(_date, text)
        text = _RANGE.sub(r"\1から\2", text)
    text = _VERSION.sub(_version, text)
    text = _V_NUMBER.sub(lambda m: "バージョン" + m.group(1), text)
    text = _UNIT.sub(_unit, text)
    text = _DECIMAL.sub(_decimal, text)
    return _TOKEN.sub(_token, text)
