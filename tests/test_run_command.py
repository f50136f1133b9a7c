"""`yomiage run`: flags added, conversation rendered, exit code and Ctrl-C passed through.

The agent is a real subprocess: a Python script that prints a session slowly.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import yomiage.commands.narrate as narrator
from test_pipeline import FakeTranslator, FakeVoice
from yomiage.commands.run import ConversationRenderer, run_agent, with_stream_json_flags
from yomiage.config import Config
from yomiage.narrate import engines as engines_mod
from yomiage.narrate.engines import Engines

SAMPLE = Path(str(narrator.sample_session_path()))

FAKE_AGENT = textwrap.dedent("""
    import json, signal, sys, time
    session, argv_file, marker, code, delay = sys.argv[1:6]
    json.dump(sys.argv[6:], open(argv_file, "w"))
    def on_int(signum, frame):
        open(marker, "w").write("SIGINT")
        sys.exit(130)
    signal.signal(signal.SIGINT, on_int)
    for line in open(session, "rb"):
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        time.sleep(float(delay))
    sys.exit(int(code))
""")


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    path = tmp_path / "fake_agent.py"
    path.write_text(FAKE_AGENT)
    return path


@pytest.fixture
def fake_engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    engines = Engines(FakeTranslator(), FakeVoice(chunks=1, chunk_s=0.02), 0.1, "ja")
    monkeypatch.setattr(engines_mod, "load_engines", lambda cfg, degrade=False: engines)
    return engines


def test_stream_json_flags_added_or_replaced() -> None:
    assert with_stream_json_flags(["claude", "-p", "hi"]) == [
        "claude", "-p", "hi", "--output-format", "stream-json", "--verbose"]
    assert with_stream_json_flags(["claude", "--output-format", "text", "--verbose", "-p", "x"]) \
        == ["claude", "--verbose", "-p", "x", "--output-format", "stream-json"]
    assert with_stream_json_flags(["claude", "--output-format=json"]) == [
        "claude", "--output-format", "stream-json", "--verbose"]


def test_run_narrates_the_agent_and_returns_its_exit_code(
        agent: Path, tmp_path: Path, fake_engines: Engines) -> None:
    argv_file, wav = tmp_path / "argv.json", tmp_path / "run.wav"
    argv = ["--", sys.executable, str(agent), str(SAMPLE), str(argv_file), str(tmp_path / "m"),
            "3", "0.001", "-p", "fix it"]
    code = run_agent(argv, Config(out=str(wav)), render=False, quiet=True)
    assert code == 3
    import json

    assert json.loads(argv_file.read_text()) == ["-p", "fix it", "--output-format",
                                                 "stream-json", "--verbose"]
    voice = fake_engines.voice
    assert isinstance(voice, FakeVoice) and len(voice.texts) >= 10
    assert wav.stat().st_size > 44


def test_missing_agent_is_one_line_and_127(caplog: pytest.LogCaptureFixture) -> None:
    assert run_agent(["--", "/nonexistent/claude"], Config(out="null"), False, True) == 127
    assert any("cannot start" in r.getMessage() for r in caplog.records)
    assert run_agent(["--"], Config(out="null"), False, True) == 2


def test_renderer_shows_prose_tools_results_and_outcome() -> None:
    from rich.console import Console

    buf = io.StringIO()
    r = ConversationRenderer(Console(file=buf, width=100, color_system=None))
    for line in SAMPLE.read_bytes().splitlines():
        r.show_line(line)
    r.show_line(b"not json {")
    r.show_line(b'{"type":"assistant","message":{"content":[{"type":"tool_use","input":7}]}}')
    text = buf.getvalue()
    assert "look at the failing test first" in text
    assert "⏺ Read(" in text and "timeutil.py" in text
    assert "⏺ Bash(pytest -q tests/test_timeutil.py)" in text
    assert "⎿ The file" in text and "(+1 lines)" in text
    assert "✓ done in 21.4 s" in text
    assert text.count("Found it.") == 1  # partial deltas are not printed twice


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import yomiage.narrate.engines as engines
    from test_pipeline import FakeTranslator, FakeVoice
    eng = engines.Engines(FakeTranslator(), FakeVoice(chunks=1, chunk_s=0.02), 0.1, "ja")
    engines.load_engines = lambda cfg, degrade=False: eng
    from yomiage.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_ctrl_c_is_forwarded_to_the_agent_and_its_code_returned(
        agent: Path, tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=str(Path(__file__).parent)))
    marker, wav = tmp_path / "got-sigint", tmp_path / "int.wav"
    proc = subprocess.Popen(
        [sys.executable, str(driver), "-q", "run", "--out", str(wav), "--no-render", "--",
         sys.executable, str(agent), str(SAMPLE), str(tmp_path / "argv.json"), str(marker),
         "0", "0.2"],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not (tmp_path / "argv.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGINT)
    code = proc.wait(timeout=20)
    assert marker.read_text() == "SIGINT"
    assert code == 130, proc.stderr.read() if proc.stderr else ""
    import wave

    with wave.open(str(wav)) as w:  # still a valid file
        assert w.getnframes() >= 0
