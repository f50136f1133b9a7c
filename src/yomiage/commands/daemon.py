"""`yomiage daemon start|stop|status|run`: the warm shared narrator (docs/daemon.md)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from yomiage.config import Config

log = logging.getLogger(__name__)

ENV_RECORD = "YOMIAGE_DAEMON_RECORD"
"""A JSON-lines file where the daemon records what it spoke (tests, benchmarks)."""


def run_daemon(action: str, cfg: Config, *, forward: list[str] | None = None,
               as_json: bool = False, record: str | None = None) -> int:
    """Dispatch one `yomiage daemon` action; returns the exit code."""
    if action == "run":
        return _run(cfg, record)
    if action == "start":
        return _start(forward or [])
    if action == "stop":
        return _stop()
    if action == "status":
        return _status(as_json)
    raise AssertionError(f"unhandled daemon action {action!r}")


def _run(cfg: Config, record: str | None) -> int:
    from yomiage.daemon.server import serve

    handler = logging.StreamHandler(sys.stderr)
    from yomiage.logs import SafeFormatter  # log lines may quote a session's stream

    handler.setFormatter(SafeFormatter("%(asctime)s yomiage[%(process)d]: %(message)s"))
    root = logging.getLogger("yomiage")
    root.handlers[:] = [handler]
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    rec = record or os.environ.get(ENV_RECORD)
    return serve(cfg, policy=cfg.daemon_policy, idle_timeout=cfg.daemon_idle_timeout,
                 record=Path(rec) if rec else None, lead_in=cfg.daemon_lead_in)


def _start(forward: list[str]) -> int:
    from yomiage.daemon import paths
    from yomiage.daemon.client import DaemonUnavailable, connect, try_connect

    path = paths.socket_path()
    conn = try_connect(path)
    if conn is not None:
        with conn:
            pid = conn.request({"type": "ping"}).get("pid")
        print(f"yomiage: a daemon is already running (pid {pid}) at {path}", file=sys.stderr)
        return 0
    try:
        with connect(autostart=True, path=path, daemon_args=forward) as conn:
            pid = conn.request({"type": "ping"}).get("pid")
    except DaemonUnavailable as exc:
        print(f"yomiage: {exc}", file=sys.stderr)
        return 1
    print(f"yomiage: daemon {pid} listening on {path}; log: {paths.log_path()}",
          file=sys.stderr)
    return 0


def _stop() -> int:
    from yomiage.daemon import paths
    from yomiage.daemon.client import DaemonUnavailable, daemon_alive, send

    path = paths.socket_path()
    try:
        send({"type": "shutdown"}, autostart=False, path=path)
    except DaemonUnavailable:
        print("yomiage: no daemon is running", file=sys.stderr)
        return 0
    deadline = time.monotonic() + 10.0
    while daemon_alive(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    if daemon_alive(path):
        print("yomiage: the daemon did not stop within 10 s", file=sys.stderr)
        return 1
    print("yomiage: daemon stopped", file=sys.stderr)
    return 0


def _status(as_json: bool) -> int:
    from yomiage.daemon.client import DaemonUnavailable, send

    try:
        st = send({"type": "status"}, autostart=False)
    except DaemonUnavailable as exc:
        print(f"yomiage: {exc}", file=sys.stderr)
        return 3
    if as_json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return 0
    print(format_status(st))
    return 0


def format_status(st: dict[str, object]) -> str:
    """The `yomiage daemon status` text for a ``status`` reply."""
    lines = [f"daemon {st.get('pid')} (yomiage {st.get('version')}), up {st.get('uptime_s')} s,"
             f" RSS {st.get('rss_mb')} MiB, policy {st.get('policy')}"
             + (", paused" if st.get("paused") else "")]
    eng = st.get("engines")
    if isinstance(eng, dict):
        dev = f" on {eng['device']}" if eng.get("device") else ""
        prepared = " (prepared)" if st.get("voice_prepared") else ""
        lines.append(f"engines: translation {eng.get('engine')} {eng.get('model') or ''}"
                     f"{dev}; voice {eng.get('voice')}{prepared}; loaded in {st.get('load_s')} s")
    elif st.get("load_error"):
        lines.append(f"engines: not loaded: {st.get('load_error')}")
    else:
        lines.append("engines: loading")
    lines.append(f"output: {st.get('out')}")
    fa = st.get("first_audio_ms")
    if isinstance(fa, dict) and fa.get("n"):
        lines.append(f"first audio of a reply: P50 {fa.get('p50')} ms, P95 {fa.get('p95')} ms "
                     f"(n={fa.get('n')})")
    sessions = st.get("sessions")
    if isinstance(sessions, list) and sessions:
        lines.append("sessions:")
        for s in sessions:
            lines.append(f"  {s.get('session')}  {s.get('project') or '-'}  voice "
                         f"{s.get('voice') or '-'}  queued {s.get('queued')}  spoken "
                         f"{s.get('spoken_s')} s ({s.get('sentences')} sentences)  seen "
                         f"{s.get('last_seen_s')} s ago")
    else:
        lines.append("sessions: none yet")
    if st.get("speaking"):
        lines.append(f"speaking: {st.get('speaking')}")
    return "\n".join(lines)
