"""`yomiage follow`'s tail reader: a writer thread appends; truncation, rotation, a new
transcript, partial lines; the lines through TextFlow speak only what is new."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from yomiage.config import Config
from yomiage.text.event_types import RawLine
from yomiage.text.flow import TextFlow
from yomiage.text.tail import FileTail, follow_lines, newest_transcript


def _assistant(text: str, mid: str) -> str:
    return json.dumps({"type": "assistant", "message": {
        "id": mid, "role": "assistant", "content": [{"type": "text", "text": text}]}}) + "\n"


def _user(text: str) -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": text}}) + "\n"


SUMMARY = json.dumps({"type": "summary", "summary": "Fixing CI", "leafUuid": "x"}) + "\n"
COMPACT = json.dumps({"type": "user", "isCompactSummary": True, "message": {
    "role": "user", "content": "This session is being continued from a previous one."}}) + "\n"


def _collect(it: Iterator[RawLine], stop: threading.Event, until: int,
             timeout: float = 5.0) -> list[bytes]:
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    for raw in it:
        out.append(raw.data)
        if len(out) >= until or time.monotonic() > deadline:
            stop.set()
    return out


def test_file_tail_partial_lines_truncation_and_rotation(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"old line\n")
    t = FileTail(p)
    assert t.poll() == []  # what was there at the start is old
    with p.open("ab") as f:
        f.write(b'{"half": ')
    assert t.poll() == []  # no newline yet
    with p.open("ab") as f:
        f.write(b'1}\nnext\n')
    assert t.poll() == [b'{"half": 1}', b"next"]
    p.write_bytes(b"")  # truncated
    assert t.poll() == []
    p.write_bytes(b"after truncation\n")
    assert t.poll() == [b"after truncation"]
    p2 = tmp_path / "t2.jsonl"
    p2.write_bytes(b"rotated in\n")
    os.replace(p2, p)  # the path now names another file
    assert t.poll() == [b"rotated in"]
    p.unlink()
    assert t.poll() == []


def test_writer_thread_is_narrated_once_new_lines_only(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_text(_user("before") + _assistant("Spoken before the start.", "m0"))
    stop = threading.Event()

    def writer() -> None:
        time.sleep(0.2)
        with p.open("a") as f:
            for chunk in (_user("Fix it."), SUMMARY, COMPACT):
                f.write(chunk)
                f.flush()
                time.sleep(0.05)
            line = _assistant("Fixed the **bug** in `src/app.py`. Tests pass.", "m1")
            f.write(line[:20])  # a line written in two pieces
            f.flush()
            time.sleep(0.15)
            f.write(line[20:])

    w = threading.Thread(target=writer)
    w.start()
    flow = TextFlow(Config())
    spoken: list[str] = []
    for raw in follow_lines(p, interval=0.02, stop=stop):
        spoken += [s.text for s in flow.feed(raw)]
        if len(spoken) >= 2:
            stop.set()
    w.join()
    spoken += [s.text for s in flow.finish()]
    assert spoken == ["Fixed the bug in app.py.", "Tests pass."]


def test_folder_switches_to_a_new_transcript(tmp_path: Path) -> None:
    proj = tmp_path / "-home-u-app"
    proj.mkdir()
    old = proj / "a.jsonl"
    old.write_text(_assistant("Old.", "m0"))
    older = proj / "b.jsonl"
    older.write_text(_assistant("Older, then resumed.", "m1"))
    os.utime(older, (time.time() - 100, time.time() - 100))
    (proj / "a").mkdir()
    assert newest_transcript(tmp_path) == old
    stop = threading.Event()

    def writer() -> None:
        time.sleep(0.15)
        with old.open("a") as f:
            f.write(_assistant("One.", "m2"))
        time.sleep(0.2)
        new = proj / "c.jsonl"  # a new session: all of it is new
        new.write_text(_assistant("Two.", "m3"))
        time.sleep(0.4)
        with older.open("a") as f:  # an old session resumed: only what is appended
            f.write(_assistant("Three.", "m4"))

    w = threading.Thread(target=writer)
    w.start()
    lines = _collect(follow_lines(tmp_path, interval=0.02, rescan=0.05, stop=stop), stop, 3)
    w.join()
    texts = [json.loads(x)["message"]["content"][0]["text"] for x in lines]
    assert texts == ["One.", "Two.", "Three."]


def test_from_start_reads_what_is_there(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_text("a\nb\n")
    stop = threading.Event()
    assert _collect(follow_lines(p, from_start=True, interval=0.01, stop=stop), stop, 2) == \
        [b"a", b"b"]


def test_polling_cost_is_small(tmp_path: Path) -> None:
    """One idle poll (a stat) costs microseconds of CPU: 10 polls a second are free."""
    p = tmp_path / "s.jsonl"
    p.write_text("x\n")
    t = FileTail(p)
    n = 2000
    t0 = time.process_time()
    for _ in range(n):
        t.poll()
    per_poll = (time.process_time() - t0) / n
    assert per_poll < 0.001  # < 1 ms of CPU per poll even on a loaded 2-core machine


def test_follow_command_refuses_a_missing_path(tmp_path: Path) -> None:
    from yomiage.commands.follow import run_follow

    assert run_follow(str(tmp_path / "missing"), Config()) == 2
    assert run_follow(str(tmp_path), Config(), interval=0) == 2
