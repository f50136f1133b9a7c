"""Markdown → speech: the rules, and that deltas may be cut anywhere."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.text.segment import Segmenter
from yomiage.text.speech_text import SpeechText, clean_chars, path_name, reduce_inline, url_host


def speak(md: str, chunks: list[int] | None = None, notice: bool | str = False) -> list[str]:
    """Sentences for ``md`` fed in pieces cut at ``chunks`` (default: one piece)."""
    st_, seg = SpeechText(code_notice=notice), Segmenter(500)
    out: list[str] = []
    prev = 0
    for c in sorted(set(chunks or [])):
        out += seg.feed(st_.feed(md[prev:c]))
        prev = c
    out += seg.feed(st_.feed(md[prev:]))
    out += seg.feed(st_.flush())
    return [*out, *seg.flush()]


@pytest.mark.parametrize(
    ("md", "sentences"),
    [
        ("# Title v0.7.5\n\nBody text here.", ["Title v0.7.5", "Body text here."]),
        ("### 1. How it works\n\n## 2) Next\n# 2024 plans", ["How it works", "Next",
                                                            "2024 plans"]),
        ("Some **bold** and *it* and _em_ and ~~gone~~ text.",
         ["Some bold and it and em and gone text."]),
        ("Intro:\n\n1. First step\n2. Second step:\n   - nested a\n   - nested b\n",
         ["Intro:", "First step", "Second step:", "nested a", "nested b"]),
        ("- [x] done item\n- [ ] open item", ["done item", "open item"]),
        ("> quoted words\n> go on.\n\nAfter.", ["quoted words go on.", "After."]),
        ("Before:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.", ["Before:", "After."]),
        ("See [the docs](https://x.org/a) and ![img](p.png) now.", ["See the docs and now."]),
        ("Log at https://github.com/a/b/CHANGELOG.md. Next.", ["Log at github.com.", "Next."]),
        ("Details: <https://github.com/acme/x/runs/9>", ["Details: github.com"]),
        ("Edit `C:\\Users\\h\\src\\Cargo.toml` and /etc/app/tls.toml, ok.",
         ["Edit Cargo.toml and tls.toml, ok."]),
        ("Keep 1/5/2024, Asia/Tokyo and fix/logging-and-flaky-test.",
         ["Keep 1/5/2024, Asia/Tokyo and fix/logging-and-flaky-test."]),
        ("Use the `?` operator in `main`. Done.", ["Use the ? operator in main.", "Done."]),
        ("Call `" + "x" * 70 + "` now.", ["Call this code now."]),
        ("Here:\n\n```rust\nfn main() { println!(\"Hi. There.\"); }\n```\n\nAfter.",
         ["Here:", "After."]),
        ("Here:\n~~~\ncode.\n~~~\nAfter.", ["Here:", "After."]),
        ("Done 👍🏽 now 🏳️‍🌈 ok ✅.", ["Done now ok ."]),
        ("Zero\u200bwidth\u2028line\u0085next\x00nul.", ["Zerowidth line next nul."]),
        ("Body.\n<system-reminder>\nSecret. Words.\n</system-reminder>\nTail.", ["Body.", "Tail."]),
        ("Fix it.\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n🤖 Generated with Claude Code",
         ["Fix it."]),
        ("Costs 71.5 percent, 3.14 ms, v1.2.3 and 10 GB.",
         ["Costs 71.5 percent, 3.14 ms, v1.2.3 and 10 GB."]),
        ("修正案：\n\n- `toLocaleDateString(\"ja-JP\")` を明示する",
         ["修正案：", "toLocaleDateString ja-JP を明示する"]),
        ("A soft\nline break joins.", ["A soft line break joins."]),
        ("---\n\nText &amp; more \\*stars\\*.", ["Text & more *stars*."]),
    ],
)
def test_rules(md: str, sentences: list[str]) -> None:
    assert speak(md) == sentences
    assert speak(md, list(range(len(md)))) == sentences


def test_code_notice_and_table_notice() -> None:
    md = "Here:\n\n```py\nx = 1\n```\n\n| a |\n|---|\n\nEnd."
    assert speak(md, notice=True) == ["Here:", "Code omitted.", "Table omitted.", "End."]


@pytest.mark.parametrize("step", [0, 1, 5])
def test_auto_notice_only_where_a_colon_promised_the_block(step: int) -> None:
    md = ("Compile error in:\n\n```elixir\nx = 1\n```\n\nNext line.\n\n```\ny\n```\n"
          "What changed:\n| a | b |\n|--|--|\n| 1 | 2 |\n")
    cuts = list(range(step, len(md), step)) if step else None
    assert speak(md, cuts, notice="auto") == [  # once a block of text
        "Compile error in:", "Code omitted.", "Next line.", "What changed:"]
    assert speak(md, cuts, notice="always") == [
        "Compile error in:", "Code omitted.", "Next line.", "Code omitted.", "What changed:",
        "Table omitted."]
    ja = "修正は次のとおりです：\n```\nz\n```\n以上です。"
    cuts = list(range(step, len(ja), step)) if step else None
    assert speak(ja, cuts, notice="auto") == [
        "修正は次のとおりです：", "コードは省略します。", "以上です。"]


def test_unclosed_fence_is_skipped_to_the_end() -> None:
    assert speak("Look:\n```\nnever. spoken.") == ["Look:"]


def test_text_is_released_before_the_paragraph_ends() -> None:
    st_ = SpeechText()
    seg = Segmenter()
    assert seg.feed(st_.feed("The first sentence is here. The sec")) == [
        "The first sentence is here."]
    assert st_.feed("ond `code span") == "second "  # a word is held until it ends…
    assert st_.feed(" still` ") == "\ue000code span still\ue001 "  # …a code span until it closes


def test_code_counters() -> None:
    st_ = SpeechText()
    st_.feed("Hi.\n```\n" + "x = 1\n" * 10 + "```\n")
    st_.flush()
    assert st_.code_chars >= 50 and st_.prose_chars >= 3


def test_helpers() -> None:
    assert url_host("https://www.github.com:443/a?b") == "github.com"
    assert path_name("src/components/SearchBox.tsx") == "SearchBox.tsx"
    assert path_name("~/.claude/hooks/log.sh") == "log.sh"
    assert path_name("/usr/bin/env") == "env"
    assert path_name("and/or") == "and/or"
    assert clean_chars("a\ud800b\U0001f680c") == "abc"
    assert reduce_inline("[a `b`](u)") == "a \ue000b\ue001"


SAMPLES = [
    "# Upgrading to v0.7.5\n\nShort: the `main.rs` file, i.e. the `axum::serve` call. See "
    "[docs](https://x.org). Also https://github.com/a/b.md. Path /etc/x/tls.toml!\n\n"
    "1. Bump `C:\\a\\Cargo.toml`:\n   - axum 0.7.5.\n\n```rust\nlet x = 1;\n```\n\nDone 👍🏽.",
    "原因が分かりました！👍 `toLocaleDate String()` にロケール。\n\n修正案：\n\n- 固定する\n\n"
    "バージョン 2.4.1 の Next.js でも同じ挙動です。Let me apply the fix now. 🏳️‍🌈 ",
    "Body.\n<system-reminder>\nno\n</system-reminder>\n| t |\n|--|\n> quote *em* **b**\n"
    "Co-Authored-By: x\n---\nEnd <b> a < b.",
]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SAMPLES), st.lists(st.integers(0, 400), max_size=15))
def test_any_chunking_gives_the_same_sentences(md: str, cuts: list[int]) -> None:
    assert speak(md, [c for c in cuts if c <= len(md)]) == speak(md)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab .`*_[]()<>#-|>\n~!:/\\", "https://", "😀", "```"]),
               max_size=40).map("".join),
       st.lists(st.integers(0, 60), max_size=8))
def test_never_raises_and_output_is_clean(md: str, cuts: list[int]) -> None:
    for s in speak(md, [c for c in cuts if c <= len(md)]):
        assert s and s == s.strip() and "\ue000" not in s and "😀" not in s


def test_a_stray_backtick_does_not_hold_the_line() -> None:
    st_ = SpeechText()
    assert st_.feed("Note ` this. ") == "Note "
    got = st_.feed("More words follow here. " * 30)
    assert "More words follow here." in got  # released before the line ends


def test_long_code_block_is_skipped_quickly() -> None:
    import time

    t0 = time.process_time()
    assert speak("Hi:\n```\n" + "x = 1\n" * 300_000 + "```\nAfter.") == ["Hi:", "After."]
    assert time.process_time() - t0 < 5.0  # a guard against per-line work, not a speed goal


def test_html_tags_and_closing_hashes() -> None:
    assert speak("## Title ##\n\nLine<br>two <kbd>Ctrl</kbd> and Vec<String> or C#.") == [
        "Title", "Line two Ctrl and Vec<String> or C#."]
