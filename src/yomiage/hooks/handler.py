"""Hook payloads → the daemon messages they call for (runs inside the daemon).

The daemon (docs/daemon.md, "The hook handler") calls :meth:`HookHandler.handle` for each
``hook`` request, one at a time, and applies the protocol messages it returns. The
mapping (payload fields: docs/hooks.md):

================================  ===========================================================
Claude Code ``SessionStart``      ``ping`` (starts and warms the daemon)
``UserPromptSubmit``              ``interrupt`` the session (its speech is cut)
``MessageDisplay``                ``reply`` with the message's *completed lines* so far
                                  (cumulative; the daemon speaks only what is new)
``Stop``                          ``reply`` ``complete`` with ``last_assistant_message``, under
                                  the ``message_id`` MessageDisplay used for the same text, so
                                  a reply is spoken exactly once across both; without the
                                  field, this turn's entry is awaited in ``transcript_path``
``Notification``                  ``say`` a short localized alert (``priority: alert``)
``StopFailure``                   ``say`` one sentence: the turn failed (never the error body)
``SubagentStop``                  with ``subagents``: ``reply`` in a session of its own (its
                                  own voice: the daemon picks voices by ``cwd``)
``PreToolUse``                    with ``tools = "brief"``: ``say`` "Reading main.py"
                                  (``priority: tool``)
``SessionEnd``                    ``forget`` the session
Codex ``agent-turn-complete``     ``reply`` ``complete`` with ``last-assistant-message``
Gemini ``AfterAgent``             ``reply`` ``complete`` with ``prompt_response``;
``BeforeAgent``                   ``interrupt``; ``Notification``, ``SessionStart``,
                                  ``SessionEnd`` as for Claude Code
================================  ===========================================================

Replies go through the daemon's narration of markdown (``reply`` messages): the same
narration, speech text and segmentation as stream-json prose. A payload it cannot use
(unknown event, missing session) yields no message and one log line.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from yomiage.config import Config, load_config
from yomiage.daemon.sessions import project_name
from yomiage.hooks import phrases
from yomiage.hooks.transcript import file_size, wait_for_reply

log = logging.getLogger(__name__)

MAX_TEXT = 256 * 1024
"""Characters of a reply handed on (the protocol's limit for one text)."""
MAX_SESSIONS = 256
"""Sessions whose turn state is remembered (the oldest is forgotten first)."""
TRANSCRIPT_WAIT = 5.0
"""Seconds a Stop without ``last_assistant_message`` waits for this turn's entry."""


@dataclass(slots=True)
class _Message:
    """One assistant message seen through MessageDisplay."""

    chunks: dict[int, str] = field(default_factory=dict)
    sent: str = ""  # the completed text already handed to the daemon
    final: bool = False

    def text(self) -> str:
        out = []
        for i in range(len(self.chunks)):  # contiguous from 0; a gap waits for its chunk
            part = self.chunks.get(i)
            if part is None:
                break
            out.append(part)
        return "".join(out)


@dataclass(slots=True)
class _Session:
    turn: int = 0
    prompt_offset: int | None = None
    messages: OrderedDict[str, _Message] = field(default_factory=OrderedDict)
    stopped: str | None = None  # this turn's reply as Stop gave it
    subagents: set[str] = field(default_factory=set)  # their daemon sessions


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    return value if isinstance(value, str) else ""


class HookHandler:
    """Keeps each session's turn state between hook calls (see the module docstring)."""

    def __init__(self, cfg: Config | None = None, *, transcript_wait: float = TRANSCRIPT_WAIT
                 ) -> None:
        self.cfg = cfg or load_config({})
        self.transcript_wait = transcript_wait
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    # ------------------------------------------------------------------ helpers ----

    def _session(self, sid: str) -> _Session:
        st = self._sessions.get(sid)
        if st is None:
            st = self._sessions[sid] = _Session()
            if len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(sid)
        return st

    def _common(self, sid: str, cwd: str, agent: str) -> dict[str, Any]:
        out: dict[str, Any] = {"session": sid, "agent": agent}
        if cwd:
            out["cwd"] = cwd
            out["project"] = project_name(cwd)[:200]
        return out

    def _alert(self, key: str, sid: str, cwd: str, agent: str,
               reason: str | None = None) -> dict[str, Any]:
        text, lang = phrases.alert(key, self.cfg.target_lang, agent=agent,
                                   project=project_name(cwd), reason=reason)
        return {"type": "say", **self._common(sid, cwd, agent), "text": text, "lang": lang,
                "translate": lang != self.cfg.target_lang, "priority": "alert"}

    def _reply(self, sid: str, cwd: str, agent: str, message_id: str, text: str,
               complete: bool) -> dict[str, Any]:
        return {"type": "reply", **self._common(sid, cwd, agent), "message_id": message_id[:200],
                "text": text[:MAX_TEXT], "complete": complete, "priority": "reply"}

    # --------------------------------------------------------------------- entry ----

    def handle(self, payload: dict[str, Any], agent: str) -> list[dict[str, Any]]:
        """The daemon messages ``payload`` (from ``agent``) calls for; possibly none."""
        if agent == "codex":
            return self._codex(payload)
        event = _str(payload, "hook_event_name")
        sid = _str(payload, "session_id")[:200]
        cwd = _str(payload, "cwd")[:4096]
        if not event:
            log.info("a %s hook payload without hook_event_name; ignored", agent)
            return []
        if event == "SessionStart":
            return [{"type": "ping"}]
        if not sid:
            log.info("a %s %s payload without session_id; ignored", agent, event)
            return []
        method = _CLAUDE.get(event) if agent != "gemini" else _GEMINI.get(event)
        if method is None:
            log.debug("%s event %s is not narrated", agent, event)
            return []
        return method(self, payload, sid, cwd, agent)

    # ------------------------------------------------------------- Claude Code ----

    def _prompt(self, payload: dict[str, Any], sid: str, cwd: str,
                agent: str) -> list[dict[str, Any]]:
        st = self._session(sid)
        st.turn += 1
        st.messages.clear()
        st.stopped = None
        path = _str(payload, "transcript_path")
        st.prompt_offset = file_size(path) if path else None
        return [{"type": "interrupt", "session": sid}]

    def _display(self, payload: dict[str, Any], sid: str, cwd: str,
                 agent: str) -> list[dict[str, Any]]:
        mid = _str(payload, "message_id")
        index = payload.get("index")
        delta = payload.get("delta")
        if not mid or isinstance(index, bool) or not isinstance(index, int) or index < 0 \
                or not isinstance(delta, str):
            log.info("a MessageDisplay payload without message_id/index/delta; ignored")
            return []
        st = self._session(sid)
        msg = st.messages.get(mid)
        if msg is None:
            msg = st.messages[mid] = _Message()
        msg.chunks[index] = delta
        if payload.get("final") is True:
            msg.final = True
        text = msg.text()
        if st.stopped is not None and text and st.stopped.startswith(text):
            return []  # a chunk's hook that ran after Stop's: Stop spoke this text already
        complete = msg.final and len(text) == sum(len(c) for c in msg.chunks.values())
        done = text if complete else text[:text.rfind("\n") + 1]
        if done == msg.sent and not complete:
            return []
        msg.sent = done
        return [self._reply(sid, cwd, agent, f"{st.turn}:{mid}", done, complete)]

    def _stop(self, payload: dict[str, Any], sid: str, cwd: str,
              agent: str) -> list[dict[str, Any]]:
        st = self._session(sid)
        text = payload.get("last_assistant_message")
        if not isinstance(text, str):
            path = _str(payload, "transcript_path")
            found = wait_for_reply(path, st.prompt_offset, timeout=self.transcript_wait) \
                if path else None
            if found is None:
                return []
            text = found
        mid = self._same_message(st, text)
        st.stopped = text
        return [self._reply(sid, cwd, agent, mid, text, True)]

    def _same_message(self, st: _Session, text: str) -> str:
        """The message id MessageDisplay used for ``text`` (so that the daemon speaks
        only what it has not spoken yet), else a fresh id for this turn's reply."""
        for mid, msg in reversed(st.messages.items()):
            shown = msg.text()
            continues = bool(msg.sent) and text.startswith(msg.sent)
            if shown and (continues or shown.strip() == text.strip()):
                return f"{st.turn}:{mid}"
        return f"{st.turn}:stop"

    def _subagent(self, payload: dict[str, Any], sid: str, cwd: str,
                  agent: str) -> list[dict[str, Any]]:
        if not self.cfg.subagents:
            return []
        text = payload.get("last_assistant_message")
        if not isinstance(text, str) or not text.strip():
            return []
        kind = _str(payload, "agent_type") or "subagent"
        aid = _str(payload, "agent_id") or kind
        sub = f"{sid}/{aid}"[:200]
        self._session(sid).subagents.add(sub)
        msg = self._reply(sub, cwd, agent, f"{self._session(sid).turn}:{aid}", text, True)
        # The daemon picks a session's voice from its cwd: a subagent type gets its own.
        msg["cwd"] = f"{cwd}#{kind}"[:4096]
        msg["project"] = f"{project_name(cwd)} {kind}"[:200]
        return [msg]

    def _tool(self, payload: dict[str, Any], sid: str, cwd: str,
              agent: str) -> list[dict[str, Any]]:
        if self.cfg.tools != "brief":
            return []
        from yomiage.text.tool_phrases import tool_phrase

        name = _str(payload, "tool_name")
        inp = payload.get("tool_input")
        if not name:
            return []
        text = tool_phrase(name, inp if isinstance(inp, dict) else {}, False)
        return [{"type": "say", **self._common(sid, cwd, agent), "text": text,
                 "lang": "en", "translate": self.cfg.target_lang != "en",
                 "priority": "tool"}]

    def _notification(self, payload: dict[str, Any], sid: str, cwd: str,
                      agent: str) -> list[dict[str, Any]]:
        kind = _str(payload, "notification_type")
        if kind in phrases.SILENT_NOTIFICATIONS:
            return []
        key = kind if kind in phrases.NOTIFICATION_KEYS else "attention"
        return [self._alert(key, sid, cwd, agent)]

    def _failure(self, payload: dict[str, Any], sid: str, cwd: str,
                 agent: str) -> list[dict[str, Any]]:
        return [self._alert("failed", sid, cwd, agent, _str(payload, "error_type"))]

    def _end(self, payload: dict[str, Any], sid: str, cwd: str,
             agent: str) -> list[dict[str, Any]]:
        st = self._sessions.pop(sid, None)
        subs = sorted(st.subagents) if st is not None else []
        return [{"type": "forget", "session": s} for s in [sid, *subs]]

    # ---------------------------------------------------------------- Gemini CLI ----

    def _after_agent(self, payload: dict[str, Any], sid: str, cwd: str,
                     agent: str) -> list[dict[str, Any]]:
        text = payload.get("prompt_response")
        if not isinstance(text, str) or not text.strip():
            return []
        st = self._session(sid)
        return [self._reply(sid, cwd, agent, f"{st.turn}:reply", text, True)]

    def _before_agent(self, payload: dict[str, Any], sid: str, cwd: str,
                      agent: str) -> list[dict[str, Any]]:
        self._session(sid).turn += 1
        return [{"type": "interrupt", "session": sid}]

    # ----------------------------------------------------------------- Codex CLI ----

    def _codex(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        kind = _str(payload, "type")
        if kind != "agent-turn-complete":
            log.info("Codex notify type %r is not narrated", kind or None)
            return []
        sid = (_str(payload, "thread-id") or "codex")[:200]
        cwd = _str(payload, "cwd")[:4096]
        text = payload.get("last-assistant-message")
        if not isinstance(text, str) or not text.strip():
            return []
        turn = _str(payload, "turn-id") or str(self._session(sid).turn)
        self._session(sid).turn += 1
        return [self._reply(sid, cwd, "codex", f"turn:{turn}", text, True)]


_Method = Any
_CLAUDE: dict[str, _Method] = {
    "UserPromptSubmit": HookHandler._prompt,
    "MessageDisplay": HookHandler._display,
    "Stop": HookHandler._stop,
    "SubagentStop": HookHandler._subagent,
    "PreToolUse": HookHandler._tool,
    "Notification": HookHandler._notification,
    "StopFailure": HookHandler._failure,
    "SessionEnd": HookHandler._end,
}
_GEMINI: dict[str, _Method] = {
    "BeforeAgent": HookHandler._before_agent,
    "AfterAgent": HookHandler._after_agent,
    "Notification": HookHandler._notification,
    "SessionEnd": HookHandler._end,
}

__all__ = ["HookHandler"]
