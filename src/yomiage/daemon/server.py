"""The daemon's socket server: one lock per path, a user-only socket, one thread per client.

``serve(cfg, path)`` takes ``<socket>.lock`` (or returns at once: another daemon serves
the path), replaces a stale socket, binds a fresh one 0600 in a 0700 folder, starts the
:class:`~.core.Core` (engines load in the background) and answers clients until a
``shutdown`` request or SIGTERM. Each connection: the peer's uid is checked first; then
requests are read one line at a time (``protocol.decode``), answered with one line each;
a bad line gets an error reply and the connection is closed. Nothing one client does —
garbage, a half-sent line, a flood, hanging up — reaches another client or the voice,
beyond the documented commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

from yomiage import __version__
from yomiage.config import Config
from yomiage.daemon import paths
from yomiage.daemon.core import Core
from yomiage.daemon.protocol import (
    MAX_LINE,
    ProtocolError,
    check_handler_result,
    decode,
    encode,
    reply_error,
    reply_ok,
)

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64
"""Connections served at once; the next one is closed at once."""
IDLE_CONNECTION_S = 60.0
"""A connection that sends nothing for this long is closed."""


class AlreadyRunning(RuntimeError):
    """Another daemon holds the lock of this socket path."""


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (None: unknown)."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    try:  # macOS and the BSDs
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        uid_t, gid_t = ctypes.c_uint32(), ctypes.c_uint32()
        if libc.getpeereid(conn.fileno(), ctypes.byref(uid_t), ctypes.byref(gid_t)) != 0:
            return None
        return int(uid_t.value)
    except (OSError, AttributeError):
        return None


def peer_allowed(conn: socket.socket) -> bool:
    """True when the peer runs as this daemon's user (an unknown uid is refused)."""
    return peer_uid(conn) == os.getuid()


class Server:
    """The listening socket, its lock and the client threads around a :class:`Core`."""

    def __init__(self, core: Core, path: str | os.PathLike[str]) -> None:
        self.core = core
        self.path = Path(path)
        self._listener: socket.socket | None = None
        self._lock_fd: int | None = None
        self._conns = 0
        self._conns_lock = threading.Lock()
        self._hooks: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(maxsize=1024)
        self._hook_handler: Any = None
        self._hooks_loaded = False
        self._inode: int | None = None

    # ------------------------------------------------------------------ binding
    def bind(self) -> None:
        """Take the path's lock and bind a fresh socket (a stale one is replaced).

        Raises AlreadyRunning when another daemon holds the lock."""
        paths.ensure_private_dir(self.path.parent)
        fd = os.open(paths.lock_path(self.path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise AlreadyRunning(f"a yomiage daemon already serves {self.path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # stale: its daemon no longer holds the lock
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self._inode = os.stat(self.path).st_ino
        sock.listen(128)
        sock.settimeout(0.5)
        self._listener = sock

    def close(self) -> None:
        """Close the socket (removing the file if it is still ours) and the lock."""
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self._inode:
                    self.path.unlink()
            self._listener = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ------------------------------------------------------------------ serving
    def serve_forever(self) -> None:
        """Accept clients until the core's shutdown event is set."""
        assert self._listener is not None
        threading.Thread(target=self._hook_loop, name="yomiage-hooks", daemon=True).start()
        while not self.core.shutdown.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self.core.shutdown.is_set():
                    break
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
                continue
            with self._conns_lock:
                if self._conns >= MAX_CONNECTIONS:
                    conn.close()
                    continue
                self._conns += 1
            threading.Thread(target=self._client, args=(conn,), name="yomiage-client",
                             daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        try:
            with conn:
                if not peer_allowed(conn):
                    log.warning("refused a connection from another user (uid %s)",
                                _safe_uid(conn))
                    with contextlib.suppress(OSError):
                        conn.sendall(encode(reply_error("refused: another user's daemon")))
                    return
                conn.settimeout(IDLE_CONNECTION_S)
                self._requests(conn)
        except OSError as exc:
            log.debug("client gone: %s", exc)
        finally:
            with self._conns_lock:
                self._conns -= 1

    def _requests(self, conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        while True:
            try:
                line = rfile.readline(MAX_LINE + 1)
            except TimeoutError:
                return
            if not line:
                return
            if not line.endswith(b"\n"):
                if len(line) > MAX_LINE:
                    conn.sendall(encode(reply_error(
                        f"message too long (the limit is {MAX_LINE} bytes)")))
                return  # hung up mid-message: the half line is not a message
            if not line.strip():
                continue
            try:
                msg = decode(line)
            except ProtocolError as exc:
                conn.sendall(encode(reply_error(str(exc))))
                return
            try:
                reply = self.handle(msg)
            except Exception as exc:  # a bug answering one request: one line, go on
                log.exception("internal error on a %s request", msg.get("type"))
                reply = reply_error(f"internal error: {exc}", msg)
            conn.sendall(encode(reply))
            if msg["type"] == "shutdown":
                self.core.shutdown.set()
                return

    # ----------------------------------------------------------------- dispatch
    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The reply to one checked request (applying it)."""
        core, kind = self.core, msg["type"]
        if kind == "ping":
            core.ensure_loaded()
            return reply_ok(msg, version=__version__, pid=os.getpid(), ready=core.ready)
        if kind == "status":
            return reply_ok(msg, version=__version__, **core.status())
        if kind == "hook":
            return self._hook(msg)
        if kind == "wait":
            return reply_ok(msg, idle=self._wait(msg.get("session"),
                                                 float(msg.get("timeout", 30.0))))
        if kind == "shutdown":
            return reply_ok(msg)
        if core.load_error is not None and kind in ("lines", "reply", "say"):
            core.ensure_loaded()
        fields = self.apply(msg)
        return reply_ok(msg, **fields)

    def apply(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Apply a speech or control message (a client's or a hook handler's)."""
        core, kind = self.core, msg["type"]
        if kind == "ping":
            core.ensure_loaded()
            return {}
        if kind == "interrupt":
            return {"dropped": core.interrupt(msg["session"])}
        if kind == "stop":
            return {"dropped": core.stop(msg.get("session"))}
        if kind == "skip":
            return {"skipped": core.skip()}
        if kind == "pause":
            core.pause()
            return {}
        if kind == "resume":
            core.resume()
            return {}
        if kind == "forget":
            core.forget(msg["session"])
            return {}
        if kind == "lines":
            return {"queued": self._lines(msg)}
        if kind == "reply":
            with core.cond:
                s = core.session(msg["session"], msg)
                sentences = s.feed_reply(msg["text"], msg.get("message_id") or "turn",
                                         bool(msg.get("complete")))
                return {"queued": core.queue_sentences(s, sentences,
                                                       priority=msg.get("priority"))}
        if kind == "say":
            with core.cond:
                s = core.session(msg.get("session") or "say", msg)
                translate = bool(msg.get("translate"))
                lang = msg.get("lang") or (core.cfg.source_lang if translate
                                           else core.cfg.target_lang)
                from yomiage.records import SentenceKind

                sentences = [s.sentence(t, SentenceKind.NOTICE)
                             for t in s.plain_sentences(msg["text"])]
                return {"queued": core.queue_sentences(
                    s, sentences, priority=msg.get("priority") or "alert", lang=lang,
                    translate=translate)}
        raise ProtocolError(f"{kind} cannot be applied here")

    def _lines(self, msg: dict[str, Any]) -> int:
        core = self.core
        with core.cond:
            s = core.session(msg["session"], msg)
            sentences, new_turn = s.feed_lines(msg["lines"], bool(msg.get("end")))
        if new_turn and core.cfg.interrupt:
            core.interrupt(s.id)
        with core.cond:
            return core.queue_sentences(s, sentences)

    def _wait(self, session: str | None, timeout: float) -> bool:
        core = self.core
        deadline = time.monotonic() + timeout
        with core.cond:
            while not core.idle(session):
                left = deadline - time.monotonic()
                if left <= 0 or core.shutdown.is_set():
                    return False
                core.cond.wait(min(left, 0.2))
            return True

    # -------------------------------------------------------------------- hooks
    def _handler(self) -> Any:
        if not self._hooks_loaded:
            self._hooks_loaded = True
            try:
                import importlib

                self._hook_handler = importlib.import_module("yomiage.hooks").handle
            except (ImportError, AttributeError):
                self._hook_handler = None
        return self._hook_handler

    def _hook(self, msg: dict[str, Any]) -> dict[str, Any]:
        if self._handler() is None:
            return reply_error("hooks are not available in this yomiage", msg)
        try:
            self._hooks.put_nowait((msg["agent"], msg["payload"]))
        except queue.Full:
            return reply_error("too many hooks waiting", msg)
        return reply_ok(msg, accepted=True)

    def _hook_loop(self) -> None:
        while not self.core.shutdown.is_set():
            try:
                agent, payload = self._hooks.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                messages = check_handler_result(self._handler()(payload, agent))
            except Exception as exc:  # the handler's problem: one line, daemon goes on
                log.warning("hook handler failed on a %s payload: %s", agent, exc)
                continue
            for m in messages:
                try:
                    self.apply(m)
                except Exception as exc:
                    log.warning("hook message %s failed: %s", m.get("type"), exc)


def _safe_uid(conn: socket.socket) -> str:
    try:
        return str(peer_uid(conn))
    except OSError:
        return "?"


def serve(cfg: Config, path: str | os.PathLike[str] | None = None, *, policy: str = "fair",
          idle_timeout: float = 0.0, record: Path | None = None, lead_in: bool = True,
          loader: Any = None, fair_unit: str = "reply") -> int:
    """Run a daemon in this process until shutdown; returns the exit code.

    Returns 0 at once (after one log line) when another daemon serves ``path``.
    ``loader(cfg) -> Engines`` replaces the engines' loading and ``fair_unit`` ("reply"
    or "sentence") what ``fair`` hands out in turn (benchmarks)."""
    path = Path(path or paths.socket_path())
    core = Core(cfg, policy=policy, idle_timeout=idle_timeout, record=record,
                lead_in=lead_in, loader=loader, fair_unit=fair_unit)
    server = Server(core, path)
    try:
        server.bind()
    except AlreadyRunning as exc:
        log.warning("%s", exc)
        return 0
    except OSError as exc:
        log.error("cannot listen on %s: %s", path, exc)
        return 1

    def on_signal(_sig: int, _frame: Any) -> None:
        core.shutdown.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
    log.warning("daemon %d listening on %s (policy %s)", os.getpid(), path, policy)
    core.start()
    try:
        server.serve_forever()
    finally:
        server.close()
        core.close()
        log.warning("daemon %d stopped", os.getpid())
        sys.stderr.flush()
    return 0
