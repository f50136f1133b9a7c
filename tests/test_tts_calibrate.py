"""voice = auto picks a voice that keeps up on this machine (issue 20): the choice logic
with fake timings, the cache, the notes, and one real calibration of a fast voice."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import yomiage.tts.calibrate as cal_mod
import yomiage.tts.registry as registry
from yomiage.config import Config
from yomiage.records import AudioChunk

SR = 24000
JA = ["kokoro:jf_alpha", "kokoro:jm_kumo", "openjtalk", "espeak"]


class PacedVoice:
    """Chunks of ``chunk_s`` seconds of audio, each after ``rtf × chunk_s`` of work."""

    language = "ja"
    sample_rate = SR

    def __init__(self, name: str, rtf: float, chunk_s: float = 0.1, chunks: int = 4) -> None:
        self.name, self.rtf, self.chunk_s, self.chunks = name, rtf, chunk_s, chunks
        self.warmed = False

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        for _ in range(self.chunks):
            time.sleep(self.rtf * self.chunk_s)
            yield AudioChunk(np.zeros(int(self.chunk_s * SR), np.float32), SR)

    def warmup(self) -> None:
        self.warmed = True


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setattr(cal_mod, "load_per_core", lambda: 0.3)  # a quiet machine
    return Config(cache_dir=str(tmp_path), offline=True)


def test_rank_puts_voices_that_keep_up_first_then_the_fastest_slow_ones() -> None:
    rtf = {"kokoro": 0.94, "piper": None, "openjtalk": 0.05}
    assert cal_mod.rank(JA, rtf) == ["openjtalk", "espeak", "kokoro:jf_alpha", "kokoro:jm_kumo"]
    assert cal_mod.rank(JA, {"kokoro": 0.3}) == JA  # Kokoro keeps up: order unchanged
    assert cal_mod.rank(JA, {}) == JA  # not calibrated: the preference order
    # nothing keeps up: the fastest first, an engine that could not load last
    assert cal_mod.rank(["kokoro", "piper", "openjtalk"],
                        {"kokoro": 0.9, "piper": None, "openjtalk": 0.7}) == \
        ["openjtalk", "kokoro", "piper"]


def test_choice_note_says_why_and_how_to_override() -> None:
    rtf = {"kokoro": 0.94, "openjtalk": 0.05}
    assert cal_mod.choice_note("openjtalk", JA, rtf) == (
        "kokoro is too slow on this CPU (RTF 0.94); --voice kokoro to use it anyway")
    assert cal_mod.choice_note("kokoro:jf_alpha", JA, {"kokoro": 0.3}) == ""
    slow = cal_mod.choice_note("openjtalk", JA, {"kokoro": 0.94, "openjtalk": 0.7})
    assert "no installed voice keeps up here; openjtalk is the fastest (RTF 0.70)" in slow
    assert "piper could not load" in cal_mod.choice_note(
        "openjtalk", ["piper", "openjtalk"], {"piper": None, "openjtalk": 0.1})


def test_measure_stops_early_on_a_clear_verdict() -> None:
    slow = PacedVoice("kokoro", rtf=2.0, chunk_s=0.25, chunks=8)  # 2 s of audio a text
    t0 = time.perf_counter()
    rtf, spent = cal_mod.measure_rtf(slow, ["a", "b"], budget_s=10.0)
    assert rtf == pytest.approx(2.0, rel=0.3)
    assert spent < 1.6 and time.perf_counter() - t0 < 2.0  # ~0.5 s of audio, not 4 s
    fast = PacedVoice("espeak", rtf=0.05)
    assert cal_mod.measure_rtf(fast, ["a"], budget_s=10.0)[0] < 0.3


def test_calibration_stops_at_the_first_voice_that_keeps_up_and_is_cached(
        cfg: Config) -> None:
    loaded: list[str] = []
    speeds = {"kokoro": 1.0, "openjtalk": 0.05, "espeak": 0.01}

    def load(name: str) -> PacedVoice:
        loaded.append(name)
        return PacedVoice(name, speeds[cal_mod.engine_of(name)])

    cal, voice = cal_mod.calibrate(cfg, "ja", JA, load, busy=False)
    assert loaded == ["kokoro:jf_alpha", "openjtalk"]  # espeak never needed
    assert voice is not None and voice.name == "openjtalk" and voice.warmed  # type: ignore[attr-defined]
    assert cal.rtf["kokoro"] == pytest.approx(1.0, rel=0.5) and "espeak" not in cal.rtf
    assert cal.engines == ["kokoro", "openjtalk", "espeak"] and cal.seconds < 10
    again = cal_mod.load_cached(cfg, "ja", ["kokoro", "openjtalk", "espeak"])
    assert again is not None and again.rtf == cal.rtf
    assert cal_mod.load_cached(cfg, "ja", ["kokoro", "piper", "openjtalk", "espeak"]) is None
    assert cal_mod.load_cached(replace(cfg, cpu_bf16=False), "ja") is None  # another setting
    assert cal_mod.load_cached(replace(cfg, cpu_int8=False), "ja") is None
    assert cal_mod.load_cached(cfg, "en") is None
    cal_mod.forget(cfg)
    assert cal_mod.load_cached(cfg, "ja") is None


def test_a_busy_machine_keeps_its_figures_for_this_run_only(
        cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cal_mod, "load_per_core", lambda: 3.5)
    cal, voice = cal_mod.calibrate(cfg, "ja", ["openjtalk"], lambda n: PacedVoice(n, 0.05),
                                   busy=False)
    assert voice is not None and cal.load_per_core == 3.5
    assert not cal_mod.state_path(cfg).exists()  # not cached: measured again next run
    assert cal_mod.load_cached(cfg, "ja") is cal  # but this process keeps using it
    cal_mod.forget(cfg)
    assert cal_mod.load_cached(cfg, "ja") is None
    cal_mod.calibrate(cfg, "ja", ["openjtalk"], lambda n: PacedVoice(n, 0.05), busy=False,
                      keep_if_loaded=True)  # doctor --calibrate: asked for, so kept
    assert cal_mod.state_path(cfg).exists()


def test_a_voice_that_cannot_load_is_recorded_and_skipped(cfg: Config) -> None:
    def load(name: str) -> PacedVoice:
        if name.startswith("kokoro"):
            raise RuntimeError("no model")
        return PacedVoice(name, 0.05)

    cal, voice = cal_mod.calibrate(cfg, "ja", JA, load, busy=False)
    assert cal.rtf["kokoro"] is None and voice is not None and voice.name == "openjtalk"


def test_cache_from_another_version_or_a_broken_file_is_ignored(cfg: Config) -> None:
    path = cal_mod.state_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert cal_mod.load_cached(cfg, "ja") is None
    path.write_text(json.dumps({"ja": {"lang": "ja", "key": "yomiage 0.0.1|x", "engines": [],
                                       "rtf": {}}}))
    assert cal_mod.load_cached(cfg, "ja") is None


def test_auto_voice_calibrates_once_then_follows_the_cache(
        cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    speeds = {"kokoro": 0.94, "openjtalk": 0.05, "espeak": 0.01}
    loads: list[str] = []

    def fake_load(c: Config, lang: str, engine: str, ident: str) -> PacedVoice:
        loads.append(engine)
        return PacedVoice(f"{engine}:{ident}" if ident else engine, speeds[engine])

    real_calibrate = cal_mod.calibrate
    runs: list[int] = []

    def no_busy_calibrate(*a: object, **k: object) -> object:
        runs.append(1)
        return real_calibrate(*a, **{**k, "busy": False})  # type: ignore[arg-type]

    monkeypatch.setattr(registry, "installed_voices", lambda c, lang: list(JA))
    monkeypatch.setattr(registry, "_load", fake_load)
    monkeypatch.setattr(cal_mod, "calibrate", no_busy_calibrate)
    assert registry.best_voice_name(cfg, "ja") == "kokoro:jf_alpha"  # nothing measured yet
    assert registry.needs_calibration(cfg, "ja")
    assert not registry.needs_calibration(replace(cfg, voice="kokoro"), "ja")
    first = registry.load_voice(cfg, "ja")
    assert not registry.needs_calibration(cfg, "ja")
    assert first.name == "openjtalk" and runs == [1] and loads == ["kokoro", "openjtalk"]
    second = registry.load_voice(cfg, "ja")
    assert second.name == "openjtalk" and runs == [1]  # from the cache: no new calibration
    assert loads == ["kokoro", "openjtalk", "openjtalk"]  # kokoro not loaded again
    assert registry.best_voice_name(cfg, "ja") == "openjtalk"
    assert re.fullmatch(r"kokoro is too slow on this CPU \(RTF \d\.\d\d\); --voice kokoro "
                        r"to use it anyway", registry.voice_note(cfg, "ja", "openjtalk"))
    assert registry.voice_note(replace(cfg, voice="openjtalk"), "ja", "openjtalk") == ""
    assert registry.load_voice(replace(cfg, voice="kokoro"), "ja").name == "kokoro"  # anyway


def test_engines_report_the_choice_in_the_first_line() -> None:
    from test_pipeline import FakeTranslator
    from yomiage.narrate.engines import Engines

    voice = PacedVoice("openjtalk", 0.05)
    note = "kokoro is too slow on this CPU (RTF 0.94); --voice kokoro to use it anyway"
    eng = Engines(FakeTranslator(), voice, 0.1, "ja", voice_note=note)
    assert eng.voice_line() == f"voice: openjtalk — {note}"
    assert eng.summary_line().endswith(f"voice: openjtalk — {note}")
    assert Engines(FakeTranslator(), voice, 0.1, "ja").voice_line() == ""


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_real_calibration_of_espeak_is_quick_and_keeps_up(cfg: Config) -> None:
    from yomiage.tts.espeak import EspeakVoice

    cal, voice = cal_mod.calibrate(cfg, "en", ["espeak"], lambda name: EspeakVoice("en"))
    assert cal.seconds <= cal_mod.BUDGET_S
    assert cal.rtf["espeak"] is not None and 0 < cal.rtf["espeak"] <= cal_mod.RTF_LIMIT
    assert voice is not None and voice.name.startswith("espeak")
    assert cal_mod.load_cached(cfg, "en", ["espeak"]) is not None
