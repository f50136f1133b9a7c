"""Real speech from the package-shipped voices: rate, length, loudness, joins, speed, volume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from yomiage.config import Config
from yomiage.tts.base import Voice
from yomiage.tts.registry import load_voice

pytestmark = pytest.mark.slow

JA = "はい、このファイルを読み込んで、設定を確認します。"
EN = "Okay, I read the file, and every test passed."
# engine → (--voice, language, text, seconds per character (min, max))
CASES = {
    "kokoro": ("kokoro:jf_alpha", "ja", JA, (0.08, 0.35)),
    "piper": ("piper", "en", EN, (0.03, 0.12)),
    "openjtalk": ("openjtalk", "ja", JA, (0.08, 0.35)),
    "espeak": ("espeak", "en", EN, (0.03, 0.12)),
}


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    """The user's cache, as the e2e tests use it: Kokoro's prepared copies (~40 s to build
    on a 2-core CPU) are built once for the whole suite, not again here."""
    return Path(Config().cache_dir).expanduser()


@pytest.fixture(scope="module")
def voices(cache_dir: Path) -> Iterator[dict[str, Voice]]:
    loaded = {}
    for engine, (spec, lang, _, _) in CASES.items():
        voice = load_voice(Config(voice=spec, cache_dir=str(cache_dir), offline=True), lang)
        voice.warmup()
        loaded[engine] = voice
    yield loaded


def _speak(voice: Voice, text: str) -> tuple[np.ndarray, list[int]]:
    chunks = list(voice.stream(text))
    assert chunks, "no audio"
    assert {c.sample_rate for c in chunks} == {voice.sample_rate}
    return np.concatenate([c.samples for c in chunks]), [len(c.samples) for c in chunks]


def _longest_quiet(audio: np.ndarray, sr: int, level: float = 1e-3) -> float:
    quiet = np.abs(audio) < level
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return float((ends - starts).max(initial=0)) / sr


def _step_is_smooth(audio: np.ndarray, j: int, width: int = 100) -> bool:
    """No click between samples j-1 and j: a small step (joins between phrases, which are
    faded), or one no steeper than the waveform next to it (joins inside a phrase, where
    a voice hands on a phrase in pieces)."""
    step = abs(float(audio[j]) - float(audio[j - 1]))
    before = np.abs(np.diff(audio[max(0, j - width) : j]))
    after = np.abs(np.diff(audio[j : j + width]))
    local = float(max(before.max(initial=0.0), after.max(initial=0.0)))
    return step < 0.05 or step <= 1.5 * local


@pytest.mark.parametrize("engine", list(CASES))
def test_real_speech_is_sound_and_joins_cleanly(voices: dict[str, Voice], engine: str) -> None:
    _, lang, text, (lo, hi) = CASES[engine]
    voice = voices[engine]
    assert voice.language == lang
    audio, sizes = _speak(voice, text)
    seconds = len(audio) / voice.sample_rate
    assert lo * len(text) <= seconds <= hi * len(text), seconds
    assert float(np.sqrt(np.mean(audio**2))) > 0.02  # speech, not silence
    assert np.mean(np.abs(audio) >= 0.999) < 1e-3  # no clipping
    assert len(sizes) >= 2  # the sentence was cut into phrases
    for j in np.cumsum(sizes)[:-1]:  # chunk joins: no click at the boundary
        assert _step_is_smooth(audio, int(j)), j
    trimmed = audio[: len(audio) - int(0.2 * voice.sample_rate)]  # drop the final pause
    assert _longest_quiet(trimmed, voice.sample_rate) < 0.45  # pauses, no gaps


@pytest.mark.parametrize("engine", list(CASES))
def test_speed_and_volume_change_the_audio(voices: dict[str, Voice], engine: str) -> None:
    _, _, text, _ = CASES[engine]
    voice = voices[engine]
    short = "設定を確認します。" if "、" in text else "The build is green."
    base, _ = _speak(voice, short)
    try:
        voice.speed = 1.6  # type: ignore[attr-defined]
        fast, _ = _speak(voice, short)
        voice.speed, voice.volume = 1.0, 0.5  # type: ignore[attr-defined]
        quiet, _ = _speak(voice, short)
    finally:
        voice.speed, voice.volume = 1.0, 1.0  # type: ignore[attr-defined]
    assert len(fast) < 0.85 * len(base)
    ratio = np.percentile(np.abs(quiet), 99) / np.percentile(np.abs(base), 99)
    assert 0.3 < ratio < 0.7
