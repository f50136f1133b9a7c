"""`yomiage text` end to end: golden fixtures, the console script, a slow writer."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixture_paths import expected, fixture, fixtures_dir
from yomiage.cli import main
from yomiage.config import Config
from yomiage.text.events import RawLine
from yomiage.text.flow import TextFlow, iter_sentences

STEMS = ["01_qa_markdown_rust", "02_ci_pipeline_tools", "03_partial_japanese",
         "04_thinking_redacted", "05_subagents_migration", "06_error_subtypes",
         "07_transcript_projects", "08_hostile_input", "09_long_session"]


def console_script() -> list[str]:
    exe = Path(sys.executable).with_name("yomiage")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("yomiage")
    return [found] if found else [sys.executable, "-m", "yomiage.cli"]


def test_every_fixture_has_a_golden_test() -> None:
    have = sorted(p.name[: -len(".ndjson")] for p in fixtures_dir().glob("*.ndjson"))
    assert have == STEMS


@pytest.mark.parametrize("stem", STEMS)
def test_golden(stem: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "text", str(fixture(f"{stem}.ndjson"))]) == 0
    assert capsys.readouterr().out.splitlines() == expected(stem)


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "text", "--json", str(fixture("04_thinking_redacted.ndjson"))]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    assert {r["kind"] for r in rows} == {"prose"}
    assert all(r["message_id"].startswith("msg_") and r["subagent"] is False for r in rows)
    assert all(r["segmented_at"] >= r["read_at"] > 0 and r["line_no"] > 0 for r in rows)
    assert any(r["continues"] for r in rows)
    lines: list[str] = []
    glue = False
    for r in rows:  # clause pieces re-joined give the golden sentences
        lines[-1:] = [lines[-1] + " " + r["text"]] if glue else [*lines[-1:], r["text"]]
        glue = r["continues"]
    assert lines == expected("04_thinking_redacted")


def test_console_script_subprocess() -> None:
    path = fixture("01_qa_markdown_rust.ndjson")
    done = subprocess.run([*console_script(), "text", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected("01_qa_markdown_rust")


def test_missing_file_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["text", "/nonexistent/x.ndjson"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/nonexistent/x.ndjson" in err[0]


def test_slow_writer_sentences_arrive_before_the_writer_finishes() -> None:
    src = fixture("02_ci_pipeline_tools.ndjson").read_bytes().splitlines(keepends=True)
    proc = subprocess.Popen([*console_script(), "-q", "text", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdin is not None and proc.stdout is not None
    got: list[str] = []
    try:
        for k, line in enumerate(src[:12]):
            proc.stdin.write(line)
            proc.stdin.flush()
            time.sleep(0.02)
            if k == 1:  # line 2 completes the first sentence: it must be printed now
                ready, _, _ = select.select([proc.stdout], [], [], 20)
                assert ready, "no sentence printed while the writer is still writing"
                got.append(proc.stdout.readline().decode().strip())
        assert proc.poll() is None  # the writer has not finished; stdin is still open
    finally:
        proc.stdin.close()
        rest = proc.stdout.read().decode().splitlines()
        proc.wait(timeout=30)
    assert got == ["Let me pull up the most recent failed run on the main branch."]
    assert got + rest == expected("02_ci_pipeline_tools")[: 1 + len(rest)]


def test_read_times_and_sequence() -> None:
    raws = [RawLine(k + 1, x, 100.0 + k) for k, x in
            enumerate(fixture("03_partial_japanese.ndjson").read_bytes().split(b"\n"))]
    flow = TextFlow(Config(), clock=lambda: 500.0)
    out = [(raw, s) for raw in raws for s in flow.feed(raw)]
    assert [s.seq for _, s in out] == list(range(len(out)))
    assert all(s.read_at == raw.read_at and s.line_no == raw.line_no
               and s.segmented_at == 500.0 for raw, s in out)
    assert flow.finish() == []


def test_max_sentences_and_code_options() -> None:
    text = "One. Two. Three. Four."
    raws = [RawLine(1, json.dumps({"type": "assistant", "message": {
        "id": "m", "content": [{"type": "text", "text": text}]}}).encode(), 0.0)]
    got = [s.text for s in iter_sentences(raws, Config(max_sentences=2))]
    assert got == ["One.", "Two.", "Skipping the rest of this reply."]
    code = "Here:\n\n```py\n" + "x = compute(1, 2, 3)\n" * 40 + "```\n\nEnd."
    raws = [RawLine(1, json.dumps({"type": "assistant", "message": {
        "id": "m", "content": [{"type": "text", "text": code}]}}).encode(), 0.0)]
    assert [s.text for s in iter_sentences(raws, Config(code_notice="never"))] == [
        "Here:", "End."]
    for notice in ("auto", "always"):  # "Here:" promised the code: auto says it too
        assert [s.text for s in iter_sentences(raws, Config(code_notice=notice))] == [
            "Here:", "Code omitted.", "End."]
    assert [s.text for s in iter_sentences(raws, Config(skip_code_heavy=True))] == [
        "Skipping a reply that is mostly code."]


def test_bench_text_reports_json_serialisable_figures() -> None:
    from yomiage.bench.text import bench_text, make_big_stream

    res = bench_text(str(fixture("09_long_session.ndjson")), repeat=1)
    assert json.loads(json.dumps(res)) == res
    assert res["events"] > 300 and res["sentences"] >= len(expected("09_long_session"))
    assert res["us_per_event_p50"] > 0 and res["mb_per_s"] > 0
    big = make_big_stream(1_000_000, fixture("09_long_session.ndjson"))
    assert big.count(b'"msg_000003') > 0 and len(big) > 900_000
