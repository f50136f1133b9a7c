"""The daemon's server in this process, with real engines (espeak-ng, no translation) on
the timing sink: protocol errors, hostile clients, the uid check, cuts, hooks."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from daemon_helpers import records, short_dir, wait_for
from yomiage.config import load_config
from yomiage.daemon import server as server_mod
from yomiage.daemon.client import Connection, DaemonUnavailable, connect, send
from yomiage.daemon.core import Core
from yomiage.daemon.protocol import MAX_LINE, encode
from yomiage.daemon.server import Server

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/espeak-ng"),
                                reason="needs espeak-ng")


@dataclass
class Running:
    path: Path
    core: Core
    server: Server
    record: Path

    def spoken(self, event: str = "start") -> list[str]:
        return [r["text"] for r in records(self.record) if r["event"] == event]


@contextmanager
def running(flags: dict[str, Any] | None = None, **core_kw: Any) -> Iterator[Running]:
    """A server and core in this process (real espeak-ng engines, the timing sink)."""
    with short_dir() as d:
        cfg = load_config({"translator": "none", "voice": "espeak", "out": "timing",
                           "source_lang": "en", "target_lang": "en", **(flags or {})},
                          env={}, path=d / "none.toml")
        core = Core(cfg, record=d / "record.jsonl", **{"lead_in": False, **core_kw})
        srv = Server(core, d / "d.sock")
        srv.bind()
        core.start()
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        wait_for(lambda: core.ready, what="engines")
        try:
            yield Running(d / "d.sock", core, srv, d / "record.jsonl")
        finally:
            core.shutdown.set()
            t.join(5)
            srv.close()
            core.close()


@pytest.fixture
def daemon() -> Iterator[Running]:
    with running() as r:
        yield r


def _send(r: Running, msg: dict[str, Any]) -> dict[str, Any]:
    return send(msg, autostart=False, path=r.path)


def _raw(r: Running) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(r.path))
    return s


def test_socket_and_folder_are_private(daemon: Running) -> None:
    assert (daemon.path.stat().st_mode & 0o777) == 0o600
    assert _send(daemon, {"type": "ping", "id": 1}) == {
        "v": 1, "ok": True, "id": 1, "version": "0.1.0", "pid": os.getpid(), "ready": True}


def test_a_second_server_on_the_same_path_is_refused(daemon: Running) -> None:
    other = Server(daemon.core, daemon.path)
    with pytest.raises(server_mod.AlreadyRunning):
        other.bind()
    assert _send(daemon, {"type": "ping"})["ok"]


def test_garbage_gets_an_error_and_the_connection_closes(daemon: Running) -> None:
    s = _raw(daemon)
    s.sendall(b"\x00\xffgarbage{{{\n")
    reply = s.recv(4096)
    assert b'"ok":false' in reply and b"JSON" in reply
    assert s.recv(4096) == b""  # closed
    s.close()
    assert _send(daemon, {"type": "ping"})["ok"]


def test_an_oversized_line_is_refused(daemon: Running) -> None:
    s = _raw(daemon)
    chunk = b"x" * 65536
    try:
        for _ in range(MAX_LINE // len(chunk) + 2):
            s.sendall(chunk)
    except OSError:
        pass  # the daemon may close before all of it is sent
    s.settimeout(5)
    try:
        reply = s.recv(4096)
    except OSError:
        reply = b""
    assert reply == b"" or b"too long" in reply
    s.close()
    assert _send(daemon, {"type": "ping"})["ok"]


def test_a_client_hanging_up_mid_message_changes_nothing(daemon: Running) -> None:
    s = _raw(daemon)
    s.sendall(encode({"type": "say", "text": "Half a message."})[:20])
    s.close()
    assert _send(daemon, {"type": "say", "text": "Whole message.", "session": "b"})["ok"]
    wait_for(lambda: "Whole message." in daemon.spoken(), what="the other client's speech")
    assert "Half a message." not in daemon.spoken()


def test_another_uid_is_refused(daemon: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_mod, "peer_uid", lambda conn: os.getuid() + 1)
    reply = _send(daemon, {"type": "say", "text": "Intruder."})
    assert not reply["ok"] and "refused" in reply["error"]
    monkeypatch.setattr(server_mod, "peer_uid", lambda conn: None)
    assert not _send(daemon, {"type": "ping"})["ok"]
    monkeypatch.undo()
    assert _send(daemon, {"type": "ping"})["ok"]
    time.sleep(0.3)
    assert "Intruder." not in daemon.spoken("drop") + daemon.spoken()


def test_peer_uid_reads_the_real_credentials() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        assert server_mod.peer_uid(a) == os.getuid()
        assert server_mod.peer_allowed(a)


def test_a_flooding_client_does_not_starve_another(daemon: Running) -> None:
    s = _raw(daemon)
    stop = threading.Event()

    def flood() -> None:  # never reads its replies: its own thread blocks, nobody else
        n = 0
        try:
            while not stop.is_set() and n < 5000:
                s.sendall(encode({"type": "reply", "session": "flood", "message_id": str(n),
                                  "text": f"Flood number {n}.", "complete": True}))
                n += 1
        except OSError:
            pass

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    reply = _send(daemon, {"type": "reply", "session": "calm", "text": "Calm words.",
                           "complete": True})
    assert reply["ok"] and time.perf_counter() - t0 < 2.0
    wait_for(lambda: "Calm words." in daemon.spoken(), timeout=15, what="the calm session")
    stop.set()
    s.close()
    t.join(5)
    st = _send(daemon, {"type": "status"})
    assert st["ok"] and any(x["session"] == "calm" for x in st["sessions"])


def test_interrupt_cuts_one_session_and_keeps_the_others_place(daemon: Running) -> None:
    long = " ".join(f"Sentence number {n} of the first session is here." for n in range(6))
    _send(daemon, {"type": "reply", "session": "a", "text": long, "complete": True})
    wait_for(lambda: daemon.spoken(), what="a's first sentence")
    _send(daemon, {"type": "reply", "session": "b", "text": "Bee one. Bee two.",
                   "complete": True})
    reply = _send(daemon, {"type": "interrupt", "session": "a"})
    after = time.perf_counter()  # the daemon's record uses the same monotonic clock
    assert reply["ok"] and reply["dropped"] >= 1
    with Connection(_raw(daemon)) as conn:
        assert conn.request({"type": "wait", "timeout": 20}, timeout=25)["idle"]
    recs = records(daemon.record)
    a = [r for r in recs if r["session"] == "a"]
    # Each of a's sentences ended one way — heard before the interrupt, dropped (by lag
    # control on a slow machine, or by the interrupt) or cut — and none began after it.
    sentences = {f"Sentence number {n} of the first session is here." for n in range(6)}
    final = {r["text"]: r for r in a if r["event"] in ("end", "drop", "cut")}
    assert sentences <= final.keys()
    assert all(r["perf"] <= after for r in a if r["event"] == "end")
    assert not [r for r in a if r["event"] == "start" and r["perf"] > after]
    by_interrupt = [r for r in a if r.get("reason") == "interrupted"]
    assert len(by_interrupt) == reply["dropped"]
    assert any(r["event"] == "cut" for r in by_interrupt)  # the sentence playing was cut
    assert [r["text"] for r in recs if r["session"] == "b" and r["event"] == "end"] == [
        "Bee one.", "Bee two."]
    assert not [r for r in recs if r["session"] == "b" and r["event"] in ("cut", "drop")]


def test_skip_pause_resume_and_stop(daemon: Running) -> None:
    _send(daemon, {"type": "reply", "session": "a", "complete": True,
                   "text": "First one is long enough to skip. Second one. Third one."})
    wait_for(lambda: daemon.spoken(), what="first sentence")
    assert _send(daemon, {"type": "skip"})["skipped"]
    assert _send(daemon, {"type": "pause"})["ok"]
    time.sleep(0.5)
    assert _send(daemon, {"type": "status"})["paused"]
    n = len(daemon.spoken("end"))
    time.sleep(0.5)
    assert len(daemon.spoken("end")) == n  # nothing plays while paused
    assert _send(daemon, {"type": "resume"})["ok"]
    wait_for(lambda: "Third one." in daemon.spoken("end"), what="resumed speech")
    recs = records(daemon.record)
    assert next(r["text"] for r in recs if r["event"] == "cut").startswith("First one")
    _send(daemon, {"type": "reply", "session": "a", "message_id": "m2", "complete": True,
                   "text": "More words here. And more."})
    assert _send(daemon, {"type": "stop"})["ok"]
    with Connection(_raw(daemon)) as conn:
        assert conn.request({"type": "wait", "timeout": 5}, timeout=10)["idle"]


def test_hooks_without_a_handler_are_refused(daemon: Running) -> None:
    daemon.server._hooks_loaded, daemon.server._hook_handler = True, None
    reply = _send(daemon, {"type": "hook", "agent": "claude", "payload": {"x": 1}})
    assert not reply["ok"] and "hooks" in reply["error"]


def test_hook_handler_messages_are_applied(daemon: Running) -> None:
    calls: list[tuple[dict[str, Any], str]] = []

    def handle(payload: dict[str, Any], agent: str) -> list[dict[str, Any]]:
        calls.append((payload, agent))
        if payload.get("boom"):
            raise RuntimeError("boom")
        return [{"type": "reply", "session": payload["session_id"],
                 "text": payload["last_assistant_message"], "complete": True},
                {"type": "shutdown"}] if payload.get("bad") else [
                {"type": "reply", "session": payload["session_id"],
                 "text": payload["last_assistant_message"], "complete": True}]

    daemon.server._hooks_loaded, daemon.server._hook_handler = True, handle
    assert _send(daemon, {"type": "hook", "agent": "claude", "payload": {"boom": 1}})["ok"]
    assert _send(daemon, {"type": "hook", "agent": "claude", "payload": {
        "session_id": "h", "last_assistant_message": "Refused.", "bad": 1}})["ok"]
    reply = _send(daemon, {"type": "hook", "agent": "claude", "payload": {
        "session_id": "h", "last_assistant_message": "From the **hook**."}})
    assert reply == {"v": 1, "ok": True, "accepted": True}
    wait_for(lambda: "From the hook." in daemon.spoken(), what="the hook's reply")
    assert [a for _, a in calls] == ["claude"] * 3
    assert "Refused." not in daemon.spoken() and not daemon.core.shutdown.is_set()


def test_no_daemon_means_a_clear_error_without_autostart(tmp_path: Path) -> None:
    with pytest.raises(DaemonUnavailable, match="no yomiage daemon"):
        connect(autostart=False, path=tmp_path / "none.sock")


def test_idle_timeout_unloads_and_the_next_message_reloads() -> None:
    with running(idle_timeout=0.6) as r:
        wait_for(lambda: not r.core.ready, timeout=10, what="the unload")
        assert not _send(r, {"type": "status"})["ready"]
        assert _send(r, {"type": "say", "text": "Loaded again."})["ok"]
        wait_for(lambda: "Loaded again." in r.spoken("end"), what="speech after reload")


def test_lag_control_per_session_drops_the_oldest_and_says_so() -> None:
    with running({"max_lag": 4.0}) as r:
        text = " ".join(f"This is sentence number {n} of a long reply." for n in range(12))
        reply = _send(r, {"type": "reply", "session": "a", "text": text, "complete": True})
        assert reply["ok"]
        assert _send(r, {"type": "reply", "session": "b", "text": "Bee speaks.",
                         "complete": True})["ok"]
        drops = [x for x in records(r.record) if x["event"] == "drop"]
        assert drops and all(x["session"] == "a" and x["reason"] == "lag" for x in drops)
        wait_for(lambda: any(t.startswith("Skipped") for t in r.spoken()), timeout=30,
                 what="the skip notice")
        _send(r, {"type": "stop"})


def test_lead_in_names_the_project_when_the_speaker_changes() -> None:
    with running(lead_in=True) as r:
        _send(r, {"type": "reply", "session": "a", "cwd": "/src/alpha", "text": "From alpha.",
                  "complete": True})
        _send(r, {"type": "reply", "session": "b", "cwd": "/src/beta", "text": "From beta.",
                  "complete": True})
        wait_for(lambda: "From beta." in r.spoken("end"), what="beta")
        ends = {x["text"]: x for x in records(r.record) if x["event"] == "end"}
        assert ends["From beta."]["lead_in"] == "beta:"
        assert ends["From beta."]["spoken"] == "From beta."  # the lead-in is apart
        assert ends["From alpha."]["lead_in"] == ""  # the first speaker: no lead-in
        st = _send(r, {"type": "status"})
        assert {x["project"] for x in st["sessions"]} == {"alpha", "beta"}


def test_silent_sessions_are_forgotten(daemon: Running) -> None:
    from yomiage.daemon.core import SESSION_TTL_S

    _send(daemon, {"type": "say", "text": "Hello.", "session": "old"})
    with Connection(_raw(daemon)) as conn:
        assert conn.request({"type": "wait", "timeout": 20}, timeout=25)["idle"]
    core = daemon.core
    with core.cond:
        assert "old" in core.sessions
        assert core._prune(time.monotonic() + SESSION_TTL_S + 11) == ["old"]
        assert "old" not in core.sessions


def test_the_voice_is_told_what_is_still_to_be_heard(monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage.tts.espeak import EspeakVoice

    aheads: list[float] = []
    original = EspeakVoice.stream

    def stream(self: EspeakVoice, text: str, ahead_s: float = 0.0) -> Any:
        aheads.append(ahead_s)
        return original(self, text, ahead_s)

    monkeypatch.setattr(EspeakVoice, "stream", stream)
    with running() as r:
        text = "The first sentence is here. The second one follows it. A third ends the reply."
        assert _send(r, {"type": "reply", "session": "a", "text": text, "complete": True})["ok"]
        wait_for(lambda: len(aheads) >= 3, timeout=30, what="three sentences")
        _send(r, {"type": "stop"})
    assert aheads[0] == 0.0  # nothing was playing before the first
    assert max(aheads[1:]) > 0.3, aheads  # the sentence before it still played


def test_an_idle_daemon_prepares_its_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage.tts.espeak import EspeakVoice

    steps: list[float] = []

    def prepare_next(self: EspeakVoice) -> bool:
        steps.append(time.monotonic())
        return len(steps) < 3

    monkeypatch.setattr(EspeakVoice, "prepare_next", prepare_next, raising=False)
    with running() as r:
        assert not _send(r, {"type": "status"})["voice_prepared"]
        wait_for(lambda: _send(r, {"type": "status"})["voice_prepared"], timeout=10,
                 what="the voice's preparation")
        assert len(steps) == 3  # until the voice said nothing was left
        _send(r, {"type": "reply", "session": "a", "text": "Still speaks.", "complete": True})
        wait_for(lambda: "Still speaks." in r.spoken(), timeout=10, what="the reply")
