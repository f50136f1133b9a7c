"""The tolerant reader: every line type, hostile input, incremental reading."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixture_paths import fixture
from yomiage.text import events as ev
from yomiage.text.events import RawLine, parse_line, read_lines


def parse(obj: object) -> ev.Event | None:
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return parse_line(RawLine(7, data, 0.0))


def test_read_lines_splits_on_line_endings_only() -> None:
    data = b'a\r\n\xef\xbb\xbfb\xe2\x80\xa8c\xc2\x85\x85\n\nlast'
    lines = list(read_lines(io.BytesIO(data)))
    assert [x.data for x in lines] == [b"a", b"\xef\xbb\xbfb\xe2\x80\xa8c\xc2\x85\x85", b"",
                                       b"last"]
    assert [x.line_no for x in lines] == [1, 2, 3, 4]
    assert all(x.read_at > 0 for x in lines)


def test_read_lines_long_line_and_limit(caplog: pytest.LogCaptureFixture) -> None:
    big = b"x" * 5_000_000
    assert [len(x.data) for x in read_lines(io.BytesIO(big + b"\nok\n"))] == [5_000_000, 2]
    with caplog.at_level(logging.WARNING, "yomiage"):
        got = list(read_lines(io.BytesIO(big + b"\nok\n"), max_bytes=1 << 20))
    assert [(x.line_no, x.data) for x in got] == [(2, b"ok")]
    assert "line 1" in caplog.text


def test_read_lines_yields_each_line_when_it_arrives() -> None:
    r, w = os.pipe()
    writes: list[float] = []

    def writer() -> None:
        for k in range(3):
            writes.append(time.perf_counter())
            os.write(w, f'{{"n":{k}}}\n'.encode())
            time.sleep(0.15)
        os.close(w)

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as stream:
        got = list(read_lines(stream))
    t.join()
    assert len(got) == 3
    for k, line in enumerate(got):
        assert writes[k] <= line.read_at < writes[k] + 0.1  # not held until the next line


def test_system_and_init() -> None:
    e = parse({"type": "system", "subtype": "init", "session_id": "s", "model": "m", "tools": []})
    assert e == ev.SystemEvent("init", "s", "m")
    for sub in ("task_started", "task_progress", "task_notification", "hook_started",
                "hook_response", "status", "compact_boundary", "api_retry", "local_command"):
        assert parse({"type": "system", "subtype": sub}) == ev.SystemEvent(sub)


def test_assistant_blocks() -> None:
    e = parse({"type": "assistant", "parent_tool_use_id": None, "message": {
        "id": "msg_1", "model": "claude", "role": "assistant", "content": [
            {"type": "text", "text": "Hi."},
            {"type": "thinking", "thinking": "hm", "signature": "x"},
            {"type": "redacted_thinking", "data": "zz"},
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/a/b.py"}},
            {"type": "server_tool_use", "id": "t2", "name": "web_search", "input": {"q": 1}},
            {"type": "image", "source": {}},
            {"type": "future_block"},
        ]}, "error": "rate_limit"})
    assert isinstance(e, ev.AssistantMessage)
    assert e.message_id == "msg_1" and e.model == "claude" and e.error == "rate_limit"
    assert e.blocks == (
        ev.TextBlock("Hi."), ev.ThinkingBlock("hm"), ev.RedactedThinkingBlock(),
        ev.ToolUseBlock("t1", "Read", {"file_path": "/a/b.py"}),
        ev.ToolUseBlock("t2", "web_search", {"q": 1}, server=True),
        ev.OtherBlock("image"), ev.OtherBlock("future_block"),
    )
    assert not e.subagent


def test_subagent_and_sidechain() -> None:
    a = parse({"type": "assistant", "parent_tool_use_id": "toolu_9",
               "message": {"content": [{"type": "text", "text": "x"}]}})
    b = parse({"type": "assistant", "isSidechain": True, "agentId": "a1",
               "message": {"role": "assistant", "content": [{"type": "text", "text": "x"}]}})
    assert isinstance(a, ev.AssistantMessage) and a.subagent
    assert isinstance(b, ev.AssistantMessage) and b.subagent and b.sidechain


def test_user_lines() -> None:
    p = parse({"type": "user", "message": {"role": "user", "content": "Fix it"}})
    assert p == ev.UserMessage("Fix it")
    r = parse({"type": "user", "message": {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": "ok", "is_error": True},
        {"type": "tool_result", "tool_use_id": "u", "content": [{"type": "text", "text": "a"},
                                                                {"type": "image"}]},
    ]}, "tool_use_result": {"stdout": "ok"}})
    assert isinstance(r, ev.UserMessage) and r.prompt is None
    assert r.blocks == (ev.ToolResultBlock("t", "ok", True), ev.ToolResultBlock("u", "a"))
    m = parse({"type": "user", "isMeta": True, "isCompactSummary": True,
               "message": {"role": "user", "content": "Caveat"}})
    assert isinstance(m, ev.UserMessage) and m.meta and m.compact_summary


@pytest.mark.parametrize("subtype", ["success", "error_max_turns", "error_during_execution",
                                     "error_max_budget_usd",
                                     "error_max_structured_output_retries"])
def test_results(subtype: str) -> None:
    e = parse({"type": "result", "subtype": subtype, "is_error": subtype != "success",
               "num_turns": 2, "errors": ["boom"], "terminal_reason": "max_turns"})
    assert e == ev.Result(subtype, subtype != "success", ("boom",), "max_turns", None, 2)


def test_result_success_with_api_error() -> None:
    e = parse({"type": "result", "subtype": "success", "is_error": True,
               "terminal_reason": "api_error", "api_error_status": 429, "result": "API Error"})
    assert e == ev.Result("success", True, (), "api_error", 429)


def test_stream_events() -> None:
    def se(event: object, parent: str | None = None) -> ev.Event | None:
        return parse({"type": "stream_event", "event": event, "parent_tool_use_id": parent})

    assert se({"type": "message_start", "message": {"id": "m1", "model": "x"}}) == \
        ev.MessageStart("m1", "x")
    assert se({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "t", "name": "Bash", "input": {}}},
              "p") == ev.BlockStart(1, ev.ToolUseBlock("t", "Bash", {}), "p")
    for kind, key, name in [("text_delta", "text", "text"), ("thinking_delta", "thinking",
                                                              "thinking"),
                            ("input_json_delta", "partial_json", "input_json"),
                            ("signature_delta", "signature", "signature")]:
        got = se({"type": "content_block_delta", "index": 2, "delta": {"type": kind, key: "v"}})
        assert got == ev.BlockDelta(2, name, "v")
    assert se({"type": "content_block_delta", "index": 0, "delta": {"type": "citations"}}) == \
        ev.BlockDelta(0, "other", "")
    assert se({"type": "content_block_stop", "index": 2}) == ev.BlockStop(2)
    assert se({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}) == \
        ev.MessageDelta("end_turn")
    assert se({"type": "message_stop"}) == ev.MessageStop()
    assert se({"type": "ping"}) == ev.Unknown("stream_event/ping")


def test_other_line_types() -> None:
    assert parse({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected"}}) == \
        ev.RateLimit("rejected")
    for kind in ("summary", "file-history-snapshot", "queue-operation", "progress"):
        assert parse({"type": kind}) == ev.TranscriptEntry(kind)
    assert parse({"type": "conversation_reset"}) == ev.ConversationReset()
    assert parse({"type": "heartbeat"}) == ev.Unknown("heartbeat")
    old = parse({"type": "message", "role": "assistant", "content": [{"type": "text",
                                                                      "text": "Old."}]})
    assert isinstance(old, ev.AssistantMessage) and old.blocks == (ev.TextBlock("Old."),)
    old2 = parse({"type": "message", "message": {"role": "assistant", "content": "Str."}})
    assert isinstance(old2, ev.AssistantMessage) and old2.blocks == (ev.TextBlock("Str."),)


def test_lenient_decoding() -> None:
    lone = parse(b'\xef\xbb\xbf{"type":"assistant","message":{"content":[{"type":"text",'
                 b'"text":"a\\udfffb\xc0\xaf\\u0000c\tx"}]}}\r')
    assert isinstance(lone, ev.AssistantMessage)
    text = lone.blocks[0].text  # type: ignore[union-attr]
    assert text.startswith("a") and "b" in text and text.endswith("c\tx")


@pytest.mark.parametrize("line", [
    b"npm WARN something", b'{"type":"assistant","message":{"content":{"type":"text"}}}',
    b'{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"te',
    b"[" * 100_000 + b"]" * 100_000, b'{"type":7}', b'{"type":"assistant","message":[1]}',
    b'{"type":"assistant","message":{"content":[{"type":"text","text":true}]}}',
    b'{"type":"assistant","message":{"content":["bare"]}}', b'{"type":"stream_event","event":[]}',
    b"{}", b"[1,2]", b'{"a":1}{"b":2}', b"\x00\x00PK\x03\x04binary",
    b'{"type":"result","subtype":"success","is_error":"no"}',
    b'{"type":"stream_event","event":{"type":"content_block_stop","index":"x"}}',
])
def test_bad_lines_warn_once_and_skip(line: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "yomiage"):
        assert parse_line(RawLine(42, line, 0.0)) is None
    assert len(caplog.records) == 1 and "line 42" in caplog.records[0].getMessage()


def test_blank_lines_are_silent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "yomiage"):
        for data in (b"", b"\r", b"  ", b"\xef\xbb\xbf"):
            assert parse_line(RawLine(1, data, 0.0)) is None
    assert not caplog.records


def test_hostile_fixture(caplog: pytest.LogCaptureFixture) -> None:
    with fixture("08_hostile_input.ndjson").open("rb") as f, \
            caplog.at_level(logging.WARNING, "yomiage"):
        lines = list(read_lines(f))
        parsed = [parse_line(x) for x in lines]
    texts = [b.text for e in parsed if isinstance(e, ev.AssistantMessage)
             for b in e.blocks if isinstance(b, ev.TextBlock)]
    assert texts[0] == "Starting the smoke checks for the staging cluster."
    assert texts[-1] == "All smoke checks finished."
    assert len(lines) == 35 and lines[-1].data.endswith(b"}")
    warned = {r.getMessage().split(":")[0] for r in caplog.records}
    assert warned == {f"line {n}" for n in (3, 4, 8, 10, 19, 20, 21, 22, 23, 25, 31, 33, 34)}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "message", "content", "text", "event", "delta", "index",
                         "subtype", "is_error", "parent_tool_use_id", "id", "name", "input"]),
        kids, max_size=5),
    max_leaves=20,
)
TYPES = st.sampled_from(["assistant", "user", "system", "result", "stream_event", "message",
                         "rate_limit_event", "summary", "text", "content_block_delta"])


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_parser_never_raises_on_bytes(data: bytes) -> None:
    parse_line(RawLine(1, data, 0.0))


@settings(max_examples=400, deadline=None)
@given(TYPES, JSON, JSON)
def test_parser_never_raises_on_json(kind: str, message: object, extra: object) -> None:
    for obj in ({"type": kind, "message": message, "event": extra, "content": extra},
                {"type": kind, "message": {"content": message, "role": "assistant"}},
                {"type": "stream_event", "event": {"type": kind, "delta": message,
                                                   "content_block": extra}}, message):
        parse_line(RawLine(1, json.dumps(obj).encode(), 0.0))
