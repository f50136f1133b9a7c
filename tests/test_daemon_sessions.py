"""Per-session text state in the daemon: replies exactly once, stream-json turns."""

from __future__ import annotations

import json

from yomiage.config import Config
from yomiage.daemon.sessions import Session, project_name


def _texts(sentences: list) -> list[str]:
    return [s.text for s in sentences]


def test_a_reply_streamed_then_sent_whole_is_spoken_once() -> None:
    s = Session("s", Config())
    got = s.feed_reply("Fixed the **bug** in `src/app.py`. Tests")
    got += s.feed_reply("Fixed the **bug** in `src/app.py`. Tests pass now.\n\nNext I will")
    got += s.feed_reply("Fixed the **bug** in `src/app.py`. Tests pass now.\n\n"
                        "Next I will run the linter.", complete=True)
    got += s.feed_reply("Fixed the **bug** in `src/app.py`. Tests pass now.\n\n"
                        "Next I will run the linter.", complete=True)  # a late copy
    assert _texts(got) == ["Fixed the bug in app.py.", "Tests pass now.",
                           "Next I will run the linter."]


def test_replies_with_different_ids_are_separate() -> None:
    s = Session("s", Config())
    a = s.feed_reply("One reply.", "m1", complete=True)
    b = s.feed_reply("One reply.", "m2", complete=True)
    assert _texts(a) == _texts(b) == ["One reply."]
    assert a[0].message_id == "m1"


def test_code_is_not_spoken_in_replies() -> None:
    s = Session("s", Config())
    got = s.feed_reply("Run this:\n\n```bash\nmake test\n```\n\nThen it works.", complete=True)
    assert _texts(got) == ["Run this:", "Code omitted.", "Then it works."]  # promised by ":"


def _assistant(text: str, mid: str) -> str:
    return json.dumps({"type": "assistant", "message": {
        "id": mid, "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": text}]}})


def _user(prompt: str) -> str:
    return json.dumps({"type": "user", "message": {"role": "user",
                                                    "content": [{"type": "text",
                                                                 "text": prompt}]}})


def test_replies_get_the_caps_stream_json_prose_gets() -> None:
    """max_sentences per reply (each reply its own count), skip_code_heavy, and the
    length bounds: the same text half as stream-json."""
    s = Session("s", Config(max_sentences=2, skip_code_heavy=True))
    text = "One. Two. Three. Four."
    got = s.feed_reply("One. Two.", "m1") + s.feed_reply(text, "m1", complete=True)
    assert _texts(got) == ["One.", "Two.", "Skipping the rest of this reply."]
    assert _texts(s.feed_reply(text, "m2", complete=True))[:2] == ["One.", "Two."]
    code = "Here:\n\n```python\n" + "x = compute(value)\n" * 60 + "```\n\nDone."
    assert _texts(s.feed_reply(code, "m3", complete=True)) == [
        "Skipping a reply that is mostly code."]
    long = "This goes on " + "and on " * 400 + "until it ends."
    got = _texts(Session("t", Config()).feed_reply(long + " Short one.", complete=True))
    assert got[-2:] == ["A very long sentence was cut short.", "Short one."]
    assert all(len(t) <= 1000 for t in got)


def test_a_forgotten_unfinished_reply_leaves_nothing_behind() -> None:
    s = Session("s", Config())
    s.feed_reply("Held back, no full stop", "first")
    for n in range(70):  # more replies than a session remembers
        s.feed_reply(f"Reply {n}.", f"m{n}", complete=True)
    assert "first" not in s._replies and not s._reply_flow._channels


def test_stream_json_lines_and_a_new_turn() -> None:
    s = Session("s", Config())
    got, new_turn = s.feed_lines([_assistant("First answer. It is long.", "m1")])
    assert _texts(got) == ["First answer.", "It is long."] and not new_turn
    got, new_turn = s.feed_lines(["not json", _user("Stop, do something else"),
                                  _assistant("Second answer.", "m2")], end=True)
    assert new_turn and _texts(got) == ["Second answer."]


def test_project_names() -> None:
    assert project_name("/home/me/src/yomiage/") == "yomiage"
    assert project_name("/x", "Custom") == "Custom"
    assert project_name(None) == ""


def test_first_of_a_reply_is_told_once() -> None:
    s = Session("s", Config())
    assert s.first_of((0, "m1")) and not s.first_of((0, "m1")) and s.first_of((1, "m1"))
