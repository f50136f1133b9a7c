"""Write errors are reported, files stay true, and the input is never overwritten."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import textwrap
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import yomiage.safe_io as safe_io
from test_pipeline import SR, FakeTranslator, FakeVoice
from yomiage.audio.raw import RawPcmSink
from yomiage.audio.wav import HEADER_BYTES, WavSink
from yomiage.commands.narrate import run_narrate
from yomiage.config import Config
from yomiage.narrate import engines as engines_mod
from yomiage.narrate.engines import Engines
from yomiage.narrate.session import finish_report, narrate_to_sink
from yomiage.records import AudioChunk
from yomiage.text.events import RawLine

STREAM = ('{"type":"assistant","message":{"id":"m1","role":"assistant","content":'
          '[{"type":"text","text":"The build passed. I fixed the parser. All good now."}]}}\n')


def _chunk(n: int = 1000) -> AudioChunk:
    return AudioChunk(np.full(n, 0.25, dtype=np.float32), SR)


def _frames(path: Path) -> int:
    with wave.open(str(path)) as w:
        return w.getnframes()


def test_short_pwrites_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwrite
    monkeypatch.setattr(safe_io.os, "pwrite", lambda fd, data, off: real(fd, data[:7], off))
    with WavSink(tmp_path / "a.wav", SR) as sink:
        sink.write(_chunk(1000))
        sink.write(_chunk(501))
    assert _frames(tmp_path / "a.wav") == 1501
    assert (tmp_path / "a.wav").stat().st_size == HEADER_BYTES + 2 * 1501


def test_full_disk_keeps_the_header_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwrite
    budget = [HEADER_BYTES + 2000 + 777]  # room for the header, one chunk and a bit

    def pwrite(fd: int, data: Any, off: int) -> int:
        if off == 0:  # the header rewrites bytes already allocated
            return real(fd, data, off)
        room = budget[0] - off
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data[:room], off)

    monkeypatch.setattr(safe_io.os, "pwrite", pwrite)
    path = tmp_path / "full.wav"
    sink = WavSink(path, SR)
    sink.write(_chunk(1000))
    with pytest.raises(OSError) as err:
        sink.write(_chunk(1000))
    assert err.value.errno == errno.ENOSPC
    with pytest.raises(OSError):  # refused from now on, with the same error
        sink.write(_chunk(10))
    sink.close()  # no second error
    on_disk = path.stat().st_size - HEADER_BYTES
    assert _frames(path) * 2 <= on_disk  # the header never claims more than written
    assert _frames(path) == 1000 + 777 // 2


class _ShortStream(io.RawIOBase):
    """An unbuffered stream that takes at most 5 bytes a call."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b[:5])
        return min(5, len(b))


def test_raw_sink_completes_short_writes() -> None:
    out = _ShortStream()
    with RawPcmSink(SR, stream=out, announce=None) as sink:  # type: ignore[arg-type]
        sink.write(_chunk(333))
    assert len(out.data) == 2 * 333


class _FailingSink:
    """Accepts ``ok`` writes, then fails as a full disk does."""

    name = "failing"

    def __init__(self, ok: int) -> None:
        self.ok, self.writes = ok, 0

    def write(self, chunk: AudioChunk) -> None:
        self.writes += 1
        if self.writes > self.ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def mark(self, callback: Any) -> None:
        callback(0.0)

    def pending_seconds(self) -> float:
        return 0.0

    def drain(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def __enter__(self) -> _FailingSink:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_failing_output_stops_the_run_with_an_error(caplog: pytest.LogCaptureFixture) -> None:
    engines = Engines(FakeTranslator(), FakeVoice(chunks=2, chunk_s=0.01), 0.0, "ja")
    cfg = Config(out="x.wav")
    sink = _FailingSink(ok=1)
    report = narrate_to_sink([RawLine(1, STREAM.encode(), 0.0)], cfg, engines, sink, live=False)
    assert report.output_error == os.strerror(errno.ENOSPC)
    assert report.errors == 1
    assert finish_report(report, cfg, engines, quiet=True) == 1
    lines = [r.getMessage() for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(lines) == 1 and "No space left" in lines[0]


def test_an_unwritable_timeline_is_an_error(tmp_path: Path) -> None:
    engines = Engines(FakeTranslator(), FakeVoice(chunks=1, chunk_s=0.01), 0.0, "ja")
    cfg = Config(out="null", timeline=str(tmp_path / "no" / "such" / "dir.jsonl"))
    report = narrate_to_sink([RawLine(1, STREAM.encode(), 0.0)], cfg, engines,
                             _FailingSink(ok=99), live=False)
    assert finish_report(report, cfg, engines, quiet=True) == 1


@pytest.fixture
def fake_engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    engines = Engines(FakeTranslator(), FakeVoice(chunks=1, chunk_s=0.02), 0.1, "ja")
    monkeypatch.setattr(engines_mod, "load_engines", lambda cfg, degrade=False: engines)
    monkeypatch.setattr("yomiage.commands.narrate.load_engines",
                        lambda cfg, degrade=False: engines)
    return engines


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "timeline"])
def test_the_input_is_never_overwritten(tmp_path: Path, fake_engines: Engines,
                                        caplog: pytest.LogCaptureFixture, how: str) -> None:
    src = tmp_path / "s.ndjson"
    src.write_text(STREAM)
    target = src
    if how == "symlink":
        target = tmp_path / "link.ndjson"
        target.symlink_to(src)
    elif how == "hardlink":
        target = tmp_path / "hard.ndjson"
        os.link(src, target)
    cfg = (Config(out="null", timeline=str(target)) if how == "timeline"
           else Config(out=str(target)))
    assert run_narrate(str(src), cfg, quiet=True) == 2
    assert src.read_text() == STREAM
    assert "refusing to overwrite the input" in caplog.text


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import yomiage.narrate.engines as engines
    from test_pipeline import FakeTranslator, FakeVoice
    eng = engines.Engines(FakeTranslator(), FakeVoice(chunks=4, chunk_s=0.05), 0.1, "ja")
    engines.load_engines = lambda cfg, degrade=False: eng
    from yomiage.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _driver(tmp_path: Path) -> Path:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=str(Path(__file__).parent)))
    (tmp_path / "s.ndjson").write_text(STREAM)
    return driver


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_raw_audio_to_dev_full_is_one_line_and_non_zero(tmp_path: Path) -> None:
    driver = _driver(tmp_path)
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, str(driver), "narrate", str(tmp_path / "s.ndjson"),
                               "--out", "-"], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("cannot write the audio") == 1
    assert "errors 1" in proc.stderr


def test_raw_audio_into_a_closed_pipe_is_non_zero(tmp_path: Path) -> None:
    driver = _driver(tmp_path)
    proc = subprocess.Popen([sys.executable, str(driver), "narrate", str(tmp_path / "s.ndjson"),
                             "--out", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the player went away before the first byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err and err.count("cannot write the audio") == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_text_to_dev_full_is_one_line_and_non_zero(tmp_path: Path) -> None:
    (tmp_path / "s.ndjson").write_text(STREAM)
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "yomiage.cli", "text",
                               str(tmp_path / "s.ndjson")], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "yomiage: cannot write to stdout: No space left on device"]
