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
device). The translator is off in both (``--lang`` is the reply's and the listener's
language): the figure is hook + narration + voice; translation adds the same to both.
"""

from __future__ import annotations

import argparse
import contextlib
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


def _env(d: Path, voice: str, lang: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOMIAGE_")}
    src = str(Path(__file__).resolve().parents[2])
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])),
        "YOMIAGE_SOCKET": str(d / "d.sock"), "YOMIAGE_DAEMON_LOG": str(d / "daemon.log"),
        "YOMIAGE_CONFIG": str(d / "none.toml"), "YOMIAGE_TRANSLATOR": "none",
        "YOMIAGE_VOICE": voice, "YOMIAGE_OUT": "timing", "YOMIAGE_SOURCE_LANG": lang,
        "YOMIAGE_TARGET_LANG": lang, "YOMIAGE_DAEMON_RECORD": str(d / "record.jsonl"),
        "YOMIAGE_MAX_LAG": "0", "YOMIAGE_DAEMON_AUTOSTART": "0",
    })
    return env


def _first_audio(record: Path, session: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row.get("session") == session and row.get("event") == "start":
                    return float(row["perf"])
        time.sleep(0.002)
    raise RuntimeError(f"no audio for {session} within {timeout:.0f} s (see the daemon log)")


def daemon_path(voice: str, text: str, lang: str, repeat: int) -> dict[str, Any]:
    """First-audio latencies (s) and hook process wall times (s) through a warm daemon."""
    from yomiage.daemon.client import DaemonUnavailable, send

    d = Path(tempfile.mkdtemp(prefix="ybh", dir="/tmp"))
    env = _env(d, voice, lang)
    daemon = subprocess.Popen([sys.executable, "-m", "yomiage.cli", "daemon", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = Path(env["YOMIAGE_SOCKET"])
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if send({"type": "ping"}, autostart=False, path=sock).get("ready"):
                    break
            except DaemonUnavailable:  # not listening yet
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the daemon did not get ready within 120 s")
            time.sleep(0.05)
        first, walls = [], []
        for i in range(repeat + 1):  # the first run warms the voice and is left out
            sid = f"bench-{i}"
            payload = {"session_id": sid, "transcript_path": "", "cwd": "/tmp/bench",
                       "hook_event_name": "Stop", "stop_hook_active": False,
                       "last_assistant_message": text}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", HOOK, "hook"], env=env,
                           input=json.dumps(payload).encode(), capture_output=True, check=True)
            wall = time.perf_counter() - t0
            fa = _first_audio(Path(env["YOMIAGE_DAEMON_RECORD"]), sid) - t0
            send({"type": "wait", "session": sid, "timeout": 60}, autostart=False, path=sock,
                 timeout=70)
            if i:
                first.append(fa)
                walls.append(wall)
        return {"first_audio_s": first, "hook_wall_s": walls}
    finally:
        with contextlib.suppress(DaemonUnavailable):  # gone already
            send({"type": "shutdown"}, autostart=False, path=sock)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(d, ignore_errors=True)


def inprocess_path(voice: str, text: str, lang: str, repeat: int) -> dict[str, Any]:
    """First-audio latencies (s) of the same sentence through the in-process pipeline."""
    from yomiage.config import load_config
    from yomiage.narrate.engines import load_engines
    from yomiage.narrate.output import open_output
    from yomiage.narrate.session import narrate_lines
    from yomiage.text.event_types import RawLine

    cfg = replace(load_config({}), translator="none", voice=voice, out="timing",
                  source_lang=lang, target_lang=lang, max_lag=0.0)
    engines = load_engines(cfg)
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
    p.add_argument("--text", default="テストはすべて通りました。")
    p.add_argument("--lang", default="ja")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    results: dict[str, Any] = {}
    for voice in a.voice:
        results[voice] = {"daemon": daemon_path(voice, a.text, a.lang, a.repeat),
                          "in_process": inprocess_path(voice, a.text, a.lang, a.repeat)}
    if a.json:
        print(json.dumps(results))
        return 0
    print(f"{'voice':18s} {'path':28s} {'P50 ms':>8s} {'P95 ms':>8s}  n={a.repeat}")
    for voice, r in results.items():
        rows = [("hook → first audio", r["daemon"]["first_audio_s"]),
                ("  (hook process wall)", r["daemon"]["hook_wall_s"]),
                ("in-process → first audio", r["in_process"]["first_audio_s"])]
        for name, vals in rows:
            print(f"{voice:18s} {name:28s} {_pct(vals, .5) * 1e3:8.1f} "
                  f"{_pct(vals, .95) * 1e3:8.1f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
