"""`yomiage hook` as an agent runs it: a real process, its payload on stdin (Codex: as an
argument), handed to a listening socket; exit 0 and nothing on stdout, whatever happens.

The socket here is a minimal stand-in that records what it receives and acknowledges it
as docs/daemon.md says the daemon does; the real daemon is in tests/test_hooks_e2e.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hook_payloads as hp

SRC = str(Path(__file__).resolve().parents[1] / "src")


class Listener:
    """Accepts connections on a Unix socket; answers each request line with ok."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received: list[dict[str, Any]] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while b"\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                if b"\n" in buf:
                    self.received.append(json.loads(buf.split(b"\n")[0]))
                    conn.sendall(b'{"v":1,"ok":true,"accepted":true}\n')

    def close(self) -> None:
        self.sock.close()


def _env(tmp_path: Path, sock: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=SRC, YOMIAGE_SOCKET=str(sock), YOMIAGE_DAEMON_AUTOSTART="0",
               YOMIAGE_DAEMON_LOG=str(tmp_path / "daemon.log"))
    return env


def _hook(env: dict[str, str], stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    code = "import sys; from yomiage.entry import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, "hook", *args], input=stdin,
                          capture_output=True, env=env, timeout=30)


@pytest.fixture()
def short_tmp() -> Any:  # Unix socket paths must be short
    import tempfile

    with tempfile.TemporaryDirectory(prefix="yh") as d:
        yield Path(d)


def test_payload_reaches_the_socket_and_stdout_stays_empty(short_tmp: Path) -> None:
    sock = short_tmp / "d.sock"
    lst = Listener(sock)
    try:
        env = _env(short_tmp, sock)
        payload = hp.stop("Done. Tests pass.")
        r = _hook(env, json.dumps(payload).encode())
        assert r.returncode == 0 and r.stdout == b""
        codex = hp.codex_turn("Renamed.")
        r = _hook(env, b"", "--agent", "codex", json.dumps(codex))
        assert r.returncode == 0 and r.stdout == b""
        deadline = time.monotonic() + 5
        while len(lst.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lst.received == [
            {"type": "hook", "agent": "claude", "payload": payload},
            {"type": "hook", "agent": "codex", "payload": codex},
        ]
    finally:
        lst.close()


@pytest.mark.parametrize("stdin, args, logged", [
    (b"{not json", (), "not JSON"),
    (b"[1]", (), "not a JSON object"),
    (b"", (), "no payload"),
    (b"{}", ("--agent", "cursor"), "unknown agent"),
    (json.dumps(hp.stop("x")).encode(), (), "no yomiage daemon answers"),
])
def test_problems_go_to_the_log_never_to_the_agent(short_tmp: Path, stdin: bytes,
                                                   args: tuple[str, ...], logged: str) -> None:
    env = _env(short_tmp, short_tmp / "none.sock")  # nobody listens; autostart off
    r = _hook(env, stdin, *args)
    assert r.returncode == 0 and r.stdout == b"" and r.stderr == b""
    assert logged in (short_tmp / "daemon.log").read_text()


def test_global_flags_before_hook_still_reach_the_light_client(short_tmp: Path) -> None:
    env = _env(short_tmp, short_tmp / "none.sock")
    code = "import sys; from yomiage.cli import main; sys.exit(main())"
    r = subprocess.run([sys.executable, "-c", code, "-q", "hook", "--agent", "codex", "{}"],
                       capture_output=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout == b""
    assert "no yomiage daemon answers" in (short_tmp / "daemon.log").read_text()
