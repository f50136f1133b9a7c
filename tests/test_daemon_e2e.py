"""The real daemon process with real engines (espeak-ng, no translation) on the timing
sink or a WAV file, driven by real client processes: auto-start races, kill -9, stale
sockets, order across sessions, an interrupt, and a client on a relayed socket."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon_helpers import (
    client,
    client_proc,
    daemon_env,
    records,
    short_dir,
    stop_daemon,
    wait_for,
)

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/espeak-ng"),
                                reason="needs espeak-ng")


@pytest.fixture
def env() -> Iterator[dict[str, str]]:
    with short_dir() as d:
        e = daemon_env(d)
        try:
            yield e
        finally:
            stop_daemon(e)
            pid = _lock_pid(e)
            if pid and _alive(pid):  # a daemon this test started and could not stop
                os.kill(pid, signal.SIGKILL)


def _dir(env: dict[str, str]) -> Path:
    return Path(env["YOMIAGE_SOCKET"]).parent


def _record(env: dict[str, str]) -> list[dict[str, Any]]:
    return records(Path(env["YOMIAGE_DAEMON_RECORD"]))


def _texts(env: dict[str, str], event: str, session: str | None = None) -> list[str]:
    return [r["text"] for r in _record(env)
            if r["event"] == event and (session is None or r["session"] == session)]


def _lock_pid(env: dict[str, str]) -> int | None:
    try:
        return int((_dir(env) / "d.sock.lock").read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def test_two_clients_starting_at_once_end_with_one_daemon(env: dict[str, str]) -> None:
    procs = [client_proc(env, {"type": "ping"}) for _ in range(4)]
    pids = set()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        pids.add(json.loads(out.splitlines()[0])["pid"])
    assert len(pids) == 1
    assert _lock_pid(env) in pids
    log = (_dir(env) / "daemon.log").read_text()
    assert log.count("listening on") == 1, log


def test_kill_9_mid_sentence_then_the_next_message_is_spoken(env: dict[str, str]) -> None:
    long = "This sentence is long, so that the daemon is still speaking it when it dies."
    assert client(env, {"type": "say", "text": long, "session": "k"})[0]["ok"]
    wait_for(lambda: _texts(env, "start"), what="the first sentence")
    first = _lock_pid(env)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not _alive(first), what="the daemon's death")
    assert (_dir(env) / "d.sock").exists()  # left behind: stale
    reply = client(env, {"type": "say", "text": "Back after the crash.", "session": "k"},
                   {"type": "ping"})
    assert reply[0]["ok"] and reply[1]["pid"] != first
    wait_for(lambda: "Back after the crash." in _texts(env, "end"), what="the new speech")
    assert long not in _texts(env, "end")


def test_a_stale_socket_file_is_replaced(env: dict[str, str]) -> None:
    path = Path(env["YOMIAGE_SOCKET"])
    path.parent.mkdir(mode=0o700, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the file stays; nothing listens
    reply = client(env, {"type": "ping"})[0]
    assert reply["ok"] and reply["pid"] == _lock_pid(env)


def _assistant(text: str, mid: str) -> str:
    return json.dumps({"type": "assistant", "message": {
        "id": mid, "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": text}]}})


def _user(prompt: str) -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": [
        {"type": "text", "text": prompt}]}})


@pytest.mark.slow
def test_sessions_order_and_an_interrupt(env: dict[str, str], tmp_path: Path) -> None:
    start = subprocess.run([sys.executable, "-m", "yomiage.cli", "daemon", "start"], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert start.returncode == 0 and "listening on" in start.stderr, start.stderr
    alpha = ["Alpha one is a rather long sentence to be cut.", "Alpha two.", "Alpha three."]
    # a real `yomiage FILE --daemon` client for a third session, in the background
    stream = tmp_path / "gamma.ndjson"
    stream.write_text(_assistant("Gamma speaks once. Gamma speaks twice.", "g1") + "\n")
    narrate = subprocess.Popen([sys.executable, "-m", "yomiage.cli", str(stream), "--daemon"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert client(env, {"type": "lines", "session": "alpha", "cwd": "/src/alpha",
                        "lines": [_assistant(" ".join(alpha), "a1")], "end": True})[0]["ok"]
    assert client(env, {"type": "reply", "session": "beta", "cwd": "/src/beta",
                        "text": "Beta first. Beta second.", "complete": True})[0]["ok"]
    wait_for(lambda: alpha[0] in _texts(env, "start") or None, what="alpha's first sentence")
    # the user types a new prompt in alpha while its first sentence plays
    assert client(env, {"type": "lines", "session": "alpha", "end": True,
                        "lines": [_user("No, stop."), _assistant("Alpha after.", "a2")]})[0]["ok"]
    assert client(env, {"type": "say", "text": "Attention please.", "priority": "alert"})[0]["ok"]
    _, err = narrate.communicate(timeout=90)  # returns once its session was spoken
    assert narrate.returncode == 0, err
    assert client(env, {"type": "wait", "timeout": 60}, timeout=90)[0]["idle"]
    ended = _texts(env, "end")
    assert alpha[0] in _texts(env, "cut", "alpha")
    assert alpha[1] not in ended and alpha[2] not in ended
    assert "Alpha after." in ended and "Attention please." in ended
    beta = _texts(env, "end", "beta")
    assert beta == ["Beta first.", "Beta second."]
    gamma = [r["text"] for r in _record(env) if r["event"] == "end"
             and r["session"].startswith("cli-")]
    assert gamma == ["Gamma speaks once.", "Gamma speaks twice."]
    # each sentence heard at most once; the alert jumped ahead of the replies still queued
    assert len(ended) == len(set(ended))
    assert ended.index("Attention please.") < max(ended.index("Beta second."),
                                                   ended.index(gamma[-1]))
    status = subprocess.run([sys.executable, "-m", "yomiage.cli", "daemon", "status"],
                            env=env, capture_output=True, text=True, timeout=30, check=False)
    assert status.returncode == 0 and "alpha" in status.stdout and "beta" in status.stdout


class Relay:
    """A socat-like relay: a listening Unix socket whose connections are piped to
    another socket path (what `ssh -R` does with a forwarded socket)."""

    def __init__(self, listen: Path, target: Path) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(listen))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                a, _ = self.sock.accept()
            except TimeoutError:
                continue
            b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            b.connect(str(self.target))
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            return
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


def test_a_client_on_a_relayed_socket_is_heard(env: dict[str, str]) -> None:
    assert client(env, {"type": "ping"})[0]["ok"]  # the "laptop" daemon
    remote = _dir(env) / "remote.sock"
    relay = Relay(remote, Path(env["YOMIAGE_SOCKET"]))
    try:
        far = {**env, "YOMIAGE_SOCKET": str(remote), "YOMIAGE_DAEMON_AUTOSTART": "0"}
        reply = client(far, {"type": "say", "text": "Hello from the server.",
                             "session": "remote"})[0]
        assert reply["ok"]
        wait_for(lambda: "Hello from the server." in _texts(env, "end"), what="relayed speech")
        assert not (_dir(env) / "remote.sock.lock").exists()  # no daemon on the far side
    finally:
        relay.close()


def test_no_autostart_on_a_dead_relay(env: dict[str, str]) -> None:
    far = {**env, "YOMIAGE_SOCKET": str(_dir(env) / "gone.sock"),
           "YOMIAGE_DAEMON_AUTOSTART": "0"}
    code = ("from yomiage.daemon.client import send, DaemonUnavailable\n"
            "try: send({'type': 'ping'})\n"
            "except DaemonUnavailable as e: print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=far, capture_output=True,
                         text=True, timeout=30, check=False)
    assert "no yomiage daemon answers" in out.stdout
    assert not (_dir(env) / "gone.sock.lock").exists()


def test_a_wav_daemon_writes_what_it_said(env: dict[str, str]) -> None:
    import soundfile as sf

    wav = _dir(env) / "out.wav"
    wenv = {**env, "YOMIAGE_OUT": str(wav)}
    assert client(wenv, {"type": "say", "text": "Written to a file. Twice over."},
                  {"type": "wait", "timeout": 30})[1]["idle"]
    stop_daemon(wenv)
    info = sf.info(str(wav))
    assert info.duration > 1.0
    assert _texts(env, "end") == ["Written to a file.", "Twice over."]
