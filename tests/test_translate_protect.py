"""Verbatim spans survive translation; placeholders mangled by a model are recovered."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from yomiage.translate.protect import protect, restore


def test_kinds_of_spans_are_protected() -> None:
    text = ("Edit src/yomiage/cli.py, run `pytest -x` with --offline, "
            "see https://example.com/a?b=1, call parse_args() on numpy 2.4.6: it takes 120 ms "
            "and 2.5 GB, set HF_HUB_OFFLINE in myConfig and read config.toml.")
    p = protect(text)
    for span in ("src/yomiage/cli.py", "`pytest -x`", "--offline", "https://example.com/a?b=1",
                 "parse_args()", "2.4.6", "120 ms", "2.5 GB", "HF_HUB_OFFLINE", "myConfig",
                 "config.toml"):
        assert span in p.spans, span
        assert span not in p.text
    assert restore(p.text, p) == text


def test_plain_prose_is_left_alone() -> None:
    text = "We fixed it, e.g. the loop ends now, and the tests pass."
    p = protect(text)
    assert p.spans == ()
    assert p.text == text


def test_mangled_placeholders_are_recognised() -> None:
    p = protect("Set max_lag to 12 s")
    assert p.text == "Set [0] to [1]"
    assert restore("［１］秒に[ 0 ]を設定", p) == "12 s秒にmax_lagを設定"


def test_dropped_placeholder_is_appended_and_invented_one_dropped() -> None:
    p = protect("Open main.rs now")
    assert restore("今すぐ開いて [7]", p) == "今すぐ開いて main.rs"
    assert restore("[0] [0] を開く", p) == "main.rs を開く"


def test_existing_bracket_numbers_are_kept_verbatim() -> None:
    p = protect("As noted in [2], the fix works.")
    assert p.spans == ("[2]",)
    done = restore("[0]で述べたように、修正は機能します。", p)
    assert done == "[2]で述べたように、修正は機能します。"


def test_only_placeholders_means_nothing_to_translate() -> None:
    assert protect("src/main.rs: 120 ms").only_placeholders
    assert not protect("Open src/main.rs").only_placeholders


_WORDS = st.sampled_from(["the", "build", "passes", "now", "src/a.py", "v1.2.3", "x_y",
                          "fooBar", "10 ms", "http://h.io/p", "--flag", "[3]", "日本語", "a.b.c"])


@given(st.lists(_WORDS, min_size=1, max_size=12))
def test_round_trip(words: list[str]) -> None:
    text = " ".join(words)
    p = protect(text)
    assert restore(p.text, p) == text
