"""No string from the stream can drive the terminal: the sanitizer and every place it guards."""

from __future__ import annotations

import io
import logging
import re

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.commands.run import ConversationRenderer
from yomiage.commands.text import run_text
from yomiage.config import Config
from yomiage.logs import SafeFormatter
from yomiage.text.events import RawLine
from yomiage.text.flow import iter_sentences
from yomiage.text.sanitize import HOLD_MAX, StreamSanitizer, sanitize, sanitize_line

_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]")

# pieces a hostile page would carry, mixed with ordinary and tricky text
_ATOMS = [
    "\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b[?1049h", "\x1b]0;pwned\x07", "\x1b]2;title\x1b\\",
    "\x1b]52;c;ZWNobyBoaQ==\x07", "\x1b]8;;https://evil.example\x1b\\", "\x1b]8;;\x1b\\",
    "\x1bP+q\x1b\\", "\x1b_apc\x9c", "\x1b^pm\x07", "\x1bXsos\x1b\\", "\x9b31m", "\x9d0;t\x9c",
    "\x1bc", "\x1b(B", "\x1b7", "\x1b", "\x1b[", "\x1b]", "\x9b", "\x07", "\x08", "\r", "\r\n",
    "\n", "\t", "\x00", "\x7f", "\x85", "\u202e", "\u2066", "\u061c", "\x0b", "\x0c",
    "Hello", " world.", "日本語。", "café", "[bold]", "\\", "`x`", "😀", "\u200b",
]
hostile = st.lists(st.sampled_from(_ATOMS) | st.text(max_size=8), max_size=40).map("".join)
plain = st.text(st.characters(blacklist_categories=("Cs",))).filter(
    lambda t: _BAD.search(t) is None)


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_output_never_holds_a_control(text: str) -> None:
    out = sanitize(text)
    assert _BAD.search(out) is None
    assert "\x1b" not in out and "\r" not in out


@settings(max_examples=200, deadline=None)
@given(plain)
def test_plain_text_is_unchanged(text: str) -> None:
    assert sanitize(text) is text


@settings(max_examples=200, deadline=None)
@given(hostile | st.text())
def test_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


@settings(max_examples=200, deadline=None)
@given(hostile, st.lists(st.integers(0, 400), max_size=6))
def test_stream_sanitizer_matches_the_whole(text: str, cuts: list[int]) -> None:
    text = text.replace("\r", "")  # a lone CR before a sequence may split one break in two
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    ss = StreamSanitizer()
    got = "".join(ss.feed(p) for p in pieces) + ss.flush()
    assert got == sanitize(text)
    assert _BAD.search(got) is None


def test_sequences_go_whole() -> None:
    assert sanitize("a\x1b[1;31mred\x1b[0m b") == "ared b"
    assert sanitize("x\x1b]0;title\x07y") == "xy"
    assert sanitize("x\x1b]52;c;SGVsbG8=\x1b\\y") == "xy"  # clipboard write
    assert sanitize("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\") == "click"  # hidden link
    assert sanitize("a\x9b2Jb") == "ab"
    assert sanitize("a\rb\r\nc") == "a\nb\nc"
    assert sanitize("\u202eevil\u202c") == "evil"
    assert sanitize("a\x85b\x00\x07c") == "a b  c"
    assert sanitize("usage\x1b is") == "usage  is"
    # an unterminated string sequence loses its introducer, never the prose after it
    assert sanitize("ok \x1b]0;the rest stays") == "ok 0;the rest stays"


def test_sanitize_line_is_one_line() -> None:
    assert sanitize_line("a\nb\tc\x1b[2Kd") == "a b cd"


def test_stream_sanitizer_gives_up_an_overlong_sequence() -> None:
    ss = StreamSanitizer()
    first = ss.feed("say \x1b]0;" + "x" * (HOLD_MAX + 10))
    assert first.startswith("say 0;x")
    assert ss.feed(" more.") == " more."


def test_linear_time_on_many_unterminated_sequences() -> None:
    import time

    text = "\x1b]0;" * 200_000 + "\x1b[" * 200_000
    t = time.perf_counter()
    out = sanitize(text)
    assert time.perf_counter() - t < 2.0
    assert "\x1b" not in out


# ----------------------------------------------------------------- the guarded places ----

_EVIL = "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\u202e"


def _line(obj: object) -> bytes:
    return orjson.dumps(obj) + b"\n"


def _session() -> bytes:
    return b"".join([
        _line({"type": "system", "subtype": "init", "model": "m" + _EVIL, "cwd": "/w" + _EVIL}),
        _line({"type": "assistant", "message": {"id": "m1\u202e", "content": [
            {"type": "text", "text": f"Hello {_EVIL}there. [red]Not markup[/red] here."},
            {"type": "tool_use", "id": "t1", "name": "Read",
             "input": {"file_path": f"/src/ma{_EVIL}in.py"}},
            {"type": "tool_use", "id": "t2", "name": "Grep" + _EVIL,
             "input": {"pattern": f"x{_EVIL}y"}}]}}),
        _line({"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "t1",
             "content": f"line one {_EVIL}\nline 2"}]}}),
        _line({"type": "assistant", "parent_tool_use_id": "t1", "message": {"id": "m2",
               "content": [{"type": "text", "text": f"sub {_EVIL} text"}]}}),
        _line({"type": "result", "subtype": "error" + _EVIL, "is_error": True}),
    ])


def test_conversation_view_writes_no_escape() -> None:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, color_system=None, width=200)
    r = ConversationRenderer(console)
    for line in _session().splitlines():
        r.show_line(line)
    shown = buf.getvalue()
    assert _BAD.search(shown) is None, repr(shown)
    assert "Hello" in shown and "there" in shown and "[red]Not markup[/red]" in shown
    assert "main.py" in shown and "line one" in shown and "pwned" not in shown


def test_conversation_view_on_a_terminal_has_only_rich_styles() -> None:
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="standard", width=200)
    r = ConversationRenderer(console)
    for line in _session().splitlines():
        r.show_line(line)
    shown = buf.getvalue()
    assert "\x1b]" not in shown and "\x9b" not in shown and "\x07" not in shown
    assert "\x1b[2J" not in shown and "pwned" not in shown
    assert set(re.findall(r"\x1b\[[0-9;]*([A-Za-z])", shown)) <= {"m"}  # colours only


@pytest.mark.parametrize("args", [{}, {"tools": "brief"}])
@pytest.mark.parametrize("as_json", [False, True])
def test_yomiage_text_prints_no_escape(tmp_path, capsys, args, as_json) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "s.ndjson"
    src.write_bytes(_session())
    assert run_text(str(src), Config(**args), as_json=as_json) == 0
    out = capsys.readouterr().out
    texts = [orjson.loads(x)["text"] for x in out.splitlines()] if as_json else [out]
    for t in texts:
        assert _BAD.search(t) is None and "[2J" not in t and "31m" not in t, repr(t)
    if as_json:
        assert _BAD.search(out) is None
    joined = " ".join(texts)
    assert "Hello there." in joined
    if args:
        assert "main.py" in joined


def test_no_ansi_leftovers_in_speech_across_deltas() -> None:
    """An escape sequence split over two stream deltas still leaves nothing to speak."""
    def delta(text: str) -> RawLine:
        return RawLine(0, orjson.dumps({"type": "stream_event", "event": {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}}}), 0.0)

    start = RawLine(0, orjson.dumps({"type": "stream_event", "event": {
        "type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}}),
        0.0)
    stop = RawLine(0, orjson.dumps({"type": "stream_event", "event": {
        "type": "content_block_stop", "index": 0}}), 0.0)
    lines = [start, delta("The build \x1b[1;3"), delta("1mpassed\x1b]0;ti"), delta("tle\x07 now."),
             stop]
    got = [s.text for s in iter_sentences(lines, Config())]
    assert got == ["The build passed now."]


def test_log_lines_are_sanitized() -> None:
    rec = logging.LogRecord("yomiage", logging.WARNING, __file__, 1, "bad tool %s",
                            ("x\x1b]0;t\x07",), None)
    assert SafeFormatter("yomiage: %(message)s").format(rec) == "yomiage: bad tool x"


def test_daemon_replies_speak_no_escape() -> None:
    """Replies the hooks hand to the daemon (transcript text) are sanitized too."""
    from yomiage.daemon.sessions import Session

    sess = Session("s1", Config())
    got = sess.feed_reply("Build \x1b[1;3", "m1")
    got += sess.feed_reply("Build \x1b[1;31mpassed\x1b]0;t\x07 now. " + "q" * 500 + " end.", "m1",
                           complete=True)
    texts = [s.text for s in got]
    assert texts[0] == "Build passed now."
    assert all(_BAD.search(t) is None and "31m" not in t for t in texts)
    assert "q" * 200 not in " ".join(texts)
