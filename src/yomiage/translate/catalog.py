"""Translation models yomiage knows, and the default for each language pair.

How defaults are chosen (details and sources in docs/models.md):
- A pair's default must be free to use by anyone, commercially too: Marian models
  (OPUS-MT: Apache-2.0 / CC-BY-4.0; FuguMT: CC-BY-SA-4.0) or M2M-100 (MIT).
  NLLB-200 is CC-BY-NC-4.0: offered, never a default, flagged when chosen.
- A dedicated bilingual Marian model (~75 M parameters, d512, 6+6 layers) beats a
  multilingual model of its size on its pair and is 5-8× cheaper per token than
  NLLB-600M/M2M-418M, so it wins where one exists.
- en→ja: FuguMT en-ja (staka/fugumt-en-ja) reports 32.7 BLEU (sacrebleu, ja-mecab) on 500
  Tatoeba sentences; its ja→en sibling 39.1. Helsinki-NLP's opus-mt-en-jap is trained on
  Bible text ("jap" is not modern Japanese) and is not offered. NLLB-600M is known weak on
  ja↔en for its size (see docs/models.md) and is non-commercial.
- Pairs without a good bilingual model fall back to M2M-100 418M (MIT, 100 languages).
- en→ja also has a compact Marian model trained here on the Python documentation's
  Japanese translation (docs/training.md) and shipped inside the package: ``auto`` uses
  it when FuguMT is not installed, so a fresh machine narrates in Japanese offline.
  FuguMT translates better and stays the choice once fetched.
"""

from __future__ import annotations

from yomiage.models.spec import ModelSpec
from yomiage.translate.languages import LANGUAGES

_MARIAN_FILES = ("config.json", "*.spm", "vocab.json", "tokenizer_config.json",
                 "special_tokens_map.json", "pytorch_model.bin")
_MARIAN_REQUIRED = ("model.bin", "source.spm", "target.spm", "*vocabulary*")
_SHARED_REQUIRED = ("model.bin", "sentencepiece.bpe.model", "*vocabulary*")
_ALL = tuple(sorted(LANGUAGES))


def _marian(name: str, repo: str, src: str, tgt: str, licence: str, notes: str = "",
            size_mb: int = 300) -> ModelSpec:
    return ModelSpec(
        name=name, kind="translation", repo=repo, files=_MARIAN_FILES, format="transformers",
        licence=licence, size_mb=size_mb, languages=(src, tgt),
        notes=notes or "Marian d512 6+6; converted to CTranslate2 int8 (~80 MB) after download",
        required=_MARIAN_REQUIRED,
    )


def _opus(src: str, tgt: str, repo: str | None = None, licence: str = "Apache-2.0") -> ModelSpec:
    return _marian(f"opus-mt-{src}-{tgt}", repo or f"Helsinki-NLP/opus-mt-{src}-{tgt}",
                   src, tgt, licence)


TRANSLATION_MODELS: list[ModelSpec] = [
    _marian("fugumt-en-ja", "staka/fugumt-en-ja", "en", "ja", "CC-BY-SA-4.0",
            "FuguMT (Marian); 32.7 BLEU on Tatoeba en→ja (model card)"),
    _marian("fugumt-ja-en", "staka/fugumt-ja-en", "ja", "en", "CC-BY-SA-4.0",
            "FuguMT (Marian); 39.1 BLEU on Tatoeba ja→en (model card)"),
    *(_opus("en", t) for t in ("es", "fr", "de", "it", "ru", "zh", "ar", "hi")),
    *(_opus(s, "en") for s in ("es", "fr", "de", "it", "ru", "zh", "ar", "hi", "ko", "tr")),
    _opus("en", "pt", "Helsinki-NLP/opus-mt-tc-big-en-pt", "CC-BY-4.0"),
    _opus("en", "tr", "Helsinki-NLP/opus-mt-tc-big-en-tr", "CC-BY-4.0"),
    ModelSpec(
        name="m2m100-418m", kind="translation", repo="facebook/m2m100_418M",
        files=("config.json", "pytorch_model.bin", "sentencepiece.bpe.model", "vocab.json",
               "tokenizer_config.json", "special_tokens_map.json"),
        format="transformers", licence="MIT", size_mb=1940, languages=_ALL,
        notes="M2M-100 418M, 100 languages; default where no bilingual model exists",
        required=_SHARED_REQUIRED,
    ),
    ModelSpec(
        name="m2m100-1.2b", kind="translation", repo="facebook/m2m100_1.2B",
        files=("config.json", "pytorch_model.bin", "sentencepiece.bpe.model", "vocab.json",
               "tokenizer_config.json", "special_tokens_map.json"),
        format="transformers", licence="MIT", size_mb=4960, languages=_ALL,
        notes="M2M-100 1.2B: better than 418M, ~3× slower", required=_SHARED_REQUIRED,
    ),
    ModelSpec(
        name="nllb-200-distilled-600m", kind="translation",
        repo="skywood/nllb-200-distilled-600M-ct2-int8",
        files=("config.json", "model.bin", "sentencepiece.bpe.model", "shared_vocabulary.json"),
        format="ct2", licence="CC-BY-NC-4.0", size_mb=630, languages=_ALL,
        notes="NLLB-200 600M distilled, pre-converted int8; weak on ja↔en; NON-COMMERCIAL",
        required=_SHARED_REQUIRED,
    ),
    ModelSpec(
        name="nllb-200-distilled-1.3b", kind="translation",
        repo="facebook/nllb-200-distilled-1.3B",
        files=("config.json", "pytorch_model.bin", "sentencepiece.bpe.model", "tokenizer.json",
               "tokenizer_config.json", "special_tokens_map.json"),
        format="transformers", licence="CC-BY-NC-4.0", size_mb=5480, languages=_ALL,
        notes="NLLB-200 1.3B distilled; NON-COMMERCIAL", required=_SHARED_REQUIRED,
    ),
    ModelSpec(
        name="nllb-200-3.3b", kind="translation", repo="facebook/nllb-200-3.3B",
        files=("config.json", "pytorch_model*.bin", "pytorch_model.bin.index.json",
               "sentencepiece.bpe.model", "tokenizer.json", "tokenizer_config.json",
               "special_tokens_map.json"),
        format="transformers", licence="CC-BY-NC-4.0", size_mb=17600, languages=_ALL,
        notes="NLLB-200 3.3B dense; GPU advised; NON-COMMERCIAL", required=_SHARED_REQUIRED,
    ),
]

BUNDLED_MODELS: list[ModelSpec] = [
    ModelSpec(
        name="compact-en-ja", kind="translation", repo="", format="bundled",
        licence="PSF-2.0", size_mb=19, languages=("en", "ja"),
        notes="Marian d320 6+3 trained on python-docs-ja (docs/training.md); ships with "
              "yomiage, int8; FuguMT translates better",
        required=_MARIAN_REQUIRED,
    ),
]
TRANSLATION_MODELS += BUNDLED_MODELS

FALLBACK_MODEL = "m2m100-418m"


def translation_specs() -> dict[str, ModelSpec]:
    """Translation models by name."""
    return {spec.name: spec for spec in TRANSLATION_MODELS}


def default_model(src: str, tgt: str) -> str:
    """The default model name for a pair: a bilingual Marian model, else M2M-100 418M."""
    for spec in TRANSLATION_MODELS:
        if spec.languages == (src, tgt):
            return spec.name
    return FALLBACK_MODEL


def bundled_model(src: str, tgt: str) -> str | None:
    """The model shipped inside the package for a pair, or None."""
    for spec in BUNDLED_MODELS:
        if spec.languages == (src, tgt):
            return spec.name
    return None


def licence_warning(spec: ModelSpec) -> str | None:
    """A sentence to show users who pick a non-commercial model, else None."""
    if not spec.noncommercial:
        return None
    return (f"{spec.name} is licensed {spec.licence}: non-commercial use only. "
            f"Use the default for your language pair for anything else.")
