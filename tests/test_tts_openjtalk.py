"""OpenJTalk: the utterance's edge silences are not synthesized (shaping would trim them)."""

from __future__ import annotations

import numpy as np
import pytest

from yomiage.tts.openjtalk import OpenJTalkVoice, without_edge_silence

pyopenjtalk = pytest.importorskip("pyopenjtalk")


def test_edge_silence_labels_are_left_out_and_nothing_else() -> None:
    labels = pyopenjtalk.extract_fullcontext("はい、テストです。")
    kept = without_edge_silence(labels)
    assert "-sil+" in labels[0] and "-sil+" in labels[-1]
    assert kept == labels[1:-1] and any("-pau+" in x for x in kept)  # the comma's pause stays
    assert without_edge_silence(kept) == kept
    assert without_edge_silence([]) == []


def test_a_phrase_starts_and_ends_near_its_sound() -> None:
    voice = OpenJTalkVoice()
    raw = voice.synthesize_phrase("テストを実行しました。")
    loud = np.flatnonzero(np.abs(raw) > 0.004)
    rate = voice.sample_rate
    assert loud[0] < 0.1 * rate and raw.size - loud[-1] < 0.1 * rate  # was ~0.25 / 0.33 s
    assert 0.8 * rate < raw.size < 2.0 * rate
    assert voice.synthesize_phrase("。").size == 0  # nothing to say: no audio, no error
