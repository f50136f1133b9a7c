"""`yomiage bench --stage pipeline` with fake engines: replay, breakdown, JSON, plot."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

import yomiage.bench.pipeline as bp
import yomiage.narrate.replay as replay
from test_pipeline import FakeTranslator, FakeVoice
from yomiage.bench.main import run_bench, summarize
from yomiage.config import Config
from yomiage.records import Timeline


def _args(**kw: object) -> argparse.Namespace:
    base = dict(stage="pipeline", json=True, plot=None, baseline=False, realtime=False, live=False,
                repeat=0, shape=None, input=None)
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.fixture
def fake_bench(monkeypatch: pytest.MonkeyPatch) -> bp.BenchEngines:
    eng = bp.BenchEngines(FakeTranslator(delay=0.002), FakeVoice(chunks=2, chunk_s=0.05,
                                                                  delay=0.002), 0.25,
                          {"engine": "fake", "model": "fake-model", "device": "cpu"},
                          hf_dir=Path("/nonexistent"))
    monkeypatch.setattr(bp, "load_bench_engines", lambda cfg, shape: eng)
    monkeypatch.setattr(bp, "hf_baseline_translator",
                        lambda hf, ratio, threads: FakeTranslator(delay=0.03))
    return eng


def test_schedule_paces_text_and_tools() -> None:
    lines = dict(bp.corpus_lines())["sample_session.ndjson"]
    offsets = replay.schedule(lines)
    assert offsets == sorted(offsets) and len(offsets) == len(lines)
    # a few seconds of streamed text plus 1.5 s per tool result
    assert 5.0 < offsets[-1] < 30.0


def test_realtime_replay_stamps_scheduled_arrival() -> None:
    lines = [b'{"type":"system"}'] * 3
    started = time.perf_counter()
    raws = list(replay.replay(lines, realtime=True))
    assert time.perf_counter() - started >= 0.025
    assert [r.line_no for r in raws] == [1, 2, 3]
    assert raws[0].read_at < raws[1].read_at < raws[2].read_at


def test_stand_in_text_is_japanese_and_scales_with_length() -> None:
    short, long_ = bp.stand_in("Done.", "ja"), bp.stand_in("word " * 40, "ja")
    assert short.endswith("。") and len(long_) > 3 * len(short)
    assert bp.stand_in("Keep me.", "en") == "Keep me."


def test_stage_breakdown_adds_up_to_first_audio() -> None:
    tl = Timeline(seq=0, text="x", read_at=1.0, segmented_at=1.001, translated_at=1.05,
                  first_audio_at=1.2)
    tl.extra.update(translate_start=1.002, synth_start=1.06, first_chunk_at=1.19)
    stages = bp.stage_ms(tl)
    assert list(stages) == list(bp.STAGES)
    assert sum(stages.values()) == pytest.approx(200.0)
    assert stages["translate"] == pytest.approx(48.0)


def test_pipeline_bench_json_with_baseline(fake_bench: bp.BenchEngines,
                                          capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    plot = tmp_path / "wf.png"
    assert run_bench(_args(baseline=True, plot=str(plot)), Config(voice="fake")) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("p50_ms", "p95_ms", "max_ms", "stages", "rtf", "load_s", "peak_rss_mb",
                "engines", "models", "device", "options", "hardware", "date"):
        assert key in res, key
    assert res["sentences"] >= 20 and res["mode"] == "fast"
    assert res["skipped_sentences"] == 0 and res["max_lag_s"] is None  # never skips
    assert res["p50_ms"] <= res["p95_ms"] <= res["max_ms"]
    assert res["stages"]["translate"]["p50_ms"] >= 1.5  # the fake sleeps 2 ms
    assert 0 < res["rtf"] < 1
    base = res["baseline"]
    # old design: 30 ms translation + whole-sentence synthesis vs 2 ms + first chunk
    assert base["p50_ms"] > res["p50_ms"] and base["ratio_p50"] > 2
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_pipeline_bench_text_report(fake_bench: bp.BenchEngines,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bench(_args(json=False), Config()) == 0
    out = capsys.readouterr().out
    assert "first audio: P50" in out and "real-time factor" in out and "fake-model" in out


def test_summarize_ignores_unspoken() -> None:
    tl = Timeline(seq=0, text="x", read_at=0.0)
    assert summarize([tl])["p50_ms"] is None


def test_bench_vmap_dir_restricts_decoding_without_touching_the_model(
        tiny_models: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    import shutil

    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.token_engine import DecodeOptions
    from yomiage.translate.tokenizer import read_vocabulary

    ct2 = tmp_path / "marian" / "ct2"
    shutil.copytree(tiny_models["marian"][1], ct2)
    before = sorted(p.name for p in ct2.iterdir())
    vocab = read_vocabulary(ct2)
    size = len(vocab) // 3
    mapped = bp.bench_vmap_dir(ct2, size)
    assert mapped.parent == ct2.parent and sorted(p.name for p in ct2.iterdir()) == before
    assert bp.bench_vmap_dir(ct2, size) == mapped  # reused
    engine = CT2Translator(mapped, options=DecodeOptions(forced_ratio=1.3), threads=1,
                           vmap_target="ja")
    assert engine.vmap_target == "ja"  # the map is taken as is, not rebuilt
    allowed = set(vocab[:size])
    out = engine.generate(["The tests pass now, and the build is faster."], "en", "ja")[0]
    assert out and set(out) <= allowed
    pytest.importorskip("openvino")
    from yomiage.translate.openvino.engine import OVTranslator

    ov_engine = OVTranslator(mapped, options=DecodeOptions(forced_ratio=1.3), threads=1,
                             extra_slots=0)
    assert len(ov_engine.output_ids("ja")) == size  # the same map, read as is
    out = ov_engine.generate(["The tests pass now, and the build is faster."], "en", "ja")[0]
    assert out and set(out) <= allowed


def test_live_mode_skips_what_falls_behind_and_says_how_much() -> None:
    """`--live`: realtime replay on a clocked sink with lag control, as on speakers."""
    text = " ".join(f"Step {n} of the plan is done and checked." for n in range(1, 11))
    line = json.dumps({"type": "assistant", "message": {
        "role": "assistant", "content": [{"type": "text", "text": text}]}}).encode()
    voice = FakeVoice(chunks=1, chunk_s=0.4, delay=0.001)
    eng = bp.BenchEngines(FakeTranslator(delay=0.001), voice, 0.0,
                          {"engine": "fake", "model": "fake", "device": "cpu"})
    cfg = Config(voice="fake", max_lag=1.0)
    live = bp.run_overlapped(cfg, eng, True, [[line]], live=True)
    skipped = [tl for tl in live.timelines if tl.skipped]
    spoken = [tl for tl in live.timelines if tl.first_audio_at is not None]
    assert len(live.timelines) >= 10 and skipped and spoken
    assert len(spoken) + len(skipped) <= len(live.timelines)
