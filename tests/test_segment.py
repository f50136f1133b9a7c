"""Sentence segmenter: rules, clause cuts, and chunking invariance."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.text.segment import Segmenter, find_sentence_end
from yomiage.text.speech_text import PROTECT_CLOSE, PROTECT_OPEN


def whole(text: str, max_chars: int = 120) -> list[str]:
    seg = Segmenter(max_chars)
    return [*seg.feed(text), *seg.flush()]


def chunked(text: str, cuts: list[int], max_chars: int = 120) -> list[str]:
    seg = Segmenter(max_chars)
    out: list[str] = []
    prev = 0
    for c in sorted(set(cuts)):
        out += seg.feed(text[prev:c])
        prev = c
    out += seg.feed(text[prev:])
    return out + seg.flush()


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Use v1.2.3 and 3.14 now. Done!", ["Use v1.2.3 and 3.14 now.", "Done!"]),
        ("Edit main.py. Then run it.", ["Edit main.py.", "Then run it."]),
        ("Fruit, e.g. apples, i.e. food. Next.", ["Fruit, e.g. apples, i.e. food.", "Next."]),
        ("Ask Dr. Smith vs. Mr. Jones. Ok.", ["Ask Dr. Smith vs. Mr. Jones.", "Ok."]),
        ("Apples, pears, etc. and more. Then stop.", ["Apples, pears, etc. and more.",
                                                      "Then stop."]),
        ("Apples, pears, etc. Then stop.", ["Apples, pears, etc.", "Then stop."]),
        ("Wait... what happened? Nothing… Really.", ["Wait... what happened?", "Nothing…",
                                                     "Really."]),
        ('He said "done." Then left.', ['He said "done."', "Then left."]),
        ("It works (see the docs.) Next.", ["It works (see the docs.)", "Next."]),
        ("了解です！日付が「それは。」です。次", ["了解です！", "日付が「それは。」です。", "次"]),
        ("First line\nSecond line", ["First line", "Second line"]),
        ("Steps:\n\nOne\n", ["Steps:", "One"]),
        ("Really?! Yes.", ["Really?!", "Yes."]),
        ("... . !!", []),
        (f"Use the {PROTECT_OPEN}?{PROTECT_CLOSE} operator. Ok.", ["Use the ? operator.", "Ok."]),
        (f"Call {PROTECT_OPEN}time.sleep(1.05). x{PROTECT_CLOSE} now.",
         ["Call time.sleep(1.05). x now."]),
        ("The dates render as 2024年1月5日. テストも通りました",
         ["The dates render as 2024年1月5日.", "テストも通りました"]),
    ],
)
def test_rules(text: str, sentences: list[str]) -> None:
    assert whole(text) == sentences
    assert chunked(text, list(range(len(text)))) == sentences


def test_waits_for_the_next_character() -> None:
    seg = Segmenter()
    assert seg.feed("Version 2.4") == []
    assert seg.feed(".") == []
    assert seg.feed("1 works.") == []
    assert seg.feed(" N") == ["Version 2.4.1 works."]
    assert seg.flush() == ["N"]


def test_long_sentence_is_cut_at_a_clause() -> None:
    text = ("The useEffect in SearchBox.tsx captures query once, because the dependency array "
            "is empty, so the debounced callback always sends the first value. Next.")
    pieces = whole(text, max_chars=100)
    assert [p.continues for p in pieces] == [True, False, False]
    assert pieces[0].endswith("empty,")
    assert " ".join(pieces[:2]) + " " + pieces[2] == text
    assert all(len(p) <= 100 for p in pieces)


def test_cut_without_clause_marks_uses_spaces_then_hard_cut() -> None:
    words = " ".join(["word"] * 60)
    assert all(len(p) <= 40 for p in whole(words, max_chars=40))
    cjk = "あ" * 100
    pieces = whole(cjk, max_chars=30)
    assert "".join(pieces) == cjk and all(len(p) <= 30 for p in pieces)


@pytest.mark.parametrize(("text", "first"), [
    # from real sessions: the cut fell inside brackets or between a word and its noun
    ("I'll create a clean output parser using the best practices from the 2025 guidelines "
     "(table-driven tests, mocking, coverage) for the repository",
     "I'll create a clean output parser using the best practices"),
    ("The credo error at line 152 says the function body is nested too deep (max 2, was 3) "
     "in the compute_expand_groups function which needs a rewrite",
     "The credo error at line 152 says the function body is nested too deep (max 2, was 3)"),
    ("Update it to return just the session and the list of messages for the page (no "
     "rendered lines) as before",
     "Update it to return just the session and the list of messages"),
])
def test_a_long_sentence_is_cut_where_a_clause_starts(text: str, first: str) -> None:
    pieces = whole(text, max_chars=100)
    assert pieces[0] == first and pieces[0].continues
    assert " ".join(pieces) == text


def test_a_quoted_mark_ends_a_sentence_only_before_a_capital() -> None:
    text = ('Returns "??" as a fallback for empty names. He said "Stop!" and left. '
            'She asked "Why?" Nobody knew.')
    assert whole(text) == ['Returns "??" as a fallback for empty names.',
                           'He said "Stop!" and left.', 'She asked "Why?"', "Nobody knew."]


def test_find_sentence_end() -> None:
    assert find_sentence_end("Hello there. How") == len("Hello there.")
    assert find_sentence_end("Hello there.") == 0
    assert find_sentence_end("Hello there.", final=True) == len("Hello there.")
    assert find_sentence_end("e.g. this") == 0
    assert find_sentence_end("  Hi.\nNext") == len("  Hi.")
    assert find_sentence_end("") == 0


ALPHABET = st.sampled_from(
    [*"abc XY.!?,;:\n", "e.g.", "3.14", "...", "…", "。", "「", "」", "、", "Dr.", "etc.",
     '"', ")", "(", " and ", " the ", "which", PROTECT_OPEN, PROTECT_CLOSE, "  ", "日本"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=80).map("".join), st.lists(st.integers(0, 400), max_size=12),
       st.sampled_from([21, 30, 120]))
def test_chunking_never_changes_the_sentences(text: str, cuts: list[int], max_chars: int) -> None:
    cuts = [c for c in cuts if c <= len(text)]
    expected = whole(text, max_chars)
    got = chunked(text, cuts, max_chars)
    assert got == expected
    assert [p.continues for p in got] == [p.continues for p in expected]
    for s in got:
        assert s.strip() == s and s and any(c.isalnum() for c in s)


def test_work_is_linear_in_the_input() -> None:
    """A guard against quadratic rescans (not a speed goal): 1 MB in one delta or in
    7-character deltas is done well within seconds."""
    import time

    text = "word " * 200_000 + "あいう" * 100_000
    t0 = time.process_time()
    assert len(whole(text)) > 8000
    seg = Segmenter()
    n = sum(len(seg.feed(text[k:k + 7])) for k in range(0, len(text), 7)) + len(seg.flush())
    assert n > 8000
    assert time.process_time() - t0 < 5.0
