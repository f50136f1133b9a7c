"""The hook handler: payloads (tests/hook_payloads.py) → daemon protocol messages."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hook_payloads as hp
from yomiage.config import Config
from yomiage.daemon.protocol import check_handler_result
from yomiage.hooks.handler import HookHandler
from yomiage.hooks.transcript import wait_for_reply


def _h(**cfg: Any) -> HookHandler:
    return HookHandler(dataclasses.replace(Config(), **cfg), transcript_wait=2.0)


def _run(h: HookHandler, payload: dict[str, Any], agent: str = "claude") -> list[dict[str, Any]]:
    out = h.handle(payload, agent)
    return check_handler_result(out)  # every message valid under the daemon's protocol


def test_session_start_prompt_and_end() -> None:
    h = _h()
    assert _run(h, hp.session_start()) == [{"type": "ping"}]
    assert _run(h, hp.prompt()) == [{"type": "interrupt", "session": hp.SESSION}]
    assert _run(h, hp.session_end()) == [{"type": "forget", "session": hp.SESSION}]


def test_stop_speaks_last_assistant_message() -> None:
    h = _h()
    _run(h, hp.prompt())
    [m] = _run(h, hp.stop("Fixed the **bug** in `src/app.py`. Tests pass."))
    assert m["type"] == "reply" and m["complete"] is True and m["priority"] == "reply"
    assert m["text"] == "Fixed the **bug** in `src/app.py`. Tests pass."  # markdown: the
    assert m["session"] == hp.SESSION and m["cwd"] == hp.CWD  # daemon narrates it
    assert m["project"] == "shop-api" and m["agent"] == "claude"


def test_message_display_sends_completed_lines_and_stop_reuses_its_id() -> None:
    h = _h()
    _run(h, hp.prompt())
    assert _run(h, hp.display("msg_01", 0, "Fixed the bug")) == []  # no line complete yet
    [a] = _run(h, hp.display("msg_01", 1, " in app.py.\nTests "))
    assert a["text"] == "Fixed the bug in app.py.\n" and a["complete"] is False
    assert _run(h, hp.display("msg_01", 2, "pass")) == []
    [b] = _run(h, hp.display("msg_01", 3, ".\nDone.", final=True))
    assert b["text"] == "Fixed the bug in app.py.\nTests pass.\nDone." and b["complete"]
    assert b["message_id"] == a["message_id"]
    [c] = _run(h, hp.stop("Fixed the bug in app.py.\nTests pass.\nDone."))
    assert c["message_id"] == a["message_id"]  # same id: the daemon adds nothing new


def test_stop_before_the_final_chunk_continues_the_streamed_message() -> None:
    h = _h()
    _run(h, hp.prompt())
    [a] = _run(h, hp.display("msg_01", 0, "First line.\nSecond"))
    [b] = _run(h, hp.stop("First line.\nSecond line."))
    assert b["message_id"] == a["message_id"] and b["text"].startswith(a["text"])


def test_out_of_order_chunks_wait_for_the_gap() -> None:
    h = _h()
    _run(h, hp.prompt())
    assert _run(h, hp.display("m", 1, "two.\n")) == []
    [a] = _run(h, hp.display("m", 0, "One, "))
    assert a["text"] == "One, two.\n"


def test_a_new_turn_gets_new_message_ids() -> None:
    h = _h()
    _run(h, hp.prompt())
    [a] = _run(h, hp.stop("Same words."))
    _run(h, hp.prompt())
    [b] = _run(h, hp.stop("Same words."))
    assert a["message_id"] != b["message_id"]


def test_notifications_are_short_localized_alerts() -> None:
    h = _h(target_lang="ja")
    [m] = _run(h, hp.notification("permission_prompt"))
    assert m["type"] == "say" and m["priority"] == "alert" and m["lang"] == "ja"
    assert m["text"] == "shop-apiでClaudeが許可を求めています。" and m["translate"] is False
    [m] = _run(_h(target_lang="en"), hp.notification("idle_prompt"))
    assert m["text"] == "Claude is waiting for you in shop-api."
    [m] = _run(_h(target_lang="de"), hp.notification("something_new"))
    assert m["text"] == "Claude needs your attention in shop-api."
    assert m["lang"] == "en" and m["translate"] is True
    assert _run(h, hp.notification("auth_success")) == []


def test_stop_failure_is_one_sentence_without_the_error_body() -> None:
    [m] = _run(_h(target_lang="en"), hp.stop_failure("rate_limit"))
    assert m["text"] == "Claude's turn failed in shop-api: rate limit."
    assert "SECRET" not in json.dumps(m) and m["priority"] == "alert"
    [m] = _run(_h(target_lang="en"), hp.stop_failure("weird"))
    assert m["text"] == "Claude's turn failed in shop-api."


def test_tools_and_subagents_follow_the_config() -> None:
    assert _run(_h(), hp.pre_tool()) == []
    [m] = _run(_h(tools="brief", target_lang="en"), hp.pre_tool())
    assert m["type"] == "say" and m["priority"] == "tool" and "main.py" in m["text"]
    assert _run(_h(), hp.subagent_stop("Found three callers.")) == []
    [m] = _run(_h(subagents=True), hp.subagent_stop("Found three callers."))
    assert m["session"] != hp.SESSION and m["cwd"] != hp.CWD  # its own voice
    assert m["text"] == "Found three callers." and m["complete"]


def test_codex_and_gemini() -> None:
    h = _h(target_lang="en")
    [m] = _run(h, hp.codex_turn("Rename complete."), "codex")
    assert m["type"] == "reply" and m["agent"] == "codex" and m["text"] == "Rename complete."
    assert m["session"] == hp.codex_turn("x")["thread-id"]
    assert _run(h, {"type": "approval-requested"}, "codex") == []
    assert _run(h, hp.gemini("BeforeAgent", prompt="hi")) == []  # agent claude: unknown
    assert _run(h, hp.gemini("BeforeAgent", prompt="hi"), "gemini")[0]["type"] == "interrupt"
    [m] = _run(h, hp.gemini("AfterAgent", prompt="hi", prompt_response="Done. **Yes**."),
               "gemini")
    assert m["type"] == "reply" and m["text"] == "Done. **Yes**." and m["agent"] == "gemini"
    [m] = _run(h, hp.gemini("Notification", notification_type="ToolPermission"), "gemini")
    assert m["text"] == "Gemini needs your attention in shop-api."


@pytest.mark.parametrize("payload", [
    {}, {"hook_event_name": "Stop"}, hp.claude("Unknown"), hp.display("m", -1, "x"),
    hp.claude("MessageDisplay", message_id="m", index=True, delta="x"),
    hp.stop(None, transcript=""),
])
def test_unusable_payloads_give_nothing(payload: dict[str, Any]) -> None:
    assert _run(_h(), payload) == []


def _entry(kind: str, text: str, mid: str = "") -> str:
    if kind == "user":
        return json.dumps({"type": "user", "message": {"role": "user", "content": text}})
    return json.dumps({"type": "assistant", "message": {
        "id": mid, "role": "assistant", "content": [{"type": "text", "text": text}]}})


def test_stop_without_the_field_waits_for_this_turns_entry(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_entry("user", "first") + "\n" + _entry("assistant", "Old reply.", "m0")
                    + "\n")
    h = _h()
    _run(h, hp.prompt(transcript=str(path)))

    def writer() -> None:  # the transcript lags behind the Stop hook
        time.sleep(0.3)
        with path.open("a") as f:
            f.write(_entry("user", "second") + "\n")
            f.flush()
            time.sleep(0.1)
            f.write(_entry("assistant", "New reply.", "m1") + "\n")

    t = threading.Thread(target=writer)
    t.start()
    [m] = _run(h, hp.stop(None, transcript=str(path)))
    t.join()
    assert m["text"] == "New reply." and m["complete"]


def test_transcript_wait_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_entry("user", "q") + "\n")
    t0 = time.monotonic()
    assert wait_for_reply(path, None, timeout=0.3) is None
    assert time.monotonic() - t0 < 2
    assert wait_for_reply(tmp_path / "missing.jsonl", None, timeout=0.1) is None


def test_a_display_hook_that_runs_after_stop_is_not_spoken_again() -> None:
    """Async hooks are separate processes: a late MessageDisplay may reach the daemon
    after the Stop that already carried its text."""
    h = _h()
    _run(h, hp.prompt())
    [m] = _run(h, hp.stop("One line.\nTwo lines."))
    assert m["text"] == "One line.\nTwo lines."
    assert _run(h, hp.display("msg_01", 0, "One line.\nTwo")) == []
    assert _run(h, hp.display("msg_01", 1, " lines.", final=True)) == []
    _run(h, hp.prompt())
    assert _run(h, hp.display("msg_02", 0, "One line.\n"))  # a new turn speaks again


def test_session_end_forgets_its_subagents_too() -> None:
    h = _h(subagents=True)
    [m] = _run(h, hp.subagent_stop("Found it."))
    out = _run(h, hp.session_end())
    assert [x["session"] for x in out] == [hp.SESSION, m["session"]]
    assert all(x["type"] == "forget" for x in out)
