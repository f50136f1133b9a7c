"""End to end with real engines: every shared fixture narrated to WAV.

Translation: a tiny random-weight Marian model (tests/conftest.py) through CTranslate2,
or passthrough for English→English; voices: package-shipped OpenJTalk (ja) and Piper
joe (en). Checks sentence count and order against the text half, non-silence, the
timelines' consistency; an interrupted run leaves a valid WAV; `yomiage demo` works.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fixture_paths import fixtures_dir
from yomiage.config import Config
from yomiage.narrate.engines import Engines
from yomiage.narrate.session import narrate_lines
from yomiage.narrate.timeline import is_consistent
from yomiage.text.events import read_lines
from yomiage.text.flow import iter_sentences

pytestmark = pytest.mark.slow

FIXTURE_NAMES = ["01_qa_markdown_rust", "02_ci_pipeline_tools", "03_partial_japanese",
                 "04_thinking_redacted", "05_subagents_migration", "06_error_subtypes",
                 "07_transcript_projects", "08_hostile_input", "09_long_session"]


def _all_fixtures() -> list[str]:
    """Every *.ndjson in the shared folder (falls back to the known list when absent)."""
    for cand in (os.environ.get("YOMIAGE_FIXTURES", ""),
                 Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"):
        if cand and Path(cand).is_dir():
            return sorted(p.stem for p in Path(cand).glob("*.ndjson"))
    return FIXTURE_NAMES


@pytest.fixture(scope="module")
def ja_engines(tiny_models: dict[str, tuple[Path, Path]]) -> tuple[Config, Engines]:
    from yomiage.translate import load_translator
    from yomiage.tts.registry import load_voice

    ct2 = tiny_models["marian"][1]
    cfg = Config(translator="ctranslate2", translation_model=str(ct2), device="cpu",
                 voice="openjtalk", target_lang="ja")
    started = time.perf_counter()
    translator = load_translator(cfg)
    voice = load_voice(cfg, "ja")
    voice.warmup()
    return cfg, Engines(translator, voice, time.perf_counter() - started, "ja")


def _text_half(path: Path, cfg: Config) -> list[str]:
    with path.open("rb") as fh:
        return [s.text for s in iter_sentences(read_lines(fh), cfg)]


def _narrate(path: Path, cfg: Config, engines: Engines, wav: Path) -> tuple[object, np.ndarray]:
    from yomiage.audio import open_sink

    with path.open("rb") as fh, open_sink(str(wav), engines.voice.sample_rate) as sink:
        report = narrate_lines(read_lines(fh), cfg, engines, sink, live=False)
    audio, _ = sf.read(str(wav), dtype="float32")
    return report, audio


def _check(report: object, audio: np.ndarray, expected: list[str], rate: int) -> None:
    timelines = report.timelines  # type: ignore[attr-defined]
    assert [t.text for t in timelines] == expected
    assert report.errors == 0 and report.skipped == 0  # type: ignore[attr-defined]
    for tl in timelines:
        assert tl.first_audio_at is not None and tl.play_end_at is not None, tl
        assert tl.audio_seconds > 0.1, tl
        assert is_consistent(tl), tl
    total = sum(t.audio_seconds for t in timelines)
    assert len(audio) / rate == pytest.approx(total, rel=0.02, abs=0.05)
    if expected:
        assert float(np.sqrt(np.mean(audio**2))) > 0.01  # not silence


@pytest.mark.parametrize("stem", _all_fixtures())
def test_every_fixture_narrated_to_wav_in_japanese(
        stem: str, ja_engines: tuple[Config, Engines], tmp_path: Path) -> None:
    cfg, engines = ja_engines
    path = fixtures_dir() / f"{stem}.ndjson"
    expected = _text_half(path, cfg)
    report, audio = _narrate(path, cfg, engines, tmp_path / f"{stem}.wav")
    _check(report, audio, expected, engines.voice.sample_rate)
    english = [t for t in report.timelines if t.text.isascii()]  # type: ignore[attr-defined]
    if english:  # the model really ran on English sentences
        assert any(t.translation != t.text for t in english)
    if expected:  # the voice waited for the first sentence: its translation streamed
        assert report.timelines[0].extra.get("streamed") is True  # type: ignore[attr-defined]


def test_english_to_english_passthrough_with_piper(tmp_path: Path) -> None:
    from yomiage.narrate.engines import load_engines

    cfg = Config(source_lang="en", target_lang="en", voice="piper")
    engines = load_engines(cfg)
    assert engines.translator.name == "none"
    path = fixtures_dir() / "01_qa_markdown_rust.ndjson"
    expected = _text_half(path, cfg)
    report, audio = _narrate(path, cfg, engines, tmp_path / "en.wav")
    _check(report, audio, expected, engines.voice.sample_rate)
    assert [t.translation for t in report.timelines] == expected  # type: ignore[attr-defined]


def _wav_header_ok(path: Path) -> tuple[bool, int]:
    data = path.read_bytes()
    riff, size, wave_ = struct.unpack("<4sI4s", data[:12])
    pos, frames = 12, -1
    while pos + 8 <= len(data):
        cid, clen = struct.unpack("<4sI", data[pos:pos + 8])
        if cid == b"data":
            frames = clen // 2
            return riff == b"RIFF" and wave_ == b"WAVE" and size == len(data) - 8 \
                and pos + 8 + clen == len(data), frames
        pos += 8 + clen + (clen & 1)
    return False, frames


def test_interrupted_run_leaves_a_valid_wav(tiny_models: dict[str, tuple[Path, Path]],
                                            tmp_path: Path) -> None:
    wav = tmp_path / "cut.wav"
    cmd = [sys.executable, "-m", "yomiage.cli", "-q", "narrate", "-", "--out", str(wav),
           "--translator", "ctranslate2", "--model", str(tiny_models["marian"][1]),
           "--device", "cpu", "--voice", "openjtalk"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    lines = (fixtures_dir() / "09_long_session.ndjson").read_bytes().splitlines(keepends=True)

    def slow_writer() -> None:
        try:
            for line in lines:
                proc.stdin.write(line)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                time.sleep(0.01)
        except (BrokenPipeError, ValueError, OSError):
            pass

    writer = threading.Thread(target=slow_writer, daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not wav.exists() or wav.stat().st_size < 20000):
        time.sleep(0.05)
    assert wav.exists() and wav.stat().st_size >= 20000, "no audio was written"
    os.kill(proc.pid, signal.SIGINT)
    code = proc.wait(timeout=30)
    writer.join(5)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 130, err
    ok, frames = _wav_header_ok(wav)
    assert ok and frames > 0, err
    audio, _ = sf.read(str(wav), dtype="float32")
    assert len(audio) == frames and float(np.abs(audio).max()) > 0.01


def test_demo_writes_a_wav_and_says_what_it_used(tmp_path: Path) -> None:
    wav, timeline = tmp_path / "demo.wav", tmp_path / "demo.jsonl"
    proc = subprocess.run([sys.executable, "-m", "yomiage.cli", "demo", "--out", str(wav),
                           "--timeline", str(timeline)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "demo:" in proc.stderr and "voice:" in proc.stderr
    assert "at an agent's pace" in proc.stderr
    read_at = [json.loads(line)["read_at"] for line in timeline.read_text().splitlines()]
    assert max(read_at) - min(read_at) > 5.0  # the session arrived over seconds, not at once
    assert "spoken" in proc.stderr and "first audio" in proc.stderr
    audio, rate = sf.read(str(wav), dtype="float32")
    assert len(audio) / rate > 10  # a dozen sentences
    assert float(np.sqrt(np.mean(audio**2))) > 0.01
