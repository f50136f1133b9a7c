"""Ctrl-C at any moment ends `yomiage` within a second: no traceback, no abort.

Real subprocesses, run as the console script (a file named ``yomiage``). The engines
are fakes (the code under test is what surrounds them): the loader holds the
interpreter's lock in one long native call, as model loading does, and the voice is
slow enough that speech is under way when the signal comes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import pytest

import yomiage.commands.narrate as narrator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SAMPLE = Path(str(narrator.sample_session_path()))

DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from yomiage.cli import main
    import yomiage.narrate.engines as engines
    from test_pipeline import FakeTranslator, FakeVoice
    marker = {marker!r}

    class SlowVoice(FakeVoice):
        def stream(self, text, ahead_s=0.0):
            for chunk in super().stream(text):
                open(marker + ".speaking", "w").close()
                yield chunk

    def load(cfg, degrade=False):
        open(marker + ".loading", "w").close()
        sum(range({spin}))  # one long native call holding the interpreter's lock
        return engines.Engines(FakeTranslator(), SlowVoice(chunks=3, chunk_s=0.05,
                                                           delay=0.2), 0.1, "ja")

    engines.load_engines = load
    import yomiage.commands.narrate
    yomiage.commands.narrate.load_engines = load
    sys.exit(main())
""")


def _start(tmp_path: Path, spin: int) -> tuple[subprocess.Popen[bytes], str]:
    folder = tmp_path / "bin"
    folder.mkdir()
    marker = str(tmp_path / "marker")
    (folder / "yomiage").write_text(DRIVER.format(tests=str(Path(__file__).parent),
                                                  marker=marker, spin=spin))
    proc = subprocess.Popen([sys.executable, str(folder / "yomiage"), "-q", "narrate",
                             str(SAMPLE), "--out", str(tmp_path / "out.wav")],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    return proc, marker


def _interrupt(proc: subprocess.Popen[bytes]) -> tuple[int, float, str]:
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=10)
    took = time.monotonic() - sent
    err = proc.stderr.read().decode() if proc.stderr else ""
    return code, took, err


def _wait_for(path: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_ctrl_c_during_imports(tmp_path: Path) -> None:
    proc, _ = _start(tmp_path, spin=10)
    time.sleep(0.25)  # numpy and friends are being imported
    code, took, err = _interrupt(proc)
    assert code in (-signal.SIGINT, 130), err
    assert "Traceback" not in err and took < 1.0


def test_ctrl_c_while_models_load(tmp_path: Path) -> None:
    proc, marker = _start(tmp_path, spin=10**9)  # would hold the lock for many seconds
    _wait_for(marker + ".loading", proc)
    time.sleep(0.1)
    code, took, err = _interrupt(proc)
    assert code in (-signal.SIGINT, 130), err
    assert "Traceback" not in err and took < 1.0


def test_ctrl_c_during_speech(tmp_path: Path) -> None:
    proc, marker = _start(tmp_path, spin=10)
    _wait_for(marker + ".speaking", proc)
    time.sleep(0.3)
    code, took, err = _interrupt(proc)
    assert code == 130, err
    assert "Traceback" not in err and "Fatal" not in err and took < 1.0
    with wave.open(str(tmp_path / "out.wav")) as w:  # still a valid file
        assert w.getnframes() > 0


def test_load_section_restores_every_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage import early

    monkeypatch.setattr(early, "is_console_script", lambda: True)
    mine = lambda signum, frame: None  # noqa: E731
    before = {s: signal.signal(s, mine) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with early.sigint_ends_process(also=(signal.SIGINT, signal.SIGTERM)):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        for s, h in before.items():
            signal.signal(s, h)
