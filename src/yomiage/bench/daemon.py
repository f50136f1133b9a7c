"""`yomiage bench --stage daemon`: the shared daemon's figures, each beside its baseline.

Runs a real daemon process (the configured engines, the timing sink: real-time pace, no
sound device) on a socket of its own, and measures

* **client**: a client process's wall time to hand a `say` over (process start
  included: `yomiage say … --daemon` through the console script's light entry), beside a
  bare `python -c pass` in the same loop; and the import time of the client modules;
* **first audio**: the same replies (a stream-json line each) through the in-process
  pipeline and through the warm daemon, alternating, from the line's arrival to its
  first audio;
* **cold start**: a client that finds no daemon → first audio of its reply;
* **concurrency**: ``--sessions`` sessions (8) each sending a reply every ~2 s for
  ``--duration`` seconds (20; 120 for the issue's figure): each session's share of the
  spoken time against a fair share, the longest wait of a reply's first sentence, and
  the daemon's RSS over the run;
* **interrupt**: `interrupt` sent while a sentence plays → the sound stopped (the cut
  recorded after the sink's stop returned), P50/P95.

Times across the two processes use ``perf_counter`` (CLOCK_MONOTONIC on Linux, one clock
for every process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yomiage.config import Config
from yomiage.narrate.timeline import percentile

CLIENT_CODE = "import sys; from yomiage.entry import main; sys.exit(main())"


def _pct(values: list[float]) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {"p50_ms": r(percentile(values, 50)), "p95_ms": r(percentile(values, 95)),
            "max_ms": r(max(values) if values else None), "n": len(values)}


def config_env(cfg: Config) -> dict[str, str]:
    """``YOMIAGE_*`` variables that give a daemon process the settings of ``cfg``."""
    env: dict[str, str] = {}
    default = Config()
    for f in dataclasses.fields(Config):
        value = getattr(cfg, f.name)
        if value is None or value == getattr(default, f.name):
            continue
        env["YOMIAGE_" + f.name.upper()] = str(value).lower() if isinstance(value, bool) \
            else str(value)
    return env


RUN_CODE = """
import logging, sys
from yomiage.bench.daemon import bench_engines
from yomiage.config import load_config
from yomiage.daemon.server import serve
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
cfg = load_config()
shape, record, unit, lead_in = sys.argv[1:5]
sys.exit(serve(cfg, policy=cfg.daemon_policy, record=record, lead_in=lead_in == "1",
               fair_unit=unit, loader=(lambda c: bench_engines(c, shape)) if shape else None))
"""


def bench_engines(cfg: Config, shape: str) -> Any:
    """The pipeline bench's engines (a random-weight model of ``shape``, real voice) as
    the daemon's :class:`~yomiage.narrate.engines.Engines`."""
    from yomiage.bench.pipeline import load_bench_engines
    from yomiage.narrate.engines import Engines

    eng = load_bench_engines(cfg, shape)
    return Engines(eng.translator, eng.voice, eng.load_s, cfg.target_lang)


class BenchDaemon:
    """A daemon process on a private socket, its record file, and a connection."""

    def __init__(self, cfg: Config, folder: Path, shape: str | None = None, *,
                 fair_unit: str = "reply", lead_in: bool = False) -> None:
        self.folder = folder
        self.shape = shape or ""
        self.fair_unit = fair_unit
        self.lead_in = lead_in
        self.sock = folder / "d.sock"
        self.record = folder / "record.jsonl"
        env = {k: v for k, v in os.environ.items() if not k.startswith("YOMIAGE_")}
        env.update(config_env(cfg))
        env.update({"YOMIAGE_OUT": "timing", "YOMIAGE_SOCKET": str(self.sock),
                    "YOMIAGE_DAEMON_RECORD": str(self.record),
                    "YOMIAGE_DAEMON_LOG": str(folder / "daemon.log"),
                    "YOMIAGE_CONFIG": str(folder / "none.toml"),
                    "YOMIAGE_DAEMON_LEAD_IN": "false"})
        self.env = env
        self._pos = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        """Start the daemon process (it answers once its socket is bound)."""
        with open(self.folder / "daemon.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", RUN_CODE, self.shape, str(self.record),
                 self.fair_unit, "1" if self.lead_in else "0"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)

    def start(self, timeout: float = 300.0) -> float:
        """Start the daemon and wait for its engines; returns the seconds it took."""
        from yomiage.daemon.client import send

        t0 = time.perf_counter()
        self.spawn()
        deadline = time.monotonic() + timeout
        why = f"the daemon did not get ready (see {self.folder}/daemon.log)"
        while time.monotonic() < deadline:
            st: dict[str, Any] = {}
            with contextlib.suppress(Exception):  # not listening yet
                st = send({"type": "status"}, autostart=False, path=self.sock)
            if st.get("ready"):
                return time.perf_counter() - t0
            if st.get("load_error"):
                why = f"the daemon could not load: {st['load_error']}"
                break
            if self.proc is not None and self.proc.poll() is not None:
                why = f"the daemon exited ({self.proc.returncode}; see {self.folder}/daemon.log)"
                break
            time.sleep(0.05)
        if self.proc is not None and self.proc.poll() is None:  # never leave it running
            self.proc.kill()
            self.proc.wait()
        raise RuntimeError(why)

    def send(self, msg: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """One request to this daemon."""
        from yomiage.daemon.client import send

        return send(msg, autostart=False, path=self.sock, timeout=timeout)

    def wait_idle(self, timeout: float = 600.0) -> bool:
        """Until nothing is queued or playing (or ``timeout``); True when idle."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.send({"type": "wait", "timeout": 60}, timeout=65).get("idle"):
                return True
        return False

    def stop(self) -> None:
        """Shut the daemon down (and wait until its lock is free)."""
        from yomiage.daemon.client import DaemonUnavailable, daemon_alive

        with contextlib.suppress(DaemonUnavailable):
            self.send({"type": "shutdown"})
        deadline = time.monotonic() + 15
        while daemon_alive(self.sock) and time.monotonic() < deadline:
            time.sleep(0.02)

    def records(self) -> list[dict[str, Any]]:
        """Every record written so far."""
        if not self.record.exists():
            return []
        return [json.loads(x) for x in self.record.read_text(encoding="utf-8").splitlines()
                if x.strip()]

    def wait_record(self, event: str, after: float, session: str | None = None,
                    timeout: float = 60.0) -> dict[str, Any] | None:
        """The first record of ``event`` (and ``session``) stamped after ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.records():
                if r["event"] == event and r["perf"] > after and \
                        (session is None or r["session"] == session):
                    return r
            time.sleep(0.005)
        return None


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="ymgb", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _assistant_line(text: str, mid: str) -> str:
    return json.dumps({"type": "assistant", "message": {
        "id": mid, "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": text}]}})


def _replies() -> list[str]:
    from yomiage.bench.pipeline import corpus_text

    return [t for t in corpus_text() if 40 <= len(t) <= 240 and not t.startswith(("#", "|"))]


# --------------------------------------------------------------------- client
def bench_client(d: BenchDaemon, runs: int) -> dict[str, Any]:
    """Wall and CPU time of a `say --daemon` and a `hook` client process, each against
    `python -c pass`, taken in turn (bare, say, hook) after one warm-up of each."""
    # Clients run from compiled modules, as after `pip install` (which compiles them):
    # PYTHONDONTWRITEBYTECODE set to anything, even "0", would recompile every run.
    env = {k: v for k, v in d.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    import resource

    def cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (ru.ru_utime + ru.ru_stime) * 1000

    hook_payload = json.dumps({"hook_event_name": "SessionStart", "session_id": "bench-hook",
                               "cwd": str(d.folder), "source": "startup"}).encode()
    commands = {
        "python_bare": ([sys.executable, "-c", "pass"], None),
        "client": ([sys.executable, "-c", CLIENT_CODE, "say", "Bench.", "--daemon",
                    "--session", "bench-client", "--priority", "tool"], None),
        "hook": ([sys.executable, "-c", CLIENT_CODE, "hook"], hook_payload),
    }
    wall: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    for i in range(runs + 1):
        for name, (cmd, stdin) in commands.items():
            c0, t0 = cpu(), time.perf_counter()
            out = subprocess.run(cmd, env=env, input=stdin, check=False, capture_output=True)
            if i > 0:  # the first round is the warm-up
                wall[name].append((time.perf_counter() - t0) * 1000)
                cpus[name].append(cpu() - c0)
            if out.returncode != 0 or (name == "hook" and out.stdout):
                raise RuntimeError(f"the {name} client failed: {out.stderr.decode()[-300:]}")
    d.send({"type": "stop", "session": "bench-client"})
    imp = subprocess.run([sys.executable, "-X", "importtime", "-c",
                          "import yomiage.entry, yomiage.daemon.sayclient, yomiage.hooks.cli"],
                         env=env, capture_output=True, text=True, check=False)
    own = 0.0
    for line in imp.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].startswith("yomiage") and parts[1].isdigit():
            own = max(own, int(parts[1]) / 1000)
    res: dict[str, Any] = {name: _pct(values) for name, values in wall.items()}
    res |= {f"{name}_cpu": _pct(values) for name, values in cpus.items()}
    res["client_import_ms"] = round(own, 1)
    return res


# ---------------------------------------------------------------- first audio
def bench_first_audio(d: BenchDaemon, cfg: Config, replies: list[str]) -> dict[str, Any]:
    """First audio of the same replies: in-process pipeline vs the warm daemon."""
    from yomiage.audio import TimingSink
    from yomiage.narrate.engines import load_engines
    from yomiage.narrate.pipeline import Pipeline, PipelineOptions, sentences_from_lines
    from yomiage.text.events import RawLine
    from yomiage.text.flow import TextFlow

    engines = bench_engines(cfg, d.shape) if d.shape else load_engines(cfg, degrade=True)
    inproc, daemon = [], []
    for n, text in enumerate(replies):
        line = _assistant_line(text, f"fa{n}")
        sink = TimingSink()
        pipe = Pipeline(PipelineOptions.from_config(cfg, live=False), engines.translator,
                        engines.voice, sink)
        with sink:
            # the line arrives in a running pipeline (stamped when its reader takes it),
            # as the daemon's arrives in a running daemon
            arriving = (RawLine(1, line.encode(), time.perf_counter()) for _ in range(1))
            report = pipe.run(sentences_from_lines(arriving, TextFlow(cfg)))
        first = min((t for t in report.timelines if t.first_audio_at is not None),
                    key=lambda t: t.seq, default=None)
        if first is not None and first.first_audio_at is not None:
            inproc.append((first.first_audio_at - first.read_at) * 1000)
        t0 = time.perf_counter()
        d.send({"type": "lines", "session": "first-audio", "lines": [line], "end": True})
        rec = d.wait_record("start", t0, "first-audio")
        if rec is not None:
            daemon.append((rec["perf"] - t0) * 1000)
        d.wait_idle()
    diffs = [a - b for a, b in zip(daemon, inproc, strict=False)]
    return {"in_process": _pct(inproc), "daemon": _pct(daemon),
            "daemon_minus_in_process": _pct(diffs), "replies": len(replies),
            "engines": engines.summary_line()}


# ----------------------------------------------------------------- cold start
def bench_cold(cfg: Config, runs: int, shape: str | None = None) -> dict[str, Any]:
    """Daemon process start → first audio of a reply sent as soon as the socket answers
    (the engines load meanwhile)."""
    from yomiage.daemon.client import DaemonUnavailable

    cold: list[float] = []
    for n in range(runs):
        with _folder() as folder:
            d = BenchDaemon(cfg, folder, shape)
            msg = {"type": "lines", "session": "cold", "end": True,
                   "lines": [_assistant_line("The build is green again.", f"c{n}")]}
            t0 = time.perf_counter()
            d.spawn()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    d.send(msg)
                    break
                except DaemonUnavailable:
                    time.sleep(0.01)
            rec = d.wait_record("start", t0, "cold", timeout=300)
            if rec is not None:
                cold.append((rec["perf"] - t0) * 1000)
            d.stop()
    return {"cold_start": _pct(cold)}


# ---------------------------------------------------------------- concurrency
def bench_concurrency(d: BenchDaemon, replies: list[str], sessions: int,
                      duration: float, every: float = 2.0) -> dict[str, Any]:
    """``sessions`` sessions each sending a reply every ``every`` seconds."""
    from yomiage.daemon.client import connect

    stop = threading.Event()
    rss: list[tuple[float, float]] = []
    sent = [0] * sessions

    def session(k: int) -> None:
        rng = random.Random(k)
        with connect(autostart=False, path=d.sock) as conn:
            time.sleep(rng.uniform(0, every))
            n = 0
            while not stop.is_set():
                text = replies[(k * 7 + n) % len(replies)]
                conn.request({"type": "reply", "session": f"s{k}", "cwd": f"/src/p{k}",
                              "message_id": f"r{n}", "text": text, "complete": True})
                sent[k] += 1
                n += 1
                stop.wait(rng.uniform(0.8 * every, 1.2 * every))

    t_start = time.perf_counter()
    threads = [threading.Thread(target=session, args=(k,), daemon=True)
               for k in range(sessions)]
    for t in threads:
        t.start()
    while time.perf_counter() - t_start < duration:
        st = d.send({"type": "status"})
        rss.append((time.perf_counter() - t_start, float(st.get("rss_mb") or 0)))
        time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(10)
    t_end = time.perf_counter()
    d.send({"type": "stop"})
    recs = [r for r in d.records() if t_start <= r["perf"] <= t_end
            and r["session"].startswith("s")]
    spoken = {f"s{k}": 0.0 for k in range(sessions)}
    for r in recs:
        if r["event"] in ("end", "cut") and r["session"] in spoken:
            spoken[r["session"]] += float(r.get("audio_s") or 0)
    total = sum(spoken.values())
    fair = total / sessions if sessions else 0
    shares = {s: round(v / fair, 3) if fair else None for s, v in spoken.items()}
    waits = [float(r["wait_ms"]) for r in recs if r["event"] == "start" and
             r.get("first_of_reply")]
    dropped = sum(1 for r in recs if r["event"] == "drop")
    starts = [r for r in recs if r["event"] == "start"]
    changes = sum(1 for a, b in itertools.pairwise(starts) if a["session"] != b["session"])
    heard = [r for r in recs if r["event"] in ("end", "cut")]
    warm = [v for t, v in rss if t >= duration * 0.25]
    growth = (round((max(warm[-3:]) - warm[0]) / warm[0] * 100, 2)
              if len(warm) >= 4 and warm[0] else None)
    return {
        "sessions": sessions, "duration_s": duration, "replies_sent": sum(sent),
        "spoken_s": round(total, 1), "share_of_fair": shares,
        "share_min": min((v for v in shares.values() if v is not None), default=None),
        "share_max": max((v for v in shares.values() if v is not None), default=None),
        "within_25_percent": all(v is not None and 0.75 <= v <= 1.25
                                 for v in shares.values()),
        "reply_first_sentence_wait": _pct(waits), "replies_heard_from_start": len(waits),
        "dropped_sentences": dropped,
        "speaker_changes_per_min": round(changes / (t_end - t_start) * 60, 1),
        "lead_ins": sum(1 for r in heard if r.get("lead_in")),
        "fair_unit": d.fair_unit,
        "rss_mb_after_warmup": warm[0] if warm else None,
        "rss_mb_end": warm[-1] if warm else None, "rss_growth_percent": growth,
    }


# ------------------------------------------------------------------ interrupt
def bench_interrupt(d: BenchDaemon, replies: list[str], runs: int) -> dict[str, Any]:
    """`interrupt` while a sentence plays → the cut (sound stopped)."""
    cut, answered = [], []
    rng = random.Random(1)
    long = " ".join(replies[:6])
    for n in range(runs):
        t0 = time.perf_counter()
        d.send({"type": "reply", "session": "int", "message_id": f"i{n}", "text": long,
                "complete": True})
        if d.wait_record("start", t0, "int") is None:
            continue
        time.sleep(rng.uniform(0.1, 0.5))
        t1 = time.perf_counter()
        d.send({"type": "interrupt", "session": "int"})
        answered.append((time.perf_counter() - t1) * 1000)
        rec = d.wait_record("cut", t1, "int", timeout=5)
        if rec is not None:
            cut.append((rec["perf"] - t1) * 1000)
        d.wait_idle()
    return {"interrupt_to_silence": _pct(cut), "interrupt_reply": _pct(answered)}


def bench_daemon(args: Any, cfg: Config) -> dict[str, Any]:
    """Every daemon figure (see the module docstring)."""
    import datetime as dt

    from yomiage.bench.main import _loadavg, hardware

    replies = _replies()
    random.Random(0).shuffle(replies)
    runs = args.repeat or 30
    # Short replies (≤ 120 characters, under the lag limit): a reply every ~2 s, and
    # first audio that lag control never touches.
    short = [r for r in replies if len(r) <= 120] or replies
    result: dict[str, Any] = {"stage": "daemon", "hardware": hardware(),
                              "date": dt.datetime.now(dt.timezone.utc).isoformat(
                                  timespec="seconds")}
    with _folder() as folder:
        d = BenchDaemon(cfg, folder, args.shape)
        result["warm_load_s"] = round(d.start(), 2)
        try:
            result["client"] = bench_client(d, runs)
            result["first_audio"] = bench_first_audio(d, cfg, short[:max(3, runs // 3)])
            result["interrupt"] = bench_interrupt(d, short, max(5, runs // 2))
        finally:
            d.stop()
    result["concurrency"] = []
    for unit in args.fair_units.split(","):
        with _folder() as folder:  # lead-ins on: what a listener hears between sessions
            d = BenchDaemon(cfg, folder, args.shape, fair_unit=unit.strip(), lead_in=True)
            d.start()
            try:
                result["concurrency"].append(bench_concurrency(
                    d, short, args.sessions, args.duration))
            finally:
                d.stop()
    result["cold"] = bench_cold(cfg, args.cold_runs, args.shape)
    result["load_average"] = _loadavg()
    return result


def format_daemon(res: dict[str, Any]) -> str:
    """The human-readable report of :func:`bench_daemon`."""
    def p(x: dict[str, Any]) -> str:
        return f"P50 {x['p50_ms']} ms, P95 {x['p95_ms']} ms, max {x['max_ms']} ms (n={x['n']})"

    c, fa, i = res["client"], res["first_audio"], res["interrupt"]
    conc = [
        f"  {k['sessions']} sessions × {k['duration_s']} s, fair by {k['fair_unit']}: share of "
        f"fair {k['share_min']}–{k['share_max']} (within ±25 %: {k['within_25_percent']}); "
        f"reply first-sentence wait {p(k['reply_first_sentence_wait'])}; "
        f"{k['speaker_changes_per_min']} speaker changes/min ({k['lead_ins']} lead-ins); "
        f"{k['dropped_sentences']} dropped by lag control; RSS {k['rss_mb_after_warmup']} → "
        f"{k['rss_mb_end']} MiB ({k['rss_growth_percent']} %)" for k in res["concurrency"]]
    return "\n".join([
        f"daemon on {res['hardware']}, {res['date']} (load average {res['load_average']})",
        f"  engines: {fa['engines']}; warm daemon ready in {res['warm_load_s']} s",
        f"  client `say --daemon` wall time: {p(c['client'])}; `hook`: {p(c['hook'])}; "
        f"bare python: {p(c['python_bare'])}; client imports {c['client_import_ms']} ms",
        f"  CPU time (user+sys) of a client process: {p(c['client_cpu'])}; bare python: "
        f"{p(c['python_bare_cpu'])}",
        f"  first audio, in-process: {p(fa['in_process'])}",
        f"  first audio, warm daemon: {p(fa['daemon'])}; difference "
        f"{p(fa['daemon_minus_in_process'])}",
        f"  cold start → first audio: {p(res['cold']['cold_start'])}",
        *conc,
        f"  interrupt → silence: {p(i['interrupt_to_silence'])}",
    ])
