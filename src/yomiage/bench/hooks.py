"""Hook → first audio of a one-sentence reply through a warm daemon, side by side with the
same sentence through the in-process pipeline, same engines, same run.

``python -m yomiage.bench.hooks [--voice openjtalk] [--repeat 10] [--text …] [--lang ja]``

Daemon path: a ``Stop`` payload (``last_assistant_message`` = the sentence, a fresh
session each time) is piped into a real ``yomiage hook`` process; the clock starts just
before that process is spawned and stops at the daemon's record of the sentence's first
audio written to its sink (``perf_counter`` is the system's monotonic clock, shared by the
processes of one machine). In-process path: the same sentence as a stream-json line,
read at t0, through ``narrate_lines`` with engines loaded once in this process; stop at
its timeline's ``first_audio_at``. Both write to the timing sink (real-time pace, no
device). Without ``--shape`` the translator is off in both (the reply is in ``--lang``
already): hook + narration + voice. With ``--shape marian`` both translate an English
reply with the pipeline bench's random-weight model of that shape ("random weights, real
shape") before the voice speaks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HOOK = "import sys; from yomiage.entry import main; sys.exit(main())"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _config(voice: str, lang: str, shape: str | None) -> Any:
    """The settings both paths run with: ``shape`` = a random-weight translator of that
    shape (en → ``lang``), else no translator (the reply is in ``lang`` already)."""
    from yomiage.config import load_config

    cfg = replace(load_config({}), voice=voice, out="timing", max_lag=0.0,
                  target_lang=lang, daemon_lead_in=False)
    if shape:
        return replace(cfg, source_lang="en")
    return replace(cfg, translator="none", source_lang=lang)


def daemon_path(cfg: Any, text: str, repeat: int, shape: str | None) -> dict[str, Any]:
    """First-audio latencies (s) and hook process wall times (s) through a warm daemon
    (``bench --stage daemon``'s daemon process: the same engines as the in-process path)."""
    from yomiage.bench.daemon import BenchDaemon

    d = Path(tempfile.mkdtemp(prefix="ybh", dir="/tmp"))
    daemon = BenchDaemon(cfg, d, shape)
    env = dict(daemon.env)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env["YOMIAGE_DAEMON_AUTOSTART"] = "0"
    first: list[float] = []
    walls: list[float] = []
    lost: list[str] = []
    try:
        daemon.start()
        for i in range(repeat + 1):  # the first run warms the voice and is left out
            sid = f"bench-{i}"
            payload = {"session_id": sid, "transcript_path": "", "cwd": "/tmp/bench",
                       "hook_event_name": "Stop", "stop_hook_active": False,
                       "last_assistant_message": text}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", HOOK, "hook"], env=env,
                           input=json.dumps(payload).encode(), capture_output=True, check=True)
            wall = time.perf_counter() - t0
            rec = daemon.wait_record("start", t0, sid)
            daemon.wait_idle()
            if rec is None:
                lost.append(sid)
                continue
            if i:
                first.append(rec["perf"] - t0)
                walls.append(wall)
        return {"first_audio_s": first, "hook_wall_s": walls, "lost": lost}
    finally:
        daemon.stop()
        if lost:
            sys.stderr.write(f"no audio for {', '.join(lost)}: see {d}/daemon.log\n")
        else:
            shutil.rmtree(d, ignore_errors=True)


def inprocess_path(cfg: Any, text: str, repeat: int, shape: str | None) -> dict[str, Any]:
    """First-audio latencies (s) of the same sentence through the in-process pipeline."""
    from yomiage.bench.daemon import bench_engines
    from yomiage.narrate.engines import load_engines
    from yomiage.narrate.output import open_output
    from yomiage.narrate.session import narrate_lines
    from yomiage.text.event_types import RawLine

    engines = bench_engines(cfg, shape) if shape else load_engines(cfg)
    line = json.dumps({"type": "assistant", "message": {
        "id": "m", "role": "assistant", "content": [{"type": "text", "text": text}]}}).encode()
    first = []
    for i in range(repeat + 1):
        sink, _ = open_output(cfg, engines.voice.sample_rate)
        t0 = time.perf_counter()
        with sink:
            report = narrate_lines([RawLine(1, line, t0)], cfg, engines, sink, live=False)
        fa = report.timelines[0].first_audio_at if report.timelines else None
        if fa is None:
            raise RuntimeError("the in-process pipeline spoke nothing")
        if i:
            first.append(fa - t0)
    return {"first_audio_s": first}


def main(argv: list[str] | None = None) -> int:
    """Run both paths for each voice and print P50/P95 (ms) side by side."""
    p = argparse.ArgumentParser(prog="python -m yomiage.bench.hooks")
    p.add_argument("--voice", nargs="+", default=["openjtalk", "kokoro:jf_alpha"])
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--text", help="the reply (default: a Japanese sentence; with --shape "
                                   "an English one)")
    p.add_argument("--lang", default="ja", help="the listener's language")
    p.add_argument("--shape", help="translate with a random-weight model of this shape "
                                   "(marian, …): the pipeline bench's engines")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    text = a.text or ("All the tests pass now." if a.shape else "テストはすべて通りました。")
    results: dict[str, Any] = {}
    for voice in a.voice:
        cfg = _config(voice, a.lang, a.shape)
        results[voice] = {"daemon": daemon_path(cfg, text, a.repeat, a.shape),
                          "in_process": inprocess_path(cfg, text, a.repeat, a.shape)}
    if a.json:
        print(json.dumps(results))
        return 0
    print(f"{'voice':18s} {'path':28s} {'P50 ms':>8s} {'P95 ms':>8s}  n={a.repeat}"
          f"{' (' + str(a.shape) + ' shape, random weights)' if a.shape else ''}")
    for voice, r in results.items():
        rows = [("hook → first audio", r["daemon"]["first_audio_s"]),
                ("  (hook process wall)", r["daemon"]["hook_wall_s"]),
                ("in-process → first audio", r["in_process"]["first_audio_s"])]
        if r["daemon"]["lost"]:
            print(f"{voice:18s} no audio for {len(r['daemon']['lost'])} hook(s)")
        for name, vals in rows:
            if not vals:
                continue
            print(f"{voice:18s} {name:28s} {_pct(vals, .5) * 1e3:8.1f} "
                  f"{_pct(vals, .95) * 1e3:8.1f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
