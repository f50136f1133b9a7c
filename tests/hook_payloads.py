"""Hook payloads shaped as docs/hooks.md records them (Claude Code, Codex, Gemini CLI)."""

from __future__ import annotations

from typing import Any

SESSION = "5f1c2e9a-7b0d-4c61-9d3e-2a8f4b6c1d00"
CWD = "/home/user/src/shop-api"
TRANSCRIPT = "/home/user/.claude/projects/-home-user-src-shop-api/" + SESSION + ".jsonl"


def claude(event: str, session: str = SESSION, cwd: str = CWD,
           transcript: str = TRANSCRIPT, **fields: Any) -> dict[str, Any]:
    """A Claude Code hook payload: the common fields (H1) plus the event's own."""
    return {"session_id": session, "transcript_path": transcript, "cwd": cwd,
            "permission_mode": "default", "hook_event_name": event, **fields}


def session_start(**kw: Any) -> dict[str, Any]:
    return claude("SessionStart", source="startup", model="claude-opus-4-5", **kw)


def prompt(text: str = "Fix the failing test.", **kw: Any) -> dict[str, Any]:
    return claude("UserPromptSubmit", prompt=text, **kw)


def display(message_id: str, index: int, delta: str, final: bool = False,
            **kw: Any) -> dict[str, Any]:
    return claude("MessageDisplay", turn_id="turn-1", message_id=message_id, index=index,
                  final=final, delta=delta, **kw)


def stop(text: str | None, **kw: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"stop_hook_active": False}
    if text is not None:
        fields["last_assistant_message"] = text
    return claude("Stop", **fields, **kw)


def subagent_stop(text: str, agent_type: str = "Explore", **kw: Any) -> dict[str, Any]:
    return claude("SubagentStop", agent_id="a1b2c3", agent_type=agent_type,
                  agent_transcript_path="/tmp/agent-a1b2c3.jsonl", stop_hook_active=False,
                  last_assistant_message=text, **kw)


def notification(kind: str, **kw: Any) -> dict[str, Any]:
    return claude("Notification", notification_type=kind,
                  message="Claude needs your permission to use Bash", **kw)


def stop_failure(error_type: str = "rate_limit", **kw: Any) -> dict[str, Any]:
    return claude("StopFailure", error_type=error_type, error="429",
                  error_message="Rate limit exceeded: SECRET-BODY", **kw)


def pre_tool(name: str = "Read", **tool_input: Any) -> dict[str, Any]:
    return claude("PreToolUse", tool_name=name,
                  tool_input=tool_input or {"file_path": "/home/user/src/shop-api/main.py"},
                  tool_use_id="toolu_01ABC")


def session_end(**kw: Any) -> dict[str, Any]:
    return claude("SessionEnd", reason="prompt_input_exit", **kw)


def codex_turn(text: str, thread: str = "b5f6c1c2-0000-4000-8000-000000000001",
               turn: str = "12345") -> dict[str, Any]:
    """Codex CLI's notify payload (C1, C2)."""
    return {"type": "agent-turn-complete", "thread-id": thread, "turn-id": turn,
            "cwd": CWD, "client": "codex-tui", "input-messages": ["Rename foo to bar."],
            "last-assistant-message": text}


def gemini(event: str, **fields: Any) -> dict[str, Any]:
    """A Gemini CLI hook payload (G1)."""
    return {"session_id": "gem-1", "transcript_path": "/tmp/gemini.json", "cwd": CWD,
            "hook_event_name": event, "timestamp": "2026-12-01T20:00:00Z", **fields}
