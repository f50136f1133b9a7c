"""Translate a long sentence clause by clause, so speech can start after the first one.

>>> split_clauses("We changed the parser, which was slow, and the tests pass now.", 30)
['We changed the parser, which was slow,', 'and the tests pass now.']
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yomiage.translate.base import Translator

# A cut is allowed after , ; : or a dash, or before a coordinating/subordinating word.
_CUT = re.compile(
    r"(?<=[,;:、，；：])\s+|\s+(?=[-–—]\s)|"
    r"\s+(?=(?:and|but|so|because|which|while|although|then|or|whereas)\b)"
)


def split_clauses(text: str, max_chars: int) -> list[str]:
    """Cut ``text`` into clauses no longer than ``max_chars`` where a boundary allows.

    Pieces are glued back together greedily while they fit, so a short sentence stays
    whole and no clause is shorter than it must be. Joining the result with single
    spaces gives back the text (whitespace normalised).
    """
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return [text] if text else []
    pieces = [p for p in _CUT.split(text) if p and p.strip()]
    clauses: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if clauses and len(clauses[-1]) + 1 + len(piece) <= max_chars:
            clauses[-1] = f"{clauses[-1]} {piece}"
        else:
            clauses.append(piece)
    # A tiny last clause ("so.") reads badly alone: merge it back.
    if len(clauses) > 1 and len(clauses[-1]) < 12:
        tail = clauses.pop()
        clauses[-1] = f"{clauses[-1]} {tail}"
    return clauses


def translate_clauses(
    translator: Translator, text: str, src: str, tgt: str, max_chars: int
) -> Iterator[str]:
    """Yield the translation of each clause of ``text`` as soon as it is ready."""
    for clause in split_clauses(text, max_chars):
        yield translator.translate(clause, src, tgt)
