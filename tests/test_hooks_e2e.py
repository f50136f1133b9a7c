"""End to end: a scripted interactive Claude Code session through real `yomiage hook`
processes into a real daemon (started by the first hook) with a real voice (espeak-ng),
no translation, the timing sink (real-time pace, no sound device) and the daemon's record
of what it spoke, cut and dropped.

SessionStart → UserPromptSubmit → MessageDisplay lines → PreToolUse → Stop → Notification
→ a second UserPromptSubmit while the first reply is still spoken → Stop of the second.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hook_payloads as hp

SRC = str(Path(__file__).resolve().parents[1] / "src")
HOOK = "import sys; sys.argv[0] = 'yomiage'; from yomiage.entry import main; sys.exit(main())"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")]

REPLY1 = [
    "First I read the failing test and the parser it covers.",
    "The loop stopped one token early, so the last field was lost.",
    "I changed the bound and added a test for a trailing field.",
    "Then I ran the whole suite again and every test passed.",
    "Finally I updated the changelog with a short note about the fix.",
]
REPLY2 = "All done, nothing else to change."


@pytest.fixture()
def env() -> Iterator[dict[str, str]]:
    d = Path(tempfile.mkdtemp(prefix="yhe", dir="/tmp"))  # a short socket path
    e = {k: v for k, v in os.environ.items() if not k.startswith("YOMIAGE_")}
    e.update({
        "PYTHONPATH": SRC, "YOMIAGE_SOCKET": str(d / "d.sock"),
        "YOMIAGE_DAEMON_LOG": str(d / "daemon.log"), "YOMIAGE_CONFIG": str(d / "none.toml"),
        "YOMIAGE_TRANSLATOR": "none", "YOMIAGE_VOICE": "espeak", "YOMIAGE_OUT": "timing",
        "YOMIAGE_DAEMON_RECORD": str(d / "record.jsonl"), "YOMIAGE_SOURCE_LANG": "en",
        "YOMIAGE_TARGET_LANG": "en", "YOMIAGE_TOOLS": "brief", "YOMIAGE_MAX_LAG": "0",
    })
    try:
        yield e
    finally:
        code = ("from yomiage.daemon.client import send, DaemonUnavailable\n"
                "try: send({'type': 'shutdown'}, autostart=False)\n"
                "except DaemonUnavailable: pass\n")
        subprocess.run([sys.executable, "-c", code], env=e, timeout=30, check=False)
        if os.environ.get("YOMIAGE_KEEP_E2E"):
            print("kept", d)
        else:
            shutil.rmtree(d, ignore_errors=True)


class Hooks:
    """Runs `yomiage hook` processes as Claude Code would; keeps what each did."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runs: list[tuple[str, int, bytes, float]] = []

    def __call__(self, payload: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", HOOK, "hook"], env=self.env,
                           input=json.dumps(payload).encode(), capture_output=True, timeout=60)
        self.runs.append((payload["hook_event_name"], r.returncode, r.stdout,
                          time.perf_counter() - t0))


def _records(env: dict[str, str]) -> list[dict[str, Any]]:
    p = Path(env["YOMIAGE_DAEMON_RECORD"])
    if not p.exists():
        return []
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()]


def _wait(cond: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_scripted_interactive_session(env: dict[str, str]) -> None:
    hook = Hooks(env)
    hook(hp.session_start())  # no daemon yet: this hook starts one
    hook(hp.prompt("Why does the parser drop the last field?"))
    text = "\n".join(REPLY1)
    # MessageDisplay: the reply in chunks that do not end on line boundaries
    chunks = [text[:40], text[40:130], text[130:200], text[200:]]
    for i, chunk in enumerate(chunks):
        hook(hp.display("msg_01", i, chunk, final=False))
        if i == 1:  # a line is complete: spoken before the turn ends
            _wait(lambda: [r for r in _records(env) if r["event"] == "start"], 60,
                  "the first sentence's audio")
    hook(hp.pre_tool("Read", file_path="/home/user/src/shop-api/parser.py"))
    hook(hp.stop(text))  # the whole reply again: nothing may be spoken twice
    hook(hp.notification("permission_prompt"))
    alert = "Claude needs your permission in shop-api."
    _wait(lambda: [r for r in _records(env) if r["event"] == "end" and r["text"] == alert],
          30, "the alert to be heard")
    hook(hp.prompt("Thanks. Anything else?"))  # while reply 1 is still being spoken
    hook(hp.stop(REPLY2))
    _wait(lambda: [r for r in _records(env) if r["event"] == "end" and r["text"] == REPLY2],
          30, "the second reply to be heard")

    # every hook: exit 0, nothing on stdout, quick (the first one started the daemon)
    for event, rc, out, _wall in hook.runs:
        assert rc == 0 and out == b"", (event, rc, out)
    walls = [w for *_, w in hook.runs]
    print("hook wall times (s):", ", ".join(f"{e} {w:.2f}" for e, _, _, w in hook.runs))
    assert walls[0] < 30 and max(walls[1:]) < 5, walls

    rec = [r for r in _records(env) if r["session"] == hp.SESSION]
    started = [r["text"] for r in rec if r["event"] == "start"]
    assert len(started) == len(set(started)), f"a sentence was spoken twice: {started}"
    first = [t for t in started if t in REPLY1]
    assert first == REPLY1[:len(first)] and first, started  # in order, from the start
    assert len(first) < len(REPLY1), "the second prompt did not cut the first reply"
    ended = {r["text"] for r in rec if r["event"] == "end"}
    cut_or_dropped = {r["text"] for r in rec if r["event"] in ("cut", "drop")}
    assert set(REPLY1) - ended <= cut_or_dropped, (ended, cut_or_dropped)
    assert alert in ended and REPLY2 in ended
    assert {r["priority"] for r in rec if r["text"] == alert} == {"alert"}
    interrupted = {r["text"] for r in rec if r.get("reason") == "interrupted"}
    assert interrupted & set(REPLY1), "the second prompt did not cut the first reply"
    assert started.index(REPLY2) > started.index(first[-1])
    tool = [t for t in started if "parser.py" in t]
    assert len(tool) <= 1  # a tool brief, if it came before the interrupt, once
