"""Hook → first audio of a one-sentence reply through a warm daemon, side by side with the
same sentence through the in-process pipeline, same engines, same run.

``yomiage bench --stage hooks [--engines openjtalk kokoro:jf_alpha] [--repeat 10]
[--shape marian | --translator none]``

Daemon path: a ``Stop`` payload (``last_assistant_message`` = the sentence, a fresh
session each time) is piped into a real ``yomiage hook`` process; the clock starts just
before that process is spawned and stops at the daemon's record of the sentence's first
audio written to its sink (``perf_counter`` is the system's monotonic clock, shared by the
processes of one machine). In-process path: the same sentence as a stream-json line,
read at t0, through ``narrate_lines`` with engines loaded once in this process; stop at
its timeline's ``first_audio_at``. Both write to the timing sink (real-time pace, no
device). The reply is English and is translated by the configured model (the shipped
``compact-en-ja``: real weights) or, with ``--shape``, by the pipeline bench's
random-weight model of that shape ("random weights, real shape"); with ``--translator
none`` it is Japanese already (hook + narration + voice only).
"""

from __future__ import annotations

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


def _config(base: Any, voice: str, shape: str | None) -> Any:
    """The settings both paths run with: ``base`` (the command line's) speaking ``voice``
    to the timing sink at real-time pace, no lead-ins."""
    cfg = replace(base, voice=voice, out="timing", max_lag=0.0, daemon_lead_in=False)
    if base.translator == "none" and not shape:
        return replace(cfg, source_lang=cfg.target_lang)
    return cfg


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
    return {"first_audio_s": first, "engines": engines.summary_line()}


def bench_hooks(base: Any, voices: list[str], repeat: int, shape: str | None = None,
                text: str | None = None) -> dict[str, Any]:
    """Both paths for each voice: P50/P95 (ms) of hook → first audio, of the hook
    process's wall time and of in-process → first audio, and the raw values."""
    import datetime as dt

    from yomiage.bench.daemon import _pct
    from yomiage.bench.main import _loadavg, hardware

    translated = bool(shape) or base.translator != "none"
    text = text or ("All the tests pass now." if translated else "テストはすべて通りました。")
    result: dict[str, Any] = {
        "stage": "hooks", "hardware": hardware(), "repeat": repeat, "text": text,
        "translation": (f"{shape} shape, random weights" if shape else
                        base.translation_model if translated else "none"),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "voices": {}}
    for voice in voices:
        cfg = _config(base, voice, shape)
        daemon = daemon_path(cfg, text, repeat, shape)
        inproc = inprocess_path(cfg, text, repeat, shape)
        result.setdefault("engines", {})[voice] = inproc["engines"]
        rows = {"hook_first_audio": daemon["first_audio_s"],
                "hook_wall": daemon["hook_wall_s"],
                "in_process_first_audio": inproc["first_audio_s"]}
        result["voices"][voice] = {name: _pct([v * 1e3 for v in vals]) if vals else None
                                   for name, vals in rows.items()} | {"lost": daemon["lost"]}
    result["load_average"] = _loadavg()
    return result


def format_hooks(res: dict[str, Any]) -> str:
    """The hooks bench as a small table."""
    lines = [f"hooks: {res['text']!r}, translation: {res['translation']}, n={res['repeat']}",
             f"  {'voice':18s} {'path':28s} {'P50 ms':>8s} {'P95 ms':>8s}"]
    names = {"hook_first_audio": "hook → first audio", "hook_wall": "  (hook process wall)",
             "in_process_first_audio": "in-process → first audio"}
    for voice, r in res["voices"].items():
        if r["lost"]:
            lines.append(f"  {voice:18s} no audio for {len(r['lost'])} hook(s)")
        for key, name in names.items():
            if r.get(key):
                lines.append(f"  {voice:18s} {name:28s} {r[key]['p50_ms']:8.1f} "
                             f"{r[key]['p95_ms']:8.1f}")
    return "\n".join(lines)
