"""Trials of `yomiage run` under signals: is any process of the agent left behind?

Each trial starts ``yomiage run`` on a small Python agent that starts a grandchild
(optionally one that ignores SIGINT, SIGTERM and SIGHUP), writes both pids to a file and
then streams a session slowly; once both pids are known the trial sends a signal to
yomiage and counts the agent's processes still running a few seconds later.
Used by the tests of `run` and by ``yomiage bench --stage soak``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

AGENT = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    session, pid_file, stubborn = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    code = ("import signal, time\\n"
            + ("for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\\n"
               "    signal.signal(s, signal.SIG_IGN)\\n" if stubborn else "")
            + "time.sleep(300)\\n")
    child = subprocess.Popen([sys.executable, "-c", code])
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(f"{os.getpid()} {child.pid}")
    os.replace(pid_file + ".tmp", pid_file)
    lines = open(session, "rb").read().splitlines(keepends=True)
    while True:
        for line in lines:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()
            time.sleep(0.05)
""")


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@dataclass
class SignalTrial:
    """One trial's outcome."""

    signal: str
    exit_code: int | None
    """yomiage's exit code (None: it did not end within the time allowed)."""
    exit_s: float
    """Seconds from the signal to yomiage's exit."""
    left: int
    """Agent processes (of 2) still running after the settle time."""
    wrapper: bool
    stubborn: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def signal_trial(yomiage: list[str], signum: int, workdir: Path, session: Path, *,
                 wrapper: bool = False, stubborn: bool = False, settle_s: float = 4.0,
                 extra_args: list[str] | None = None) -> SignalTrial:
    """Run ``yomiage run … -- <agent>`` (``yomiage`` = the command starting yomiage),
    send ``signum`` once the agent has started its grandchild, and count survivors.

    ``wrapper``: the agent is started through ``sh -c``; ``stubborn``: its grandchild
    ignores SIGINT/SIGTERM/SIGHUP. Survivors are killed after counting.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    agent = workdir / "agent.py"
    agent.write_text(AGENT, encoding="utf-8")
    pid_file = workdir / f"pids-{time.monotonic_ns()}"
    agent_argv = [sys.executable, str(agent), str(session), str(pid_file),
                  "1" if stubborn else "0"]
    if wrapper:
        agent_argv = ["sh", "-c", '"$@"; exit $?', "sh", *agent_argv]
    cmd = [*yomiage, "-q", "run", "--no-render", "--out", "null", *(extra_args or []),
           "--", *agent_argv]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the agent did not start (yomiage exit {proc.poll()})")
            time.sleep(0.02)
        pids = [int(p) for p in pid_file.read_text(encoding="ascii").split()]
        time.sleep(0.3)  # narration under way
        sent = time.monotonic()
        proc.send_signal(signum)
        try:
            code: int | None = proc.wait(timeout=settle_s + 10)
        except subprocess.TimeoutExpired:
            code = None
        exit_s = time.monotonic() - sent
        end = sent + settle_s
        while any(pid_alive(p) for p in pids) and time.monotonic() < end:
            time.sleep(0.05)
        left = sum(pid_alive(p) for p in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for p in pids:
            if pid_alive(p):
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
    return SignalTrial(signal.Signals(signum).name, code, round(exit_s, 3), left,
                       wrapper, stubborn)
