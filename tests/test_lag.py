"""Lag control: the skip notice, speaking-time estimates, which sentences are dropped."""

from __future__ import annotations

import pytest

from yomiage.narrate.lag import LagPolicy, estimate_seconds, skip_notice
from yomiage.records import Sentence


def test_skip_notice_in_english_spells_small_numbers() -> None:
    assert skip_notice(3, "en") == "Skipped three sentences."
    assert skip_notice(1, "en") == "Skipped one sentence."
    assert skip_notice(40, "en") == "Skipped 40 sentences."


@pytest.mark.parametrize("lang", ["ja", "zh", "ko", "es", "fr", "de", "it", "pt", "ru",
                                  "tr", "hi", "ar", "fa"])
def test_skip_notice_exists_for_every_supported_target(lang: str) -> None:
    text = skip_notice(4, lang)
    assert "4" in text and text != skip_notice(4, "en")


def test_skip_notice_unknown_language_falls_back_to_english() -> None:
    assert skip_notice(2, "xx") == "Skipped two sentences."


def test_estimate_grows_with_length_and_shrinks_with_speed() -> None:
    short, long_ = estimate_seconds("Hi there.", "en"), estimate_seconds("Hi there. " * 10, "en")
    assert 0 < short < long_
    assert estimate_seconds("Hi there. " * 10, "en", speed=2.0) == pytest.approx(long_ / 2)
    assert estimate_seconds("日本語の文です。", "ja") > estimate_seconds("日本語の文です。", "en")


def _pending(n: int, chars: int = 140) -> list[Sentence]:
    return [Sentence(text="x" * chars, seq=i) for i in range(n)]  # 10 s each at 14 chars/s


def test_nothing_dropped_under_the_bound() -> None:
    assert LagPolicy(max_lag=25.0, lang="en").to_drop(_pending(2), unspoken_audio=1.0) == 0


def test_oldest_dropped_until_under_the_bound() -> None:
    policy = LagPolicy(max_lag=25.0, lang="en")
    # 5 × 10 s + 3 s already queued = 53 s → drop three to get to 23 s
    assert policy.to_drop(_pending(5), unspoken_audio=3.0) == 3


def test_newest_always_kept_and_zero_means_never() -> None:
    assert LagPolicy(max_lag=1.0, lang="en").to_drop(_pending(4), unspoken_audio=100.0) == 3
    assert LagPolicy(max_lag=0.0, lang="en").to_drop(_pending(40), unspoken_audio=100.0) == 0
    assert LagPolicy(max_lag=1.0, lang="en").to_drop(_pending(1), unspoken_audio=100.0) == 0
