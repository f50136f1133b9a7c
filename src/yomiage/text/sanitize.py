"""Strings from the stream made harmless for a terminal (and for speech): one sanitizer.

Everything the agent's stream carries — assistant prose, tool names and paths, the first
line of a tool result (a file or a web page the agent read) — may hold terminal control
sequences: a web page can set the window title (OSC 0/2), write the clipboard (OSC 52),
hide a link (OSC 8), clear the screen (CSI 2J) or rewrite what is shown (``\\r``,
backspace). :func:`sanitize` removes them all before such a string reaches a terminal,
stdout, a log line or the speech text.

Promises of :func:`sanitize` (property-tested):

* the result holds no C0 control but ``\\n`` and ``\\t``, no DEL, no C1 control
  (U+0080–U+009F, so no 8-bit CSI ``\\x9b`` or ST ``\\x9c``) and no bidirectional
  override or isolate (U+202A–U+202E, U+2066–U+2069, U+061C: "Trojan source");
* a complete escape sequence goes whole — ESC + intermediates + final byte, CSI
  (``ESC [`` or ``\\x9b``) with its parameters, and the string sequences OSC, DCS, SOS,
  PM and APC (``ESC ] P X ^ _`` or ``\\x9d \\x90 \\x98 \\x9e \\x9f``) up to their BEL or
  ST terminator — so no ``[31m`` or ``0;title`` is left behind; an unterminated string
  sequence loses only its introducer (its text stays, now inert), so a stray ESC can
  never swallow the prose after it;
* ``\\r\\n`` and a lone ``\\r`` become ``\\n`` (a carriage return must not overwrite what
  was shown); every other control (NUL, BEL, backspace, ``\\v``, NEL ``\\x85``, …) becomes a
  space, so that words never run together (as the speech text expects); bidi
  overrides are removed;
* text without any of these characters is returned unchanged (the same object);
* it is idempotent, and linear in the length of the text.

:class:`StreamSanitizer` does the same for text that arrives in pieces (deltas split
anywhere, even inside an escape sequence).
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u202a-\u202e\u2066-\u2069"
_SUSPECT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
"""Any character :func:`sanitize` may change (the fast path's test)."""

_ST = "(?:\x07|\x1b\\\\|\x9c)"  # BEL, ESC \ or 8-bit ST
_SEQUENCE = re.compile(
    # string sequences (OSC DCS SOS PM APC), 7-bit or 8-bit introducer, up to a terminator
    f"(?:\x1b[\\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*{_ST}"
    # CSI: parameters, intermediates, final byte
    "|(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]"
    # any other escape: intermediates and a final byte (ESC c, ESC ( B, ESC 7, …); not a
    # space as intermediate, so "usage\x1b is" keeps its word (the ESC alone goes)
    "|\x1b[!-/]*[0-~]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_RE = re.compile(f"[{_BIDI}]+")
_LINE_BREAK = re.compile("\r\n?")

_CSI_BODY = re.compile("[0-?]*[ -/]*")
_INTERMEDIATES = re.compile("[!-/]*")
_STRING_END = re.compile("[\x07\x9c]")
_STRING_8BIT = "\x9d\x90\x98\x9e\x9f"
_INTRODUCERS = frozenset("\x1b\x9b\x9d\x90\x98\x9e\x9f")
HOLD_MAX = 4096
""":class:`StreamSanitizer` holds an unfinished escape sequence at the end of a piece at
most this long; a longer one is given up (its introducer removed, its text released)."""


def sanitize(text: str) -> str:
    """``text`` without terminal control sequences, controls and bidi overrides.

    See the module's promises; plain text comes back unchanged.
    """
    if _SUSPECT.search(text) is None:
        return text
    if "\x1b" in text or any(c in text for c in "\x9b\x9d\x90\x98\x9e\x9f"):
        text = _SEQUENCE.sub("", text)
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    text = _CONTROL.sub(" ", text)
    return _BIDI_RE.sub("", text)


def sanitize_line(text: str) -> str:
    """:func:`sanitize`, and every line break or tab made a space: for one-line fields
    (a tool name, a path, the first line of a tool result)."""
    text = sanitize(text)
    if "\n" in text or "\t" in text:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def _unfinished_tail(text: str) -> int:
    """Where an escape sequence that more text may still complete begins, or -1."""
    k = max(text.rfind(c) for c in _INTRODUCERS)
    if k < 0:
        return -1
    c = text[k]
    if c == "\x1b":
        if k + 1 == len(text):  # a lone ESC: maybe the first half of the ST of a string
            j = max(text.rfind(i, 0, k) for i in _INTRODUCERS)
            opens = j >= 0 and (text[j] in _STRING_8BIT or text[j + 1] in "]PX^_")
            return j if opens and _STRING_END.search(text, j, k) is None else k
        kind = text[k + 1]
        if kind == "[":
            return k if _CSI_BODY.fullmatch(text, k + 2) else -1
        if kind not in "]PX^_":
            return k if _INTERMEDIATES.fullmatch(text, k + 1) else -1
        body = k + 2
    elif c == "\x9b":
        return k if _CSI_BODY.fullmatch(text, k + 1) else -1
    else:
        body = k + 1
    # a string sequence (OSC DCS SOS PM APC): unfinished while no terminator has come
    return k if _STRING_END.search(text, body) is None else -1


class StreamSanitizer:
    """:func:`sanitize` for text arriving in pieces: ``feed`` returns the clean text that is
    certain, holding back at most :data:`HOLD_MAX` characters of an escape sequence that
    the next piece may complete; ``flush`` releases the rest. Feeding any split of a text
    and flushing gives the same result as :func:`sanitize` of the whole text, except that
    an unfinished sequence longer than ``HOLD_MAX`` is given up early."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """The clean text that ``piece`` (after whatever was held) makes certain."""
        if self._held:
            piece, self._held = self._held + piece, ""
        elif _SUSPECT.search(piece) is None:
            return piece
        k = _unfinished_tail(piece)
        if k < 0 and piece.endswith("\r"):
            k = len(piece) - 1  # maybe the first half of \r\n
        if k >= 0 and len(piece) - k <= HOLD_MAX:
            piece, self._held = piece[:k], piece[k:]
        return sanitize(piece)

    def flush(self) -> str:
        """Whatever is still held, sanitized; the sanitizer is then empty."""
        held, self._held = self._held, ""
        return sanitize(held)


__all__ = ["HOLD_MAX", "StreamSanitizer", "sanitize", "sanitize_line"]
