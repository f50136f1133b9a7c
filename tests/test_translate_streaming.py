"""Streamed translation: pieces at phrase boundaries, joined equal to the whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.translate import streaming
from yomiage.translate.cache import CachedTranslator
from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.guard import GuardedTranslator
from yomiage.translate.streaming import can_stream, stream_pieces, translate_stream
from yomiage.translate.token_engine import DecodeOptions

Models = dict[str, tuple[Path, Path]]


def _decode(tokens: list[str]) -> str:
    return "".join(tokens).replace("▁", " ").strip()


_TOKENS = st.lists(st.sampled_from(
    ["▁テスト", "を", "、", "。", "▁原因", "は", "▁the", "▁fix", ",", ".", "3", "▁e", ".g",
     "！", "▁", "s", "」", ":", "▁ok", "ファイル", "を", "読み込む", "が"]), max_size=40)


@settings(deadline=None)  # the first example loads OpenJTalk's analyser
@given(_TOKENS)
def test_pieces_join_to_the_whole_and_end_at_boundaries(tokens: list[str]) -> None:
    pieces = list(stream_pieces(tokens, _decode))
    whole = _decode(tokens)
    assert "".join(pieces) == whole
    for i, piece in enumerate(pieces[:-1]):
        nxt = whole[len(piece)]  # a soft first cut comes before a new word
        assert piece.rstrip()[-1] in "、。，．；：！？…」』）,;:!?." or (
            i == 0 and len(piece) >= 6 and nxt.isalnum() and not "ぁ" <= nxt <= "ゟ")
        assert len(piece.strip()) >= 2


def test_a_first_piece_with_no_comma_ends_after_a_particle() -> None:
    tokens = ["▁設定", "ファイル", "を", "読み込む", "処理", "を", "確認", "します", "。"]
    pieces = list(stream_pieces(tokens, _decode))
    assert pieces == ["設定ファイルを", "読み込む処理を確認します。"]
    # only the first piece is cut softly
    tokens = ["▁はい", "、", "▁設定", "ファイル", "を", "読み込む", "処理", "を", "確認", "。"]
    assert list(stream_pieces(tokens, _decode)) == ["はい、", " 設定ファイルを読み込む処理を確認。"]


def test_a_first_piece_may_end_at_an_accent_phrase_boundary() -> None:
    pytest.importorskip("pyopenjtalk")
    # no particle from the sixth character on precedes a new word, but 扱えます ends a
    # phrase; a boundary before hiragana (まず) or at the decoded end is not used
    tokens = ["▁正しく", "扱え", "ます", "テスト", "は", "すべて", "成功", "。"]
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for tok in tokens:
            consumed.append(tok)
            yield tok

    stream = stream_pieces(feed(), _decode)
    assert next(stream) == "正しく扱えます"
    assert consumed == tokens[:4]  # テスト had to be decoded first
    assert "".join(stream) == "テストはすべて成功。"
    assert list(stream_pieces(["▁必要", "です", "まず", "確認", "。"], _decode)) == \
        ["必要ですまず", "確認。"]


def test_without_the_analyser_first_pieces_end_after_particles(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "japanese_analyser", lambda: None)
    tokens = ["▁正しく", "扱え", "ます", "テスト", "は", "すべて", "成功", "。"]
    # (the particle rule even takes the て of すべて for one)
    assert list(stream_pieces(tokens, _decode)) == ["正しく扱えますテストはすべて", "成功。"]


def test_first_piece_comes_before_the_decoder_finishes() -> None:
    consumed: list[str] = []

    def tokens() -> Iterator[str]:
        for tok in ["▁まず", "、", "▁原因", "を", "調べ", "ます", "。"]:
            consumed.append(tok)
            yield tok

    stream = stream_pieces(tokens(), _decode)
    assert next(stream) == "まず、"
    assert consumed == ["▁まず", "、"]  # out as soon as its boundary was decoded
    assert "".join(stream) == " 原因を調べます。"


def test_latin_punctuation_cuts_only_before_a_space() -> None:
    tokens = ["▁Version", "▁3", ".", "5", "▁is", "▁out", ",", "▁so", "▁update", "."]
    assert list(stream_pieces(tokens, _decode)) == ["Version 3.5 is out,", " so update."]


class _Fake:
    """A streaming engine stand-in for the wrappers (no model behind it)."""

    name = "fake"

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.calls = 0

    def translate(self, text: str, src: str, tgt: str) -> str:
        return "".join(self.pieces)

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return [self.translate(t, src, tgt) for t in texts]

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        self.calls += 1
        yield from self.pieces

    def warmup(self) -> None:
        pass


def test_guard_restores_spans_piece_by_piece_and_appends_lost_ones() -> None:
    fake = _Fake(["[0]を開いて、", "[1]待ちます。"])
    guard = GuardedTranslator(fake)
    pieces = list(guard.translate_stream(
        "Open src/main.rs and wait 120 ms then check numpy 2.4.6.", "en", "ja"))
    assert pieces[:2] == ["src/main.rsを開いて、", "120 ms待ちます。"]
    assert pieces[2].strip() == "2.4.6"  # the model dropped [2]: nothing is lost
    assert list(guard.translate_stream("テストは通りました。", "en", "ja")) == \
        ["テストは通りました。"]
    assert can_stream(guard)


def test_cache_serves_a_streamed_translation_whole_the_second_time() -> None:
    fake = _Fake(["まず、", "確認します。"])
    cached = CachedTranslator(fake)
    assert list(translate_stream(cached, "First, let me check.", "en", "ja")) == \
        ["まず、", "確認します。"]
    assert list(translate_stream(cached, "First, let me check.", "en", "ja")) == \
        ["まず、確認します。"]
    assert fake.calls == 1
    assert cached.translate("First, let me check.", "en", "ja") == "まず、確認します。"


@pytest.mark.slow
@pytest.mark.parametrize("family", ["marian", "m2m", "nllb"])
def test_ct2_stream_equals_whole_translation(tiny_models: Models, family: str) -> None:
    engine = CT2Translator(tiny_models[family][1], options=DecodeOptions(forced_ratio=1.4))
    texts = ["The build passes, and the tests are green.",
             "Let me read the parser first; then the tests.", "OK."]
    for text in texts:
        pieces = list(engine.translate_stream(text, "en", "ja"))
        assert "".join(pieces).strip() == engine.translate(text, "en", "ja")
    free = CT2Translator(tiny_models[family][1])  # model-chosen length, EOS ends it
    for text in texts:
        assert "".join(free.translate_stream(text, "en", "ja")).strip() == \
            free.translate(text, "en", "ja")
    beam = CT2Translator(tiny_models[family][1], options=DecodeOptions(beam_size=2))
    assert not beam.streams()
    assert list(beam.translate_stream(texts[0], "en", "ja")) == \
        [beam.translate(texts[0], "en", "ja")]
