"""The daemon's wire protocol: encoding, checks, size limits, versions."""

from __future__ import annotations

import json

import pytest

from yomiage.daemon.protocol import (
    MAX_LINE,
    MAX_LINES,
    MAX_TEXT,
    VERSION,
    ProtocolError,
    check_handler_result,
    decode,
    decode_reply,
    encode,
    reply_error,
    reply_ok,
)


def test_round_trip() -> None:
    msg = {"v": 1, "type": "lines", "session": "s", "lines": ['{"type":"x"}'], "id": 3}
    line = encode(msg)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == msg


def test_replies_echo_the_id() -> None:
    assert reply_ok({"id": 9}, queued=2) == {"v": VERSION, "ok": True, "id": 9, "queued": 2}
    assert reply_error("bad", {"id": "x"})["id"] == "x"
    assert decode_reply(encode(reply_ok()))["ok"] is True


@pytest.mark.parametrize("line, why", [
    (b"not json\n", "JSON"),
    (b"[1,2]\n", "JSON object"),
    (b'{"type":"explode"}\n', "unknown message type"),
    (b'{"type":"ping","v":2}\n', "newer"),
    (b'{"type":"ping","v":"1"}\n', "'v'"),
    (b'{"type":"lines","lines":[]}\n', "'session' is required"),
    (b'{"type":"lines","session":"s","lines":[1]}\n', "list of at most"),
    (b'{"type":"say"}\n', "'text' is required"),
    (b'{"type":"say","text":""}\n', "empty"),
    (b'{"type":"say","text":"x","priority":"urgent"}\n', "priority"),
    (b'{"type":"hook","agent":"claude","payload":[]}\n', "payload"),
    (b'{"type":"wait","timeout":-1}\n', "timeout"),
    (b'{"type":"interrupt","session":5}\n', "string"),
    (b'{"type":"reply","session":"s","text":"x","complete":"yes"}\n', "true or false"),
    (b"[" * 100000 + b"\n", "JSON"),
])
def test_bad_messages_are_refused(line: bytes, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        decode(line)


def test_size_limits() -> None:
    with pytest.raises(ProtocolError, match="too long"):
        decode(b" " * (MAX_LINE + 1))
    with pytest.raises(ProtocolError, match="longer than"):
        decode(encode({"type": "say", "text": "x" * (MAX_TEXT + 1)}))
    with pytest.raises(ProtocolError, match="at most"):
        decode(encode({"type": "lines", "session": "s", "lines": ["{}"] * (MAX_LINES + 1)}))
    with pytest.raises(ProtocolError, match="longer than"):
        decode(encode({"type": "interrupt", "session": "s" * 201}))


def test_handler_results_are_checked() -> None:
    ok = [{"type": "reply", "session": "s", "text": "Hi.", "complete": True},
          {"type": "interrupt", "session": "s"}]
    assert check_handler_result(ok) == ok
    with pytest.raises(ProtocolError):
        check_handler_result({"type": "ping"})
    with pytest.raises(ProtocolError, match="unusable"):
        check_handler_result([{"type": "shutdown"}])
    with pytest.raises(ProtocolError, match="unusable"):
        check_handler_result([{"type": "hook", "agent": "x", "payload": {}}])
    with pytest.raises(ProtocolError):
        check_handler_result([{"type": "say"}])


def test_every_documented_type_is_known() -> None:
    from pathlib import Path

    from yomiage.daemon.protocol import TYPES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "daemon.md").read_text()
    for kind in TYPES:
        assert f"`{kind}`" in doc, kind
    json.dumps(sorted(TYPES))
