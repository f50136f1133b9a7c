"""Caps on what one content block may make the voice say: words, sentences, blocks.

A hostile or broken stream (a 1 MB base64 blob, a minified file pasted as prose, a
megabyte of markdown) must not keep the voice busy for hours nor stall the sentences
around it. ``TextFlow`` applies three caps, each replacing what it cuts by one short
notice that is spoken instead:

* a *word* (a run of non-space characters outside scripts written without spaces) longer
  than :data:`MAX_RAW_WORD_CHARS` in the markdown, or than :data:`MAX_WORD_CHARS` once
  the markdown has been reduced to speech, becomes :data:`WORD_NOTICE` (:class:`WordCap`,
  streaming);
* a *sentence* longer than :data:`MAX_SENTENCE_CHARS` is cut there with
  :data:`SENTENCE_NOTICE`, the rest of it skipped up to its end;
* a *block* is read for at most :data:`MAX_BLOCK_CHARS` characters of markdown; the rest
  is skipped with :data:`BLOCK_NOTICE`.

The limits sit far above anything in the real sessions (longest word after speech
reduction 57 characters, longest text block 15,848 characters), so real narration never
meets them. Every cap is linear in its input.
"""

from __future__ import annotations

import re

MAX_WORD_CHARS = 100
"""Longest word spoken; German compounds and long identifiers stay well below."""
MAX_RAW_WORD_CHARS = 10_000
"""Longest run of non-space markdown read at all (a long URL or path is reduced later);
a longer one is replaced before the markdown is read, so that it cannot use up the block's
:data:`MAX_BLOCK_CHARS` and hide the sentences after it."""
MAX_SENTENCE_CHARS = 1000
"""Longest sentence spoken (about a minute of speech), in characters."""
MAX_BLOCK_CHARS = 50_000
"""Markdown characters of one content block read for speech: three times the longest
real block, about 45 minutes of speech."""

WORD_NOTICE = "A very long word was skipped."
SENTENCE_NOTICE = "A very long sentence was cut short."
BLOCK_NOTICE = "The rest of a very long reply was skipped."
RAW_WORD_NOTICE = f"\n\n{WORD_NOTICE}\n\n"
"""The notice as a markdown paragraph of its own."""

# scripts written without spaces (CJK, kana, hangul, fullwidth forms, Thai, Lao, Myanmar,
# Khmer): a long run of them is a sentence, not a word
_NO_SPACE_SCRIPTS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\uff00-\uffef"
)
_WORD_CHAR = f"[^\\s{_NO_SPACE_SCRIPTS}]"
_WORD_RUN = re.compile(f"{_WORD_CHAR}+")
_IS_WORD_CHAR = re.compile(_WORD_CHAR)


class WordCap:
    """Text in, the same text with every word over ``max_chars`` replaced by ``notice``.

    ``feed`` holds back a trailing word of at most ``max_chars`` characters
    (the next piece may make it too long); ``flush`` releases it. The notice stands on
    its own line (``\\n`` is a hard sentence boundary for the segmenter), so the words
    before and after the long one are still spoken as sentences.
    """

    __slots__ = ("_held", "_long", "_max", "_notice", "_skipping")

    def __init__(self, max_chars: int = MAX_WORD_CHARS,
                 notice: str = f"\n{WORD_NOTICE}\n") -> None:
        self._max = max_chars
        self._notice = notice
        self._long = re.compile(f"(?<!{_WORD_CHAR}){_WORD_CHAR}{{{max_chars + 1},}}")
        self._held = ""
        self._skipping = False  # inside a long word already replaced by the notice

    def feed(self, text: str) -> str:
        """The capped text that ``text`` makes certain."""
        if self._skipping:
            m = _WORD_RUN.match(text)
            if m is not None:
                if m.end() == len(text):
                    return ""
                text = text[m.end():]
            self._skipping = False
        if self._held:
            text, self._held = self._held + text, ""
        out: list[str] = []
        pos = 0
        for m in self._long.finditer(text):
            out.append(text[pos:m.start()])
            out.append(self._notice)
            pos = m.end()
            if pos == len(text):
                self._skipping = True
        rest = text[pos:]
        if not self._skipping:
            k = len(rest)
            stop = max(0, k - self._max - 1)
            while k > stop and _IS_WORD_CHAR.match(rest, k - 1):
                k -= 1
            if k < len(rest):
                self._held, rest = rest[k:], rest[:k]
        out.append(rest)
        return "".join(out)

    @property
    def skipping(self) -> bool:
        """True while the rest of an over-long word (already announced) is dropped."""
        return self._skipping

    def flush(self) -> str:
        """The held word, if any; the cap is then empty."""
        held, self._held = self._held, ""
        self._skipping = False
        return held


__all__ = [
    "BLOCK_NOTICE", "MAX_BLOCK_CHARS", "MAX_RAW_WORD_CHARS", "MAX_SENTENCE_CHARS",
    "MAX_WORD_CHARS", "RAW_WORD_NOTICE", "SENTENCE_NOTICE", "WORD_NOTICE", "WordCap",
]
