"""Phrase splitting and the shaping that makes phrase chunks join without clicks or gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.records import AudioChunk
from yomiage.tts.phrases import (
    PhrasedVoice,
    PhraseOptions,
    pause_after,
    shape_phrase,
    split_phrases,
)


def test_japanese_sentence_cut_at_commas_first_phrase_short() -> None:
    text = "はい、このファイルを読み込んで、設定を確認します。"
    assert split_phrases(text) == ["はい、", "このファイルを読み込んで、", "設定を確認します。"]


def test_english_commas_inside_numbers_are_not_boundaries() -> None:
    phrases = split_phrases("I ran all 3,000 tests, and every one passed.")
    assert phrases == ["I ran all 3,000 tests,", "and every one passed."]


def test_long_first_phrase_is_cut_early_at_a_particle_or_space() -> None:
    ja = split_phrases("このファイルを読み込んで設定を確認してからテストを実行します。")
    assert len(ja[0]) <= 10 and ja[0].endswith(("を", "で", "に", "は", "が", "て"))
    text = "The quick brown fox jumps over the lazy dog near the bank of the river."
    en = split_phrases(text)
    assert len(en[0]) <= 28 and text.startswith(en[0] + " ")  # cut between words
    assert en[0].split()[-1] not in ("the", "of", "over")  # not after a function word


def test_short_later_pieces_join_and_short_text_stays_whole() -> None:
    assert split_phrases("OK.") == ["OK."]
    assert split_phrases("  ") == []
    assert split_phrases("テストは成功しました。次に、ドキュメントを更新します。") == [
        "テストは", "成功しました。", "次に、ドキュメントを更新します。"]
    assert split_phrases("The tests pass now after the fix.") == [
        "The tests pass now after the fix."]  # a cut would leave a scrap ("fix.")


def test_first_phrase_without_a_particle_cut_ends_at_an_accent_phrase() -> None:
    # "を" comes only after 12 characters; OpenJTalk's accent phrases give a cut at 8
    assert split_phrases("もう一度すべてのテストを実行します。") == [
        "もう一度すべての", "テストを実行します。"]
    assert split_phrases("正しく扱えますテストはすべて成功しました。")[0] == "正しく扱えます"


def test_growth_keeps_each_later_phrase_within_reach() -> None:
    text = "まず、古いAPIの呼び出しを新しいものに置き換えて、すべてのテストをもう一度実行します。"
    assert split_phrases(text)[1] == "古いAPIの呼び出しを新しいものに置き換えて、"
    phrases = split_phrases(text, growth=2.0)
    assert "".join(phrases) == text
    before = len(phrases[0])
    for p in phrases[1:]:
        assert len(p) <= max(10, 2.0 * before), phrases
        before += len(p)
    assert split_phrases(text, growth=50.0) == split_phrases(text)


class _SlowVoice(PhrasedVoice):
    """Takes ``rtf`` seconds per second of audio it makes (0.1 s of audio per character)."""

    sample_rate = 1000

    def __init__(self, rtf: float) -> None:
        super().__init__()
        self.seconds_per_char = 0.1 * rtf

    def synthesize_phrase(self, phrase: str) -> np.ndarray:
        import time

        time.sleep(self.seconds_per_char * len(phrase))
        return np.full(100 * len(phrase), 0.5, np.float32)


def test_a_slow_voice_cuts_later_phrases_shorter() -> None:
    text = "まず、古いAPIの呼び出しを新しいものに置き換えて、すべてのテストをもう一度実行します。"
    slow, fast = _SlowVoice(0.5), _SlowVoice(0.01)
    for voice in (slow, fast):
        assert voice.phrases(text) == split_phrases(text)  # nothing measured yet
        for _ in range(2):
            list(voice.stream("テストはすべて成功しました。"))
    assert 0.35 < slow.rtf < 0.8 and fast.rtf < 0.1
    assert fast.phrases(text) == split_phrases(text)
    assert len(slow.phrases(text)) > len(split_phrases(text))


def test_speech_ahead_lets_the_first_phrase_grow() -> None:
    text = "もう一度すべてのテストを実行します。"
    alone = split_phrases(text, growth=3.0)
    assert len(alone[0]) <= 10 and len(alone) > 1
    assert split_phrases(text, growth=3.0, head_start=2) == alone  # too little ahead
    assert split_phrases(text, growth=3.0, head_start=10) == [text]  # 30 chars in reach
    assert split_phrases(text, head_start=1) == [text]  # a fast voice: no cut needed


def test_a_voice_cuts_less_when_speech_is_ahead_once_it_knows_its_pace() -> None:
    text = "もう一度すべてのテストを実行します。"
    voice = _SlowVoice(0.3)
    assert voice.phrases(text, ahead_s=5.0) == split_phrases(text)  # pace not known yet
    for _ in range(2):
        list(voice.stream("テストはすべて成功しました。"))
    assert 9 < voice.chars_per_s < 11  # 0.1 s of audio per character
    assert len(voice.phrases(text)) > 1
    assert voice.phrases(text, ahead_s=0.2) == voice.phrases(text)
    assert voice.phrases(text, ahead_s=3.0) == [text]


def test_a_fast_voice_with_little_speech_ahead_still_bounds_its_first_phrase() -> None:
    text = ("もう一度すべてのテストを実行してから結果を確認して問題がなければ変更をまとめて"
            "プルリクエストを作成してレビューを依頼します。")
    voice = _SlowVoice(0.04)  # 25 characters of audio made per character's time
    for _ in range(2):
        list(voice.stream("テストはすべて成功しました。"))
    assert voice.rtf < 0.05
    first = voice.phrases(text, ahead_s=0.2)[0]  # ~2 characters of speech ahead
    assert 10 < len(first) <= int(0.2 * voice.chars_per_s) / voice.rtf + 1 < len(text), first
    assert voice.phrases(text) == split_phrases(text)  # nothing ahead: cut as before


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("あいうえおアイ漢字abc ,.、。!？-")), max_size=300),
       st.sampled_from([0.0, 1.5, 3.0]), st.sampled_from([0, 4, 40]))
def test_split_keeps_every_character_and_respects_limits(
        text: str, growth: float, head_start: int) -> None:
    opts = PhraseOptions()
    phrases = split_phrases(text, opts, growth=growth, head_start=head_start)
    assert "".join(phrases).replace(" ", "") == text.replace(" ", "")
    _, max_chars, _ = opts.resolved(text.strip() or "x")
    for p in phrases:
        assert p == p.strip() and p
        assert len(p) <= 2 * max_chars + 12  # joined pieces stay bounded


def test_pause_follows_punctuation() -> None:
    assert pause_after("終わりです。") > pause_after("まず、") > pause_after("and then") == 0.0


def test_shape_removes_dc_trims_fades_and_pads() -> None:
    sr = 24000
    t = np.arange(sr) / sr
    tone = 0.5 * np.sin(2 * np.pi * 220 * t) * np.hanning(sr)
    raw = np.concatenate([np.zeros(sr // 2), tone, np.zeros(sr // 2)]) + 0.2  # DC offset
    raw = raw.astype(np.float32)
    out = shape_phrase(raw, sr, pause=0.1)
    assert abs(float(out[:-2400].mean())) < 0.01
    assert len(out) < len(raw) - sr // 2  # edge silence trimmed
    assert abs(out[0]) < 1e-3 and np.all(out[-2400:] == 0.0)  # faded in, silent pause
    assert np.max(np.abs(np.diff(out))) < 0.1  # no step anywhere (220 Hz max slope ≈ 0.03)


def test_shape_gain_and_silence() -> None:
    sr = 16000
    x = (0.4 * np.sin(np.linspace(0, 200 * np.pi, sr))).astype(np.float32)
    assert np.max(np.abs(shape_phrase(x, sr, gain=2.0))) > 0.79
    assert np.max(np.abs(shape_phrase(x, sr, gain=4.0))) <= 1.0
    assert len(shape_phrase(np.zeros(sr, np.float32), sr, pause=0.05)) == 800


class _Tone(PhrasedVoice):
    """A fake engine: a sine burst with a DC offset per phrase, with edge silence."""

    name = "tone"
    language = "en"
    sample_rate = 16000

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def synthesize_phrase(self, phrase: str) -> np.ndarray:
        self.calls.append(phrase)
        n = 400 * len(phrase)
        body = 0.3 * np.sin(np.arange(n) * 0.3) + 0.1
        return np.concatenate([np.zeros(3000), body, np.zeros(3000)])


def test_stream_yields_first_phrase_before_synthesizing_the_next() -> None:
    voice = _Tone()
    it = voice.stream("First part, second part is longer, and a third one here.")
    first = next(it)
    assert isinstance(first, AudioChunk) and voice.calls == ["First part,"]
    rest = list(it)
    assert len(voice.calls) == 1 + len(rest)


def test_a_cut_without_punctuation_is_spoken_with_the_continuation_mark() -> None:
    voice = _Tone()
    voice.phrase_options = PhraseOptions(first_max=12, max_chars=24, min_chars=3)
    text = "One two three four five six, seven eight nine ten eleven twelve"
    phrases = voice.phrases(text)
    assert len(phrases) >= 3 and phrases[0][-1] not in ",."  # a cut at a space first
    list(voice.stream(text))
    assert voice.calls == phrases  # no mark by default
    voice.calls.clear()
    voice.continuation = "、"
    list(voice.stream(text))
    assert voice.calls == [p + "、" if i + 1 < len(phrases) and p[-1] != "," else p
                           for i, p in enumerate(phrases)]
    assert voice.calls[-1] == phrases[-1]  # the last phrase ends as written


def test_stream_chunks_join_without_clicks_or_gaps() -> None:
    voice = _Tone()
    chunks = list(voice.stream("First part, second part is longer, and a third one here."))
    audio = np.concatenate([c.samples for c in chunks])
    joins = np.cumsum([len(c.samples) for c in chunks])[:-1]
    for j in joins:
        assert abs(audio[j] - audio[j - 1]) < 0.02  # no DC jump at the join
    quiet = np.abs(audio) < 1e-4
    longest, run = 0, 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    assert longest / voice.sample_rate < 0.25  # pauses, not gaps


def test_japanese_is_not_cut_inside_an_identifier_or_a_latin_term() -> None:
    pytest.importorskip("pyopenjtalk")
    # getUserById read as one identifier: its words are joined by ・, never cut there
    phrases = split_phrases("ゲット・ユーザー・バイ・アイディーはヌルを返すことがあります。")
    assert phrases[0] == "ゲット・ユーザー・バイ・アイディーは"
    assert all(not p.endswith("・") and not p.startswith("・") for p in phrases)
    # "git status": the particle after the term, not the space inside it
    assert split_phrases("ギット ステータスで変更を確認します。")[0] == "ギット ステータスで"
