"""Vocabulary maps: let the decoder score only tokens that can appear in the target language.

On NLLB-200 the 256k-row output projection is most of a decoder step; Japanese output
needs a few tens of thousands of those rows. CTranslate2 reads ``vmap.txt`` from the
model directory when called with ``use_vmap=True``; each line is
``<source token>\\t<target candidates>`` and the line with an empty source lists the
tokens always allowed. We build it from the model's own vocabulary.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Container, Iterable
from functools import lru_cache
from pathlib import Path

from yomiage.translate.languages import SCRIPTS, char_script
from yomiage.translate.tokenizer import _is_lang_token

log = logging.getLogger(__name__)

VMAP_FILE = "vmap.txt"
VMAP_LANG_FILE = "vmap.lang"
# Bumped when the rules change, so that maps built by an older yomiage are rebuilt.
# 2: Japanese maps drop tokens with Han characters that Japanese text does not use.
VMAP_RULES = 2

# Scripts whose letters a token of each target script may contain.
_ALLOWED: dict[str, frozenset[str]] = {
    "Japanese": frozenset({"Kana", "Han"}),
    "Han": frozenset({"Han"}),
    "Hangul": frozenset({"Hangul", "Han"}),
    "Latin": frozenset({"Latin"}),
    "Cyrillic": frozenset({"Cyrillic"}),
    "Arabic": frozenset({"Arabic"}),
    "Devanagari": frozenset({"Devanagari"}),
}
_ALWAYS = ("</s>", "<unk>", "<s>")
# A model directory holding this file is always decoded over its whole vocabulary. The
# compact en→ja model ships it: there the script-rule map cost 19 chrF on its test split
# (its output copies identifiers as Latin pieces the map drops), and its 16k-row
# projection is a small part of a step (docs/training.md).
NO_MAP_FILE = "vmap.none"


def map_pays(model_dir: Path) -> bool:
    """False when the model says its output needs its whole vocabulary (NO_MAP_FILE)."""
    return not (model_dir / NO_MAP_FILE).is_file()


def _scripts(token: str) -> set[str]:
    found: set[str] = set()
    for ch in token:
        script = char_script(ch)
        if script is not None:
            found.add(script)
    return found


@lru_cache(maxsize=65536)
def japanese_kanji(ch: str) -> bool:
    """True for a Han character that Japanese text can contain: one in JIS X 0213
    (EUC-JIS-2004) or Windows-932, about 12,600 of the 21,000 unified ideographs.
    Simplified-only Chinese forms (们, 这, 说) are not."""
    for encoding in ("euc_jis_2004", "cp932"):
        try:
            ch.encode(encoding)
        except UnicodeEncodeError:
            continue
        return True
    return False


def _japanese_han_only(token: str) -> bool:
    return all(japanese_kanji(ch) for ch in token if char_script(ch) == "Han")


def _acronym(token: str) -> bool:
    """Short upper-case ASCII (API, CPU, v2) or a single ASCII letter."""
    core = token.lstrip("▁")
    if len(core) == 1:
        return core.isascii() and core.isalpha()
    return 0 < len(core) <= 6 and core.isascii() and core.isalnum() and core.upper() == core


def vmap_tokens(vocabulary: Iterable[str], tgt: str, lang_token: str | None = None) -> list[str]:
    """Target-vocabulary tokens always allowed when translating into ``tgt``.

    Keeps tokens made only of the target's script(s), tokens with no letters
    (digits, punctuation, the word marker), short upper-case ASCII (API, CPU, v2) and
    single ASCII letters for non-Latin targets, the special tokens and the target's
    language token. For Japanese, a token's Han characters must be ones Japanese uses
    (:func:`japanese_kanji`): multilingual vocabularies hold many Chinese-only tokens, and
    every row dropped is a row the decoder need not score at each step.
    """
    allowed = _ALLOWED[SCRIPTS[tgt]]
    latin_target = SCRIPTS[tgt] == "Latin"
    japanese = SCRIPTS[tgt] == "Japanese"
    keep: list[str] = []
    for token in vocabulary:
        if not token or " " in token or "\t" in token:
            continue
        scripts = _scripts(token)
        if (
            token in _ALWAYS
            or token == lang_token
            or (scripts and scripts <= allowed
                and (not japanese or "Han" not in scripts or _japanese_han_only(token)))
            or (not scripts and not _looks_special(token))
            or (not latin_target and scripts == {"Latin"} and _acronym(token))
        ):
            keep.append(token)
    return keep


def _looks_special(token: str) -> bool:
    """Language and control tokens (``__ja__``, ``<pad>``, ``>>jpn<<``) carry no letters we keep."""
    return token.startswith(("<", ">>")) and token.endswith((">", "<<")) and len(token) > 2


def copyable_ids(source_ids: Iterable[int], allowed: Collection[int], rows: int,
                 token_of: Callable[[int], str], skip: Container[int] = ()) -> list[int]:
    """Source token ids that an output restricted to ``allowed`` may still copy (names,
    identifiers), in order and once each: ids below ``rows`` outside ``allowed``, not in
    ``skip`` and not language tokens (``token_of`` gives an id's token)."""
    keep = (i for i in source_ids
            if 0 <= i < rows and i not in allowed and i not in skip
            and not _is_lang_token(token_of(i)))
    return list(dict.fromkeys(keep))


def vmap_lines(vocabulary: list[str], tgt: str, lang_token: str | None = None) -> list[str]:
    """Lines of a vmap.txt: one line, the always-allowed set.

    No per-source-token rules: CTranslate2 4.8 fails ("vector::_M_range_check") when the
    candidate set of a call is smaller than that of the call before, which source rules
    cause. A constant set avoids it; Latin words stay spellable through single letters.
    """
    return ["\t" + " ".join(vmap_tokens(vocabulary, tgt, lang_token))]


def vmap_marker(tgt: str) -> str:
    """The content of ``vmap.lang`` for a map into ``tgt`` built by the current rules."""
    return f"{tgt} {VMAP_RULES}\n"


def ensure_vmap(model_dir: Path, vocabulary: list[str], tgt: str,
                lang_token: str | None = None) -> bool:
    """Make ``model_dir/vmap.txt`` restrict output to ``tgt``; False if it cannot be written."""
    marker = model_dir / VMAP_LANG_FILE
    path = model_dir / VMAP_FILE
    try:
        if path.is_file() and marker.is_file() and marker.read_text() == vmap_marker(tgt):
            return True
        tmp = model_dir / f".{VMAP_FILE}.{os.getpid()}.tmp"
        tmp.write_text("\n".join(vmap_lines(vocabulary, tgt, lang_token)) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
        marker.write_text(vmap_marker(tgt))
    except OSError as exc:
        log.info("no vocabulary map for %s (%s): decoding over the full vocabulary",
                 model_dir, exc)
        return False
    return True
