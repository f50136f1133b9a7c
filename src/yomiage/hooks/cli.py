"""``yomiage hook [--agent claude|codex|gemini] [PAYLOAD]``: the process an agent starts on
each hook event.

Promises: it reads one JSON payload (stdin; Codex passes it as the last argument), hands
it to the daemon as ``{"type": "hook", "agent": …, "payload": …}`` (starting a daemon when
none answers) and exits 0 — whatever happens. It never writes to stdout (Claude Code
feeds a hook's stdout to the model for some events; Gemini CLI parses it as JSON): file
descriptor 1 is pointed at /dev/null first thing. Its own problems go to the daemon's log
as one line each. It imports only the standard library and the light daemon client, so
that the whole process takes a few tens of milliseconds (``yomiage.entry`` calls
:func:`main` before any argument parser or configuration is loaded).
"""

from __future__ import annotations

import os
import sys
import time

from yomiage.daemon import wirejson

MAX_PAYLOAD = 8 * 1024 * 1024 - 4096
"""Bytes of payload read at most (the protocol's line limit, less the envelope)."""
REPLY_TIMEOUT = 3.0
"""Seconds to wait for the daemon's acknowledgement (it replies before handling)."""
AGENTS = ("claude", "codex", "gemini")


def _log(message: str) -> None:
    """One line in the daemon's log; silently nothing when even that fails."""
    try:
        from yomiage.daemon import paths

        path = str(paths.log_path())
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{stamp} yomiage hook[{os.getpid()}]: {message}\n")
    except Exception:
        pass


def _silence_stdout() -> None:
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.close(fd)
    except OSError:
        pass
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _parse_args(argv: list[str]) -> tuple[str, str | None]:
    agent = "claude"
    payload: str | None = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--agent" and i + 1 < len(argv):
            agent = argv[i + 1]
            i += 1
        elif a.startswith("--agent="):
            agent = a.split("=", 1)[1]
        elif not a.startswith("--"):
            payload = a
        i += 1
    return agent, payload


def _read_payload(arg: str | None) -> bytes | None:
    if arg is not None:
        return arg.encode("utf-8", "surrogateescape")
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None
    data: bytes = stdin.buffer.read(MAX_PAYLOAD + 1)
    return data


def main(argv: list[str]) -> int:
    """Run one hook (see the module docstring); always returns 0."""
    _silence_stdout()
    try:
        agent, arg = _parse_args(argv)
        if agent not in AGENTS:
            _log(f"unknown agent {agent!r} (one of {', '.join(AGENTS)}); payload dropped")
            return 0
        raw = _read_payload(arg)
        if not raw or not raw.strip():
            _log(f"{agent}: no payload (on stdin or as an argument); nothing to do")
            return 0
        if len(raw) > MAX_PAYLOAD:
            _log(f"{agent}: a payload of more than {MAX_PAYLOAD} bytes; dropped")
            return 0
        try:
            payload = wirejson.loads(raw)
        except (ValueError, RecursionError):
            _log(f"{agent}: the payload is not JSON; dropped")
            return 0
        if not isinstance(payload, dict):
            _log(f"{agent}: the payload is not a JSON object; dropped")
            return 0
        from yomiage.daemon.client import DaemonUnavailable, send

        try:
            reply = send({"type": "hook", "agent": agent, "payload": payload},
                         timeout=REPLY_TIMEOUT)
        except DaemonUnavailable as exc:
            _log(f"{agent} {payload.get('hook_event_name') or payload.get('type')}: {exc}")
            return 0
        if not reply.get("ok"):
            _log(f"{agent}: the daemon refused the payload: {reply.get('error')}")
    except Exception as exc:
        _log(f"unexpected {type(exc).__name__}: {exc}")
    return 0


__all__ = ["main"]
