"""Translation as a stream of phrases: speech can start on the first one while the
decoder is still writing the rest.

A greedy decoder emits tokens one by one; :func:`stream_pieces` turns that growing
sequence into pieces of text that end where a phrase ends (、。, ; : ! ? …), so that a
voice can speak "テストを確認しました、" while "原因は…" is still being decoded.
Joined, the pieces are the whole translation.

    >>> list(stream_pieces(["▁テスト", "を", "確認", "、", "▁原因", "は", "。"],
    ...                    lambda toks: "".join(toks).replace("▁", " ").strip()))
    ['テストを確認、', ' 原因は。']
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from yomiage.text.ja_words import JA_PARTICLES, accent_phrase_starts, japanese_analyser
from yomiage.translate.protect import Protected, restore_piece

log = logging.getLogger(__name__)

# Where a piece may end: CJK punctuation anywhere; Latin punctuation once a space follows
# (so "3.5", "e.g" and "a:b" inside words never cut).
_CUT = re.compile(r"[、。，．；：！？…」』）]+|[,;:!?.]+(?=\s)")
# A streamed first piece with no comma yet may end before a new word once it has this
# many characters (about 0.8 s of Japanese speech: enough to cover decoding the next).
FIRST_SOFT_CHARS = 6
# Text the Japanese analyser may segment: kana, kanji, the long-vowel mark, 々 (no Latin,
# digits or spaces, which its normaliser rewrites).
_JA_TEXT = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u3400-\u9fff々〆ー]+")
_KANA = re.compile(r"[\u3041-\u30ff]")


def stream_pieces(
    tokens: Iterable[str],
    decode: Callable[[list[str]], str],
    min_chars: int = 2,
    first_soft: int = FIRST_SOFT_CHARS,
) -> Iterator[str]:
    """Yield ``decode(tokens)`` in pieces, each as soon as the tokens so far complete it.

    A piece ends at a phrase boundary and holds at least ``min_chars`` non-space
    characters. The first piece may also end, after at least ``first_soft`` characters,
    where a new word (kanji, katakana or Latin) begins: after a Japanese particle, or at
    an accent-phrase boundary found by OpenJTalk's analyser when it is installed (where
    the voices may cut a phrase too), so that speech starts before the first comma. The
    last piece is whatever remains. Joined, the pieces equal ``decode(all tokens)`` whenever the
    decoding of a prefix is a prefix of the whole (true of sentencepiece; otherwise the
    remainder is aligned by length).
    """
    seen: list[str] = []
    emitted = ""
    for token in tokens:
        seen.append(token)
        text = decode(seen)
        if not text.startswith(emitted):
            continue  # a partial character; wait for the decoding to settle
        cut = 0
        for m in _CUT.finditer(text, len(emitted)):
            if len(text[len(emitted):m.end()].strip()) >= min_chars:
                cut = m.end()
        if not cut and not emitted:
            cut = _soft_cut(text, first_soft)
        if cut:
            yield text[len(emitted):cut]
            emitted = text[:cut]
    whole = decode(seen)
    if not whole.startswith(emitted):
        log.debug("streamed pieces drifted from the final decoding: %r vs %r", emitted, whole)
    rest = whole[len(emitted):]
    if rest.strip():
        yield rest


def _soft_cut(text: str, start: int) -> int:
    """The first place from ``start`` characters on that precedes a new word (kanji,
    katakana or Latin, not hiragana or punctuation) and follows a particle or ends an
    accent phrase; 0 if there is none yet."""
    cuts = [_accent_phrase_cut(text, start)]
    for i in range(start, len(text)):
        if text[i - 1] in JA_PARTICLES and _starts_word(text[i]):
            cuts.append(i)
            break
    return min((c for c in cuts if c), default=0)


def _starts_word(ch: str) -> bool:
    return not "\u3040" <= ch <= "\u309f" and ch.isalnum()


def _accent_phrase_cut(text: str, start: int) -> int:
    """The first accent-phrase boundary (OpenJTalk's analyser) at ``start`` characters or
    later that precedes a new word with at least two characters decoded, within the
    leading run of Japanese text; 0 if none, or no analyser."""
    analyse = japanese_analyser()
    run = _JA_TEXT.match(text, len(text) - len(text.lstrip()))
    if analyse is None or run is None or run.end() < start + 2 or not _KANA.search(run[0]):
        return 0
    for offset in accent_phrase_starts(run[0], analyse):
        pos = run.start() + offset
        if pos >= start and run.end() - pos >= 2 and _starts_word(text[pos]):
            return pos
    return 0


def translate_stream(translator: Any, text: str, src: str, tgt: str) -> Generator[str]:
    """The translation of ``text`` in pieces, from engines that can stream; others give
    their whole translation as one piece."""
    stream = getattr(translator, "translate_stream", None)
    if callable(stream):
        yield from stream(text, src, tgt)
    else:
        yield translator.translate(text, src, tgt)


def can_stream(translator: Any) -> bool:
    """True when ``translator`` yields pieces before its translation is complete."""
    probe = getattr(translator, "streams", None)
    if callable(probe):
        return bool(probe())
    return callable(getattr(translator, "translate_stream", None))


def restore_stream(pieces: Iterable[str], plan: Protected, original: str) -> Iterator[str]:
    """Put protected spans back into a streamed translation of ``plan.text``, piece by
    piece as they come.

    Each span goes back where its placeholder appears; spans whose placeholder never
    came follow as one last piece (as :func:`~yomiage.translate.protect.restore` appends
    them). If the model produced nothing, ``original`` is the translation.
    """
    used: set[int] = set()
    spoke = False
    for piece in pieces:
        out = restore_piece(piece, plan, used)
        if out.strip():
            spoke = True
            yield out
    if not spoke:
        yield original
        return
    missing = [span for i, span in enumerate(plan.spans) if i not in used]
    if missing:
        yield " " + " ".join(missing)
