"""`yomiage run` never leaves the agent behind: real process trees, real signals.

The agent is a Python program that starts a grandchild; yomiage runs with fake engines
(the code under test is the process handling around them).
"""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import pytest

import yomiage.commands.narrate as narrator
from yomiage.bench.agent_trials import signal_trial

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

SAMPLE = Path(str(narrator.sample_session_path()))

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


@pytest.fixture
def yomiage(tmp_path: Path) -> list[str]:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=str(Path(__file__).parent)))
    return [sys.executable, str(driver)]


@pytest.mark.parametrize(("signum", "code"), [
    (signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGKILL, -9)])
def test_no_agent_process_outlives_yomiage(yomiage: list[str], tmp_path: Path,
                                           signum: int, code: int) -> None:
    trial = signal_trial(yomiage, signum, tmp_path, SAMPLE)
    assert trial.left == 0, trial
    assert trial.exit_code == code, trial
    assert trial.exit_s < 3.0, trial


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_grandchild_that_ignores_signals_is_killed(yomiage: list[str], tmp_path: Path,
                                                     signum: int) -> None:
    trial = signal_trial(yomiage, signum, tmp_path, SAMPLE, stubborn=True, settle_s=5.0)
    assert trial.left == 0, trial


def test_ctrl_c_ends_a_wrapper_agent_promptly(yomiage: list[str], tmp_path: Path) -> None:
    trial = signal_trial(yomiage, signal.SIGINT, tmp_path, SAMPLE, wrapper=True)
    assert trial.left == 0, trial
    assert trial.exit_code == 130, trial
    assert trial.exit_s < 2.0, trial


def test_an_unwritable_output_ends_the_agent_too(yomiage: list[str], tmp_path: Path) -> None:
    import subprocess
    import time

    from yomiage.bench.agent_trials import AGENT, pid_alive

    (tmp_path / "agent.py").write_text(AGENT)
    pid_file = tmp_path / "pids"
    proc = subprocess.Popen([*yomiage, "run", "--no-render", "--out", "-", "--",
                             sys.executable, str(tmp_path / "agent.py"), str(SAMPLE),
                             str(pid_file), "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the player is gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 1, err
    assert "cannot write the audio" in err and "Traceback" not in err
    pids = [int(p) for p in pid_file.read_text().split()]
    deadline = time.monotonic() + 5
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(pid_alive(p) for p in pids)
