"""The translation benchmark's arithmetic, and one smoke run on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomiage.bench_translate import bench_translate, load_sentences, step_weight_bytes
from yomiage.translate.random_models import SHAPES


def test_bench_sentences_are_5_to_40_words() -> None:
    sentences = load_sentences()
    assert 45 <= len(sentences) <= 55
    assert all(5 <= len(s.split()) <= 40 for s in sentences)


def test_step_weight_bytes_of_nllb_600m() -> None:
    d, f, layers, vocab = 1024, 4096, 12, 256206
    expected = layers * (6 * d * d + 2 * d * f) + vocab * d
    assert step_weight_bytes(SHAPES["nllb-600m"], vocab) == expected
    assert step_weight_bytes(SHAPES["nllb-600m"], 32768, 2.0) == \
        2 * (layers * (6 * d * d + 2 * d * f) + 32768 * d)


@pytest.mark.slow
def test_bench_runs_on_a_tiny_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOMIAGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # as bench_translate would set it
    result = bench_translate("tiny-nllb", "cpu", n=3, baseline=True, baseline_n=2)
    assert result["label"] == "random weights, real shape"
    for key in ("ctranslate2", "ctranslate2_vmap", "ctranslate2_vmap_1_thread"):
        assert result[key]["sentences"] == 3 and result[key]["p50_ms"] > 0
    assert result["transformers"]["sentences"] == 2
    assert result["speedup_ctranslate2_vmap"]["p50_ratio"] > 0
    assert result["bandwidth"]["vmap"]["bound_ms"] > 0
    assert (tmp_path / "bench-models" / "tiny-nllb" / "ct2" / "model.bin").is_file()
