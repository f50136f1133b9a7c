"""Shared helpers of the daemon tests: a short socket folder, the spoken record, waits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"


@contextmanager
def short_dir() -> Iterator[Path]:
    """A fresh folder with a short path (Unix socket paths are limited to ~100 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="ymg", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def records(path: Path) -> list[dict[str, Any]]:
    """The daemon's record of what it spoke, cut and dropped."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(cond: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``cond`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or cond}")


def daemon_env(d: Path, **extra: str) -> dict[str, str]:
    """Environment for a real daemon and its clients in folder ``d``: espeak-ng voice,
    no translation, the timing sink (real-time pace, no sound device), a record file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOMIAGE_")}
    env.update({
        "PYTHONPATH": str(SRC), "YOMIAGE_SOCKET": str(d / "d.sock"),
        "YOMIAGE_DAEMON_LOG": str(d / "daemon.log"), "YOMIAGE_CONFIG": str(d / "none.toml"),
        "YOMIAGE_TRANSLATOR": "none", "YOMIAGE_VOICE": "espeak", "YOMIAGE_OUT": "timing",
        "YOMIAGE_DAEMON_RECORD": str(d / "record.jsonl"), "YOMIAGE_SOURCE_LANG": "en",
        "YOMIAGE_TARGET_LANG": "en",
    })
    env.update(extra)
    return env


CLIENT = """
import json, sys
from yomiage.daemon.client import send
for arg in sys.argv[1:]:
    print(json.dumps(send(json.loads(arg))), flush=True)
"""


def client(env: dict[str, str], *messages: dict[str, Any],
           timeout: float = 60.0) -> list[dict[str, Any]]:
    """Send ``messages`` from a separate client process; its replies."""
    out = subprocess.run([sys.executable, "-c", CLIENT, *map(json.dumps, messages)],
                         env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def client_proc(env: dict[str, str], *messages: dict[str, Any]) -> subprocess.Popen[str]:
    """Start a client process sending ``messages`` (read its replies from stdout)."""
    return subprocess.Popen([sys.executable, "-c", CLIENT, *map(json.dumps, messages)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_daemon(env: dict[str, str]) -> None:
    """Ask the daemon of ``env`` to exit (no error when none runs)."""
    code = ("from yomiage.daemon.client import send, DaemonUnavailable\n"
            "try: send({'type': 'shutdown'}, autostart=False)\n"
            "except DaemonUnavailable: pass\n")
    subprocess.run([sys.executable, "-c", code], env=env, timeout=30, check=False)
