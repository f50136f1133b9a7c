"""SentencePiece tokenization for CTranslate2 models, without Transformers at run time.

A converted model directory says which family it is by its files:
Marian has ``source.spm``/``target.spm``; NLLB-200 and M2M-100 share one
``sentencepiece.bpe.model`` (or ``spm.128k.model``) and differ by their language
tokens (``eng_Latn`` versus ``__en__``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sentencepiece as spm

from yomiage.translate.languages import M2M_CODES, NLLB_CODES

VOCAB_FILES = (
    "shared_vocabulary.json", "shared_vocabulary.txt",
    "target_vocabulary.json", "target_vocabulary.txt",
)
_SHARED_SPM = ("sentencepiece.bpe.model", "spm.128k.model", "sentencepiece.model")
_SPECIAL = frozenset({"<s>", "</s>", "<pad>", "<unk>", "<mask>"})
# Multi-target Marian models (opus-mt-en-zh, …) want a target token first.
_MARIAN_TARGET_TOKENS = {"zh": (">>cmn_Hans<<", ">>zho<<"), "ja": (">>jpn<<",),
                         "pt": (">>por<<",), "ar": (">>arb<<", ">>ara<<")}


def _read_tokens(model_dir: Path, names: tuple[str, ...]) -> list[str] | None:
    for name in names:
        path = model_dir / name
        if path.is_file():
            if name.endswith(".json"):
                return list(json.loads(path.read_text(encoding="utf-8")))
            return path.read_text(encoding="utf-8").splitlines()
    return None


def read_vocabulary(model_dir: Path) -> list[str]:
    """The target vocabulary of a converted model, in id order."""
    tokens = _read_tokens(model_dir, VOCAB_FILES)
    if tokens is None:
        raise FileNotFoundError(f"{model_dir} has no vocabulary file ({', '.join(VOCAB_FILES)})")
    return tokens


def read_source_vocabulary(model_dir: Path) -> list[str]:
    """The source vocabulary of a converted model, in id order (the shared one if the
    model has no separate source vocabulary)."""
    tokens = _read_tokens(model_dir, ("source_vocabulary.json", "source_vocabulary.txt"))
    return tokens if tokens is not None else read_vocabulary(model_dir)


def detect_family(model_dir: Path, vocabulary: list[str] | None = None) -> str:
    """``marian``, ``nllb`` or ``m2m`` from the files in ``model_dir``; ValueError otherwise."""
    if (model_dir / "source.spm").is_file():
        return "marian"
    vocab = set(vocabulary if vocabulary is not None else read_vocabulary(model_dir))
    if "eng_Latn" in vocab:
        return "nllb"
    if "__en__" in vocab:
        return "m2m"
    raise ValueError(f"{model_dir}: not a Marian, NLLB-200 or M2M-100 CTranslate2 model")


@dataclass
class SpmTokenizer:
    """Turns text into the token strings a CTranslate2 model expects, and back."""

    family: str
    source: spm.SentencePieceProcessor
    target: spm.SentencePieceProcessor
    vocabulary: frozenset[str]

    @classmethod
    def load(cls, model_dir: Path) -> SpmTokenizer:
        """Load the tokenizer files of a converted model directory."""
        vocab = read_vocabulary(model_dir)
        family = detect_family(model_dir, vocab)
        if family == "marian":
            src = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
            tgt_path = model_dir / "target.spm"
            tgt = spm.SentencePieceProcessor(model_file=str(tgt_path)) if tgt_path.is_file() \
                else src
            return cls(family, src, tgt, frozenset(vocab))
        for name in _SHARED_SPM:
            if (model_dir / name).is_file():
                proc = spm.SentencePieceProcessor(model_file=str(model_dir / name))
                return cls(family, proc, proc, frozenset(vocab))
        names = ", ".join(_SHARED_SPM)
        raise FileNotFoundError(f"{model_dir} has no SentencePiece model ({names})")

    def lang_token(self, lang: str) -> str | None:
        """The token that names ``lang`` for this model family (None for Marian pairs)."""
        if self.family == "nllb":
            return NLLB_CODES[lang]
        if self.family == "m2m":
            return M2M_CODES[lang]
        for token in _MARIAN_TARGET_TOKENS.get(lang, ()):
            if token in self.vocabulary:
                return token
        return None

    def encode(self, text: str, src: str, tgt: str) -> list[str]:
        """Source tokens, with the language tokens and end mark the family wants."""
        pieces: list[str] = self.source.encode(text, out_type=str)
        if self.family == "marian":
            marker = self.lang_token(tgt)
            return ([marker] if marker else []) + pieces + ["</s>"]
        return [self.lang_token(src) or "", *pieces, "</s>"]

    def target_prefix(self, tgt: str) -> list[str] | None:
        """Tokens the decoder must start with (the target language for NLLB/M2M)."""
        if self.family == "marian":
            return None
        return [self.lang_token(tgt) or ""]

    def decode(self, tokens: list[str]) -> str:
        """Text of an output token sequence, language and special tokens removed."""
        pieces = [t for t in tokens if t not in _SPECIAL and not _is_lang_token(t)]
        return str(self.target.decode(pieces)).strip()


_LANG_TOKENS = frozenset(NLLB_CODES.values()) | frozenset(M2M_CODES.values())


def _is_lang_token(token: str) -> bool:
    if token in _LANG_TOKENS:
        return True
    if token.startswith("__") and token.endswith("__") and len(token) <= 9:
        return True
    if token.startswith(">>") and token.endswith("<<"):
        return True
    return len(token) == 8 and token[3] == "_" and token[:3].islower() and token[4].isupper()
