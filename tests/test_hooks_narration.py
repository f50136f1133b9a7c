"""A reply handed over by a Stop hook is narrated exactly as the same text arriving as a
stream-json assistant line: same narration, speech text and segmentation (real Claude
Code transcripts from ../shared/real-sessions)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixture_paths import REPO
from yomiage.config import Config
from yomiage.daemon.sessions import Session
from yomiage.hooks.handler import HookHandler
from yomiage.text.event_types import RawLine
from yomiage.text.flow import TextFlow

SESSIONS = ("03_transcript-japanese-reply-sidechains.jsonl",
            "11_transcript-multi-turn-edits.jsonl",
            "06_transcript-background-bash-websearch-local-commands.jsonl")


def _real_sessions() -> Path:
    fixtures = os.environ.get("YOMIAGE_FIXTURES", "")
    for c in (os.environ.get("YOMIAGE_REAL_SESSIONS", ""),
              str(Path(fixtures).parent / "real-sessions") if fixtures else "",
              str(REPO.parent / "shared" / "real-sessions")):
        if c and Path(c).is_dir():
            return Path(c)
    pytest.skip("real sessions not found at ../shared/real-sessions (set "
                "YOMIAGE_REAL_SESSIONS or YOMIAGE_FIXTURES)")


def _replies(path: Path) -> list[tuple[bytes, str]]:
    """(the transcript line, its text) for each main-thread assistant text block."""
    out = []
    for line in path.read_bytes().splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        msg = obj.get("message") if isinstance(obj, dict) else None
        if obj.get("type") != "assistant" or obj.get("isSidechain") or \
                not isinstance(msg, dict) or not isinstance(msg.get("content"), list):
            continue
        texts = [b.get("text") for b in msg["content"]
                 if isinstance(b, dict) and b.get("type") == "text"]
        if len(texts) == 1 and isinstance(texts[0], str) and texts[0].strip():
            out.append((line, texts[0]))
    return out


@pytest.mark.parametrize("name", SESSIONS)
def test_stop_reply_sentences_equal_stream_json_sentences(name: str) -> None:
    path = _real_sessions() / name
    if not path.is_file():
        pytest.skip(f"{name} is not there")
    cfg = Config()
    replies = _replies(path)
    assert replies, "no assistant prose in the session"
    handler = HookHandler(cfg)
    for k, (line, text) in enumerate(replies):
        flow = TextFlow(cfg)
        expected = [s.text for s in flow.feed(RawLine(1, line, 0.0)) + flow.finish()]
        session = Session(f"s{k}", cfg)
        got = []
        for m in handler.handle({"session_id": f"s{k}", "cwd": "/p", "transcript_path": "",
                                 "hook_event_name": "Stop",
                                 "last_assistant_message": text}, "claude"):
            assert m["type"] == "reply"
            got += [s.text for s in session.feed_reply(m["text"], m["message_id"],
                                                       m["complete"])]
        assert got == expected, (name, k, text[:200])


@pytest.mark.parametrize("name", SESSIONS)
@pytest.mark.parametrize("step", [7, 37, 500])
def test_display_chunks_then_stop_speak_each_sentence_once(name: str, step: int) -> None:
    """MessageDisplay chunks (``step`` characters each) and then Stop with the whole reply:
    the sentences are the stream-json ones, once each, in order."""
    path = _real_sessions() / name
    if not path.is_file():
        pytest.skip(f"{name} is not there")
    cfg = Config()
    handler = HookHandler(cfg)
    for k, (line, text) in enumerate(_replies(path)):
        flow = TextFlow(cfg)
        expected = [s.text for s in flow.feed(RawLine(1, line, 0.0)) + flow.finish()]
        session = Session(f"s{k}", cfg)
        common = {"session_id": f"s{k}", "cwd": "/p", "transcript_path": ""}
        payloads = [{**common, "hook_event_name": "UserPromptSubmit", "prompt": "go"}]
        chunks = [text[i:i + step] for i in range(0, len(text), step)]
        payloads += [{**common, "hook_event_name": "MessageDisplay", "message_id": "m",
                      "index": i, "final": False, "delta": c} for i, c in enumerate(chunks)]
        payloads.append({**common, "hook_event_name": "Stop", "last_assistant_message": text})
        got = []
        for p in payloads:
            for m in handler.handle(p, "claude"):
                if m["type"] == "reply":
                    got += [s.text for s in session.feed_reply(m["text"], m["message_id"],
                                                               m["complete"])]
        assert got == expected, (name, k, step, text[:200])
