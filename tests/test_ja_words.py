"""Accent-phrase boundaries from OpenJTalk's analyser, and their safe failures."""

from __future__ import annotations

from typing import Any

import pytest

from yomiage.text.ja_words import accent_phrase_starts, japanese_analyser


def test_boundaries_fall_between_accent_phrases() -> None:
    if japanese_analyser() is None:
        pytest.skip("pyopenjtalk is not installed")
    text = "もう一度すべてのテストを実行します"
    starts = accent_phrase_starts(text)
    assert starts[:3] == [4, 8, 12]  # もう一度|すべての|テストを|実行します
    assert accent_phrase_starts("古いAPIの呼び出しを") == [2, 6]  # full-width A P I: same offsets
    assert accent_phrase_starts("") == []


def test_no_boundaries_when_offsets_would_be_wrong() -> None:
    def rewrites(text: str) -> list[dict[str, Any]]:
        return [{"string": "もう", "chain_flag": -1}, {"string": "いちど", "chain_flag": 0}]

    def fails(text: str) -> list[dict[str, Any]]:
        raise RuntimeError("broken dictionary")

    assert accent_phrase_starts("もう一度", rewrites) == []
    assert accent_phrase_starts("もう一度", fails) == []
    chained = [{"string": "もう", "chain_flag": -1}, {"string": "一度", "chain_flag": 1}]
    assert accent_phrase_starts("もう一度", lambda t: chained) == []
