"""The translation benchmark's arithmetic, and one smoke run on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomiage.bench.bandwidth import bounds, read_bandwidth, step_weight_bytes
from yomiage.bench.random_models import SHAPES
from yomiage.bench.translate import bench_translate, load_sentences


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


def test_read_bandwidth_is_positive_with_one_and_two_readers() -> None:
    assert read_bandwidth(1, megabytes=8, repeats=1) > 0
    assert read_bandwidth(2, megabytes=8, repeats=1) > 0


def test_bound_uses_read_bandwidth_of_the_variants_thread_count() -> None:
    shape = SHAPES["nllb-600m"]
    step = {"median_ms": 30.0, "best_ms": 20.0}
    band = bounds(shape, {"one": (1, 32768, step), "two": (2, 32768, step)},
                  reads={1: [10.0, 12.5], 2: [20.0, 25.0]}, copies=[30.0])
    nbytes = step_weight_bytes(shape, 32768)
    assert band["one"]["bound_ms"] == pytest.approx(nbytes / 12.5e9 * 1e3, abs=1e-3)
    assert band["two"]["bound_ms"] == pytest.approx(nbytes / 25e9 * 1e3, abs=1e-3)
    assert band["one"]["step_over_bound"] == pytest.approx(30 / band["one"]["bound_ms"], 0.01)
    assert band["two"]["best_step_over_bound"] == \
        pytest.approx(20 / band["two"]["bound_ms"], 0.01)
    assert band["copy_gb_s_best"] == 30.0
    assert band["one"]["copy_bound_ms"] == pytest.approx(nbytes / 30e9 * 1e3, abs=1e-3)
    assert band["one"]["step_over_copy_bound"] == \
        pytest.approx(30 / band["one"]["copy_bound_ms"], 0.01)


@pytest.mark.slow
def test_bench_runs_on_a_tiny_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOMIAGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # as bench_translate would set it
    result = bench_translate("tiny-nllb", "cpu", n=3, baseline=True, baseline_n=2,
                             threads=2, vmap_sizes=[40])
    assert result["label"] == "random weights, real shape"
    variants = ("ctranslate2", "ctranslate2_vmap", "ctranslate2_vmap_1_thread",
                "ctranslate2_vmap40", "openvino_vmap_2_threads", "openvino_vmap_1_thread")
    for key in variants:
        assert result[key]["sentences"] == 3 and result[key]["p50_ms"] > 0
        assert result[f"speedup_{key}"]["p50_ratio"] > 0
        assert result["bandwidth"][key]["bound_ms"] > 0
    assert result["ctranslate2_vmap_1_thread"]["threads"] == 1
    assert result["ctranslate2_vmap"]["threads"] == 2
    assert result["ctranslate2_vmap40"]["output_rows"] == 40
    assert result["bandwidth"]["ctranslate2_vmap40"]["weight_bytes_per_step"] < \
        result["bandwidth"]["ctranslate2"]["weight_bytes_per_step"]
    assert result["transformers"]["sentences"] == 2
    assert result["openvino_vmap_1_thread"]["threads"] == 1
    assert result["openvino_vmap_2_threads"]["output_rows"] == \
        result["ctranslate2_vmap"]["output_rows"]
    assert (tmp_path / "bench-models" / "tiny-nllb" / "ct2" / "model.bin").is_file()
