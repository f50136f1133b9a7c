"""Bounded everything in the text half: lines, line endings, warnings, words, sentences, blocks."""

from __future__ import annotations

import io
import logging
import os
import threading
import time

import orjson
import pytest

from yomiage.config import Config
from yomiage.text import bad_lines
from yomiage.text.bad_lines import BadLines
from yomiage.text.bounds import (
    BLOCK_NOTICE,
    MAX_BLOCK_CHARS,
    MAX_SENTENCE_CHARS,
    MAX_WORD_CHARS,
    SENTENCE_NOTICE,
    WORD_NOTICE,
    WordCap,
)
from yomiage.text.events import read_lines
from yomiage.text.flow import iter_sentences


def _msg(text: str, mid: str = "m") -> bytes:
    return orjson.dumps({"type": "assistant", "message": {"id": mid, "content": [
        {"type": "text", "text": text}]}})


def _texts(data: bytes, cfg: Config | None = None) -> list[str]:
    return [s.text for s in iter_sentences(read_lines(io.BytesIO(data)), cfg or Config())]


# ---------------------------------------------------------------------- reader ----

def test_cr_only_line_endings() -> None:
    data = _msg("First one.", "a") + b"\r" + _msg("Second one.", "b") + b"\r"
    assert _texts(data) == ["First one.", "Second one."]
    lines = list(read_lines(io.BytesIO(b"a\rb\r\nc\n\rd")))
    assert [(x.line_no, x.data) for x in lines] == [(1, b"a"), (2, b"b"), (3, b"c"), (4, b""),
                                                    (5, b"d")]


class _Trickle(io.RawIOBase):
    """A stream handing out its bytes a few at a time (every split point exercised)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.pos, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos:self.pos + min(self.step, n if n > 0 else self.step)]
        self.pos += len(chunk)
        return chunk


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_crlf_split_across_reads_is_one_ending(step: int) -> None:
    data = b"ab\r\ncd\ref\ngh"
    got = [(x.line_no, x.data) for x in read_lines(_Trickle(data, step))]  # type: ignore[arg-type]
    assert got == [(1, b"ab"), (2, b"cd"), (3, b"ef"), (4, b"gh")]


class _Zero(io.RawIOBase):
    """/dev/zero that ends after ``total`` bytes (so that the test ends)."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.max_chunk = 0

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        k = min(n, self.left)
        self.left -= k
        self.max_chunk = max(self.max_chunk, k)
        return b"\0" * k


def test_no_newline_is_cut_at_the_limit_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    stream = _Zero(5 << 20)
    limit = 1 << 20
    warned_at: list[int] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warned_at.append(stream.left)

    spy = Spy()
    logging.getLogger("yomiage").addHandler(spy)
    try:
        with caplog.at_level(logging.WARNING, "yomiage"):
            got = list(read_lines(stream, max_bytes=limit))  # type: ignore[arg-type]
    finally:
        logging.getLogger("yomiage").removeHandler(spy)
    assert got == []
    assert len(caplog.records) == 1 and "line 1" in caplog.text and "1 MB" in caplog.text
    assert warned_at[0] >= (5 << 20) - limit - (1 << 16)  # at the limit, not at the end
    assert stream.left == 0  # and reading went on


def test_line_after_an_overlong_one_is_read(caplog: pytest.LogCaptureFixture) -> None:
    data = _msg("Before it.", "a") + b"\n" + b"x" * 3000 + b"\n" + _msg("After it.", "b")
    with caplog.at_level(logging.WARNING, "yomiage"):
        got = [(x.line_no, x.data[:5]) for x in read_lines(io.BytesIO(data), max_bytes=1000)]
    assert [n for n, _ in got] == [1, 3]
    assert "line 2" in caplog.text


def test_slow_writer_with_cr_endings_is_not_held() -> None:
    r, w = os.pipe()
    writes: list[float] = []

    def writer() -> None:
        for k in range(3):
            writes.append(time.perf_counter())
            os.write(w, f'{{"n":{k}}}\r'.encode())
            time.sleep(0.15)
        os.close(w)

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as stream:
        got = list(read_lines(stream))
    t.join()
    assert [x.data for x in got] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    for k, line in enumerate(got):
        assert writes[k] <= line.read_at < writes[k] + 0.1


# ---------------------------------------------------------------- bad lines ----

class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_run_of_bad_lines_gets_one_warning_and_one_summary(
        caplog: pytest.LogCaptureFixture) -> None:
    pretty = orjson.dumps({"type": "assistant", "message": {"id": "p", "content": [
        {"type": "text", "text": "Lost in pretty print."}]}}, option=orjson.OPT_INDENT_2)
    data = _msg("Before it.", "a") + b"\n" + pretty + b"\n" + _msg("After it.", "b") + b"\n"
    n_bad = pretty.count(b"\n") + 1
    with caplog.at_level(logging.WARNING, "yomiage"):
        assert _texts(data) == ["Before it.", "After it."]
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 2, msgs
    assert msgs[0].startswith("line 2: skipped")
    assert msgs[1] == f"lines 3–{n_bad + 1}: {n_bad - 1} more bad lines skipped"


def test_single_bad_lines_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    bad = BadLines(clock)
    with caplog.at_level(logging.WARNING, "yomiage"):
        for k in range(1, 20001, 2):  # bad, good, bad, good, … 10,000 bad lines in 1 s
            clock.t = k / 20000
            bad(k, "not valid JSON")
            bad.good()
        bad.finish()
    msgs = [r.getMessage() for r in caplog.records]
    allowed = bad_lines.BURST + int(bad_lines.RATE * 1.0) + 1
    assert len(msgs) <= allowed + 1
    shown = len(msgs) - 1
    assert msgs[-1] == f"…and {10000 - shown:,} more bad lines skipped"


def test_an_endless_run_is_summarised_now_and_then(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    bad = BadLines(clock)
    with caplog.at_level(logging.WARNING, "yomiage"):
        for k in range(1, 180_001):  # /dev/urandom: 18,000 bad lines a second for 10 s
            clock.t = k / 18000
            bad(k, "not valid JSON")
        bad.finish()
    msgs = [r.getMessage() for r in caplog.records]
    assert 2 <= len(msgs) <= 4, msgs
    assert msgs[0].startswith("line 1: skipped")
    assert msgs[-1].startswith("lines ") and msgs[-1].endswith("more bad lines skipped")


def test_alternating_runs_are_rate_limited_too(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    bad = BadLines(clock)
    with caplog.at_level(logging.WARNING, "yomiage"):
        for k in range(1, 30001, 3):  # bad, bad, good: 20,000 bad lines in 1 s
            clock.t = k / 30000
            bad(k, "x")
            bad(k + 1, "y")
            bad.good()
        bad.finish()
    assert len(caplog.records) <= bad_lines.BURST + int(bad_lines.RATE) + 2


def test_each_line_number_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    bad = BadLines()
    with caplog.at_level(logging.WARNING, "yomiage"):
        bad(3, "one")
        bad(3, "two")
        bad.finish()
    assert len(caplog.records) == 1


# ------------------------------------------------------------------ speech caps ----

def test_a_megabyte_word_is_one_notice_between_its_neighbours() -> None:
    data = b"\n".join([_msg("Before it.", "a"), _msg("x" * 1_000_000, "b"),
                       _msg("The key is " + "y" * 1_000_000 + " and more.", "c"),
                       _msg("After it.", "d")])
    t = time.perf_counter()
    got = _texts(data)
    took = time.perf_counter() - t
    assert got == ["Before it.", WORD_NOTICE, "The key is", WORD_NOTICE, "and more.", "After it."]
    assert took < 1.5, took  # a generous bound for a shared CI core; typically 0.1 s


def test_a_megabyte_sentence_is_cut_short() -> None:
    text = "Start here. " + "word " * 200_000 + "end. Next sentence."
    got = _texts(_msg(text))
    assert got[0] == "Start here."
    assert got[-1] == "Next sentence." or got[-1] == BLOCK_NOTICE
    assert got.count(SENTENCE_NOTICE) == 1
    spoken = got[1:got.index(SENTENCE_NOTICE)]
    assert sum(len(p) for p in spoken) <= MAX_SENTENCE_CHARS + 200


def test_a_megabyte_block_is_read_up_to_the_cap() -> None:
    text = "First sentence. " + "Another short sentence here. " * 40_000
    got = _texts(b"\n".join([_msg(text, "a"), _msg("After it.", "b")]))
    assert got[0] == "First sentence." and got[-2:] == [BLOCK_NOTICE, "After it."]
    assert sum(len(s) for s in got) <= MAX_BLOCK_CHARS


def test_word_cap_is_the_same_however_the_text_is_split() -> None:
    text = "short " + "z" * (MAX_WORD_CHARS + 1) + " fine " + "w" * MAX_WORD_CHARS + " end"
    whole = WordCap()
    expect = whole.feed(text) + whole.flush()
    assert expect.count(WORD_NOTICE) == 1 and "w" * MAX_WORD_CHARS in expect
    for step in (1, 5, 33, 101):
        cap = WordCap()
        got = "".join(cap.feed(text[i:i + step]) for i in range(0, len(text), step))
        assert got + cap.flush() == expect


def test_scripts_without_spaces_are_not_words() -> None:
    ja = "これは長い日本語の文です" * 20  # 240 characters, no space
    assert _texts(_msg(ja + "。")) == [ja + "。"] or WORD_NOTICE not in _texts(_msg(ja + "。"))


@pytest.mark.parametrize("unit", ["[", "<", "[ ", "< ", "[a](", "<http://", "``a", "… ", "\n",
                                  "「", "```\n", "<b>", "\\", "**a "])
def test_megabyte_markdown_stays_fast(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    data = b"\n".join([_msg("Before it.", "a"), _msg(text, "b"), _msg("After it.", "c")])
    t = time.perf_counter()
    got = _texts(data)
    took = time.perf_counter() - t
    assert got[0] == "Before it." and got[-1] == "After it."
    assert len(got) <= 3 + 12
    assert took < 3.0, took  # typically under 0.5 s; generous for a shared core


# ------------------------------------------------------------------ replays ----

def _fixture_bytes(stem: str) -> bytes:
    from tests.fixture_paths import fixture

    return fixture(f"{stem}.ndjson").read_bytes()


@pytest.mark.parametrize("stem", ["01_qa_markdown_rust", "02_ci_pipeline_tools",
                                  "03_partial_japanese", "05_subagents_migration",
                                  "06_error_subtypes", "09_long_session"])
def test_a_replayed_stream_is_spoken_once(stem: str) -> None:
    data = _fixture_bytes(stem)
    if not data.endswith(b"\n"):
        data += b"\n"
    cfg = Config(tools="brief")
    assert _texts(data + data, cfg) == _texts(data, cfg)


def test_a_new_message_id_is_spoken_again() -> None:
    data = b"\n".join([_msg("Same words.", "a"), _msg("Same words.", "a"),
                       _msg("Same words.", "b")])
    assert _texts(data) == ["Same words.", "Same words."]


def _partial(mid: str, text: str) -> bytes:
    ev = [{"type": "message_start", "message": {"id": mid}},
          {"type": "content_block_start", "index": 0, "content_block": {"type": "text",
                                                                         "text": ""}},
          {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta",
                                                                 "text": text}},
          {"type": "content_block_stop", "index": 0}, {"type": "message_stop"}]
    return b"\n".join(orjson.dumps({"type": "stream_event", "event": e}) for e in ev)


def test_a_replayed_partial_message_is_spoken_once() -> None:
    one = _partial("m1", "Streamed once.") + b"\n" + _msg("Streamed once.", "m1")
    two = _partial("m2", "Streamed once.")
    assert _texts(b"\n".join([one, one, two])) == ["Streamed once.", "Streamed once."]
