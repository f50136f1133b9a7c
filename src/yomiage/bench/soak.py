"""`yomiage bench --stage soak`: a long replayed stream with memory sampled, and faults.

Parts, each reported as JSON:

- **soak**: recorded sessions (the shared fixtures when present, else the bundled sample)
  repeated, with fresh message ids per pass, until ``hours`` of agent time (the pace
  :mod:`yomiage.narrate.replay` models) — replayed as fast as the narrator takes them —
  through the real text half and the pipeline, with the configured engines (by default
  no translation and espeak-ng: fast real engines, so an hour takes minutes) into the
  null sink. RSS is sampled (psutil) every 0.2 s; growth is the median of the last tenth
  of samples less the median of the tenth after warm-up (the first 10 % of sentences).
- **engine_exception**: the translator raises on one sentence; the others must be spoken.
- **full_disk**: a WAV output whose disk fills after a few chunks (``pwrite`` gets
  ENOSPC): one error line, exit code 1, a valid WAV whose header claims no more than the
  file holds.
- **closed_pipe**: ``--out -`` into a pipe closed at once, in a subprocess.
- **killed_agent**: ``yomiage run`` on an agent that SIGKILLs itself mid-stream.
- **run_signals**: ``trials`` each of SIGINT, SIGTERM, SIGHUP and SIGKILL to
  ``yomiage run`` (an agent with a grandchild): agent processes left.
- **ctrl_c**: ``ctrl_c_trials`` Ctrl-C trials at moments spread from start-up to the end
  of a narration: exit codes, seconds to exit, tracebacks, aborts.

``--repeat N`` scales everything: N quarter-hours of agent time, 5·N trials per signal,
25·N Ctrl-C trials (``--repeat 4``: the issue's hour, 20 trials per signal and 100 Ctrl-C
trials). The default run takes a few minutes on two cores.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from yomiage.config import Config

log = logging.getLogger(__name__)

SOAK_HOURS = 0.25
SIGNAL_TRIALS = 5
CTRL_C_TRIALS = 25
RSS_GOAL_MB = 5.0


def soak_config(cfg: Config) -> Config:
    """``cfg`` with fast real engines where the user chose none (no translation, espeak)."""
    voice = "espeak" if cfg.voice == "auto" else cfg.voice
    translator = "none" if cfg.translator == "auto" else cfg.translator
    return replace(cfg, voice=voice, translator=translator, out="null", offline=True)


def session_files() -> list[Path]:
    """The recorded sessions to replay: shared fixtures if found, else the bundled one."""
    from yomiage.commands.narrate import sample_session_path

    repo = Path(__file__).resolve().parents[3]
    for folder in (os.environ.get("YOMIAGE_FIXTURES", ""), str(repo.parent / "shared" / "fixtures"),
                   str(repo / "shared" / "fixtures")):
        if folder and (Path(folder) / "SCHEMA.md").is_file():
            found = sorted(Path(folder).glob("*.ndjson"))
            if found:
                return found
    return [Path(str(sample_session_path()))]


def _renumbered(line: bytes, tag: str) -> bytes:
    """``line`` with its message id and uuid made unique to this pass."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(obj, dict):
        return line
    msg = obj.get("message")
    if isinstance(msg, dict) and isinstance(msg.get("id"), str):
        msg["id"] = f"{msg['id']}-{tag}"
    if isinstance(obj.get("uuid"), str):
        obj["uuid"] = f"{obj['uuid']}-{tag}"
    return orjson.dumps(obj)


def soak_lines(hours: float) -> tuple[list[bytes], float]:
    """Lines of the sessions repeated to ``hours`` of agent time; (lines, agent seconds)."""
    from yomiage.narrate.replay import schedule

    sessions = [p.read_bytes().splitlines() for p in session_files()]
    sessions = [[ln for ln in s if ln.strip()] for s in sessions]
    lengths = [schedule(s)[-1] if s else 0.0 for s in sessions]
    lines: list[bytes] = []
    agent_s = 0.0
    n = 0
    while agent_s < hours * 3600.0:
        for s, length in zip(sessions, lengths, strict=True):
            lines.extend(_renumbered(ln, f"soak{n}") for ln in s)
            agent_s += length
            n += 1
    return lines, agent_s


class RssSampler:
    """Samples this process's resident memory every ``interval`` seconds, in MB."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (time, MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self._proc.memory_info().rss / 1e6))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _feed(lines: list[bytes], marks: list[float]) -> Iterator[Any]:
    """RawLines as fast as they are taken; ``marks`` gets the time of every 10 %."""
    from yomiage.text.events import RawLine

    step = max(1, len(lines) // 10)
    for i, data in enumerate(lines, 1):
        if i % step == 0:
            marks.append(time.perf_counter())
        yield RawLine(i, data, time.perf_counter())


def run_soak(cfg: Config, hours: float) -> dict[str, Any]:
    """The soak part (see the module's docstring)."""
    import gc

    from yomiage.audio.null import NullSink
    from yomiage.narrate.engines import load_engines
    from yomiage.narrate.session import narrate_lines

    lines, agent_s = soak_lines(hours)
    engines = load_engines(cfg)
    marks: list[float] = []
    gc.collect()
    started = time.perf_counter()
    with RssSampler() as rss, NullSink() as sink:
        report = narrate_lines(_feed(lines, marks), cfg, engines, sink, live=False)
    wall = time.perf_counter() - started
    warm_end = marks[0] if marks else started
    after = [mb for t, mb in rss.samples if t >= warm_end]
    tenth = max(1, len(after) // 10)
    base = statistics.median(after[:tenth]) if after else None
    end = statistics.median(after[-tenth:]) if after else None
    growth = None if base is None or end is None else round(end - base, 2)
    return {
        "engines": engines.summary_line(), "sessions": [p.name for p in session_files()],
        "lines": len(lines), "agent_s": round(agent_s, 1), "wall_s": round(wall, 1),
        "speedup": round(agent_s / wall, 1) if wall else None,
        "sentences": len(report.timelines), "spoken": len(report.spoken),
        "errors": report.errors, "rss_samples": len(rss.samples),
        "rss_start_mb": round(rss.samples[0][1], 1) if rss.samples else None,
        "rss_after_warmup_mb": None if base is None else round(base, 1),
        "rss_end_mb": None if end is None else round(end, 1),
        "rss_peak_mb": round(max(mb for _, mb in rss.samples), 1) if rss.samples else None,
        "rss_growth_mb": growth, "goal_mb": RSS_GOAL_MB,
        "goal_met": growth is not None and growth <= RSS_GOAL_MB,
    }


class _FailOnce:
    """A translator that raises on the sentence containing ``needle``, else delegates."""

    def __init__(self, inner: Any, needle: str) -> None:
        self.inner, self.needle, self.name = inner, needle, f"fail-once({inner.name})"
        self.raised = 0

    def translate(self, text: str, src: str, tgt: str) -> str:
        if self.needle in text:
            self.raised += 1
            raise RuntimeError("injected engine failure")
        return str(self.inner.translate(text, src, tgt))

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        if any(self.needle in t for t in texts):
            raise RuntimeError("injected engine failure")
        return list(self.inner.translate_batch(texts, src, tgt))

    def warmup(self) -> None:
        return None


def _stream(*texts: str) -> list[bytes]:
    return [orjson.dumps({"type": "assistant", "message": {
        "id": f"fault{i}", "role": "assistant",
        "content": [{"type": "text", "text": t}]}}) for i, t in enumerate(texts)]


def fault_engine_exception(cfg: Config) -> dict[str, Any]:
    """The translator fails on one sentence of five; the other four are spoken."""
    from yomiage.audio.null import NullSink
    from yomiage.narrate.engines import Engines, load_engines
    from yomiage.narrate.replay import replay
    from yomiage.narrate.session import narrate_lines

    real = load_engines(cfg)
    failing = _FailOnce(real.translator, "BROKEN")
    engines = Engines(failing, real.voice, real.load_s, real.target_lang)
    texts = ["The build passed.", "The parser is fixed.", "This one is BROKEN on purpose.",
             "The tests are green.", "All done now."]
    with NullSink() as sink:
        report = narrate_lines(replay(_stream(" ".join(texts)), realtime=False), cfg,
                               engines, sink, live=False)
    spoken = len(report.spoken)
    return {"sentences": len(report.timelines), "spoken": spoken, "errors": report.errors,
            "raised": failing.raised, "ok": report.errors == 1 and spoken == len(texts) - 1}


def fault_full_disk(cfg: Config) -> dict[str, Any]:
    """A WAV output on a disk that fills after ~0.3 s of audio."""
    import yomiage.safe_io as safe_io
    from yomiage.audio.wav import HEADER_BYTES, WavSink
    from yomiage.narrate.engines import load_engines
    from yomiage.narrate.replay import replay
    from yomiage.narrate.session import finish_report, narrate_to_sink

    engines = load_engines(cfg)
    real = os.pwrite
    budget = HEADER_BYTES + 2 * int(0.3 * engines.voice.sample_rate)

    def pwrite(fd: int, data: Any, offset: int) -> int:
        if fd == target_fd[0] and offset > 0:
            room = budget - offset
            if room <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            data = data[:room]
        return real(fd, data, offset)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "full.wav"
        sink = WavSink(path, engines.voice.sample_rate)
        target_fd = [sink._fd]
        safe_io.os.pwrite = pwrite
        try:
            report = narrate_to_sink(replay(_stream("One sentence here. And another one. "
                                                    "A third to be sure."), realtime=False),
                                     cfg, engines, sink, live=False)
        finally:
            safe_io.os.pwrite = real
        code = finish_report(report, replace(cfg, timeline=None), engines, quiet=True)
        size = path.stat().st_size
        with wave.open(str(path)) as w:
            frames = w.getnframes()
    honest = HEADER_BYTES + 2 * frames <= size
    return {"exit_code": code, "errors": report.errors, "output_error": report.output_error,
            "wav_frames": frames, "file_bytes": size, "header_within_file": honest,
            "ok": code == 1 and report.errors >= 1 and honest}


def _cli(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "yomiage.cli", *args],
                            stdin=subprocess.DEVNULL, **kwargs)


def _engine_flags(cfg: Config) -> list[str]:
    return ["--voice", cfg.voice, "--translator", cfg.translator, "--offline"]


def fault_closed_pipe(cfg: Config) -> dict[str, Any]:
    """Raw audio on stdout into a pipe whose reader has gone."""
    from yomiage.commands.narrate import sample_session_path

    proc = _cli(["narrate", str(sample_session_path()), "--out", "-", *_engine_flags(cfg)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=300)
    lines = [ln for ln in err.splitlines() if "cannot write" in ln]
    return {"exit_code": code, "error_lines": lines, "traceback": "Traceback" in err,
            "ok": code == 1 and len(lines) == 1 and "Traceback" not in err}


KILLED_AGENT = """
import os, signal, sys, time
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
for i, line in enumerate(lines):
    sys.stdout.buffer.write(line)
    sys.stdout.flush()
    if i == len(lines) // 2:
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)
"""


def fault_killed_agent(cfg: Config) -> dict[str, Any]:
    """`yomiage run` on an agent that is SIGKILLed halfway through its stream."""
    from yomiage.commands.narrate import sample_session_path

    with tempfile.TemporaryDirectory() as tmp:
        agent = Path(tmp) / "agent.py"
        agent.write_text(KILLED_AGENT, encoding="utf-8")
        started = time.perf_counter()
        proc = _cli(["run", "--no-render", "--out", "null", *_engine_flags(cfg), "--",
                     sys.executable, str(agent), str(sample_session_path())],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = proc.communicate(timeout=300)[1].decode("utf-8", "replace")
    code = proc.returncode
    spoken = next((ln for ln in err.splitlines() if ln.startswith("spoken")), "")
    return {"exit_code": code, "wall_s": round(time.perf_counter() - started, 1),
            "summary": spoken, "traceback": "Traceback" in err,
            "ok": code == 128 + signal.SIGKILL and "Traceback" not in err}


def run_signal_trials(cfg: Config, trials: int) -> dict[str, Any]:
    """``trials`` each of SIGINT/SIGTERM/SIGHUP/SIGKILL to `yomiage run`."""
    from yomiage.bench.agent_trials import signal_trial
    from yomiage.commands.narrate import sample_session_path

    out: dict[str, Any] = {}
    session = Path(str(sample_session_path()))
    yomiage = [sys.executable, "-m", "yomiage.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
            results = [signal_trial(yomiage, signum, Path(tmp) / f"{signum}-{i}", session,
                                    wrapper=i % 2 == 1, extra_args=_engine_flags(cfg))
                       for i in range(trials)]
            name = signal.Signals(signum).name
            out[name] = {
                "trials": trials,
                "agents_left": sum(r.left for r in results),
                "trials_with_agents_left": sum(1 for r in results if r.left),
                "exit_codes": sorted({r.exit_code for r in results}, key=str),
                "exit_s_max": max(r.exit_s for r in results),
                "exit_s_median": round(statistics.median(r.exit_s for r in results), 3),
            }
    return out


def _wav_valid(path: Path) -> bool:
    """True when ``path`` reads as a WAV whose header claims no more than the file holds."""
    try:
        with wave.open(str(path)) as w:
            frames, width = w.getnframes(), w.getsampwidth()
    except (wave.Error, EOFError, OSError):
        return False
    return 44 + frames * width <= path.stat().st_size


def run_ctrl_c_trials(cfg: Config, trials: int) -> dict[str, Any]:
    """``trials`` Ctrl-C trials at moments spread over a whole narration."""
    from yomiage.bench.ctrl_c import console_script, ctrl_c_trial
    from yomiage.commands.narrate import sample_session_path

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        args = ["-q", "narrate", str(sample_session_path()), "--out", str(work / "x.wav"),
                *_engine_flags(cfg)]
        script = console_script(work / "bin")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script), *args], cwd=work, check=False,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=600)
        full = time.perf_counter() - started
        first = 0.15  # before: Python's own start-up (see yomiage.early)
        delays = [round(first + (full - first) * i / max(1, trials - 1), 3)
                  for i in range(trials)]
        results, wavs, wav_valid = [], 0, 0
        for d in delays:
            (work / "x.wav").unlink(missing_ok=True)
            results.append(ctrl_c_trial(args, d, work))
            if (work / "x.wav").exists():  # opened once the models were loaded
                wavs += 1
                wav_valid += _wav_valid(work / "x.wav")
    interrupted = [r for r in results if not r.finished_first]
    return {
        "trials": trials, "full_run_s": round(full, 2),
        "interrupted": len(interrupted),
        "clean": sum(r.clean for r in results),
        "aborts": sum(r.aborted for r in results),
        "tracebacks": sum(r.traceback for r in results),
        "in_python_startup": sum(r.python_startup for r in results),
        "exit_codes": sorted({r.exit_code for r in results}, key=str),
        "within_1s": sum(1 for r in interrupted if r.exit_s <= 1.0),
        "wav_files": wavs, "wav_valid": wav_valid,
        "exit_s_max": max((r.exit_s for r in interrupted), default=None),
        "exit_s_median": (round(statistics.median(r.exit_s for r in interrupted), 3)
                          if interrupted else None),
        "not_clean": [r.as_dict() for r in results if not r.clean][:5],
    }


def bench_soak(cfg: Config, repeat: int = 0) -> dict[str, Any]:
    """Every part of the soak and fault benchmark; one JSON-ready dict."""
    from yomiage.bench.main import hardware

    scale = max(1, repeat)
    cfg = soak_config(cfg)
    result: dict[str, Any] = {
        "stage": "soak", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hardware": hardware(), "repeat": scale,
        "engines_for_subprocesses": {"voice": cfg.voice, "translator": cfg.translator},
    }
    parts = [
        ("engine_exception", lambda: fault_engine_exception(cfg)),
        ("full_disk", lambda: fault_full_disk(cfg)),
        ("closed_pipe", lambda: fault_closed_pipe(cfg)),
        ("killed_agent", lambda: fault_killed_agent(cfg)),
        ("run_signals", lambda: run_signal_trials(cfg, SIGNAL_TRIALS * scale)),
        ("ctrl_c", lambda: run_ctrl_c_trials(cfg, CTRL_C_TRIALS * scale)),
        ("soak", lambda: run_soak(cfg, SOAK_HOURS * scale)),
    ]
    for name, part in parts:
        t0 = time.perf_counter()
        try:
            result[name] = part()
        except Exception as exc:  # one part failing is an outcome, not the end
            log.exception("bench soak: %s failed", name)
            result[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result[name]["part_s"] = round(time.perf_counter() - t0, 1)
        log.warning("bench soak: %s done in %.0f s", name, result[name]["part_s"])
    return result
