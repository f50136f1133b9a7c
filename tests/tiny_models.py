"""Tiny random-weight Marian, M2M-100 and NLLB-200 models for tests.

Real SentencePiece tokenizers trained on the fixtures' English and Japanese text,
Transformers checkpoints of small dimensions, converted by CTranslate2's converter.
"""

from __future__ import annotations

import os
from pathlib import Path

from yomiage.bench.random_models import build_model

_REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("YOMIAGE_FIXTURES") or _REPO.parent / "shared" / "fixtures")
FAMILIES = ("marian", "m2m", "nllb")

_FALLBACK_TEXT = [
    "The tests pass now, and the build takes two minutes less.",
    "I'll read the configuration loader first.",
    "テストはすべて通りました。",
    "設定ファイルを読み込む処理を確認します。",
    "Let me check why the CI runner fails on macOS.",
    "キャッシュのキーにロケールが含まれていませんでした。",
]


def training_text() -> list[str]:
    """English and Japanese lines to train the tiny tokenizers on."""
    lines = list(_FALLBACK_TEXT)
    for path in sorted(FIXTURES.glob("*.expected.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    return lines


def build_tiny(family: str, out: Path, seed: int = 0) -> tuple[Path, Path]:
    """(Transformers checkpoint dir, CTranslate2 dir) of a tiny ``family`` model."""
    return build_model(f"tiny-{family}", training_text(), out, seed=seed, spm_vocab=400)
