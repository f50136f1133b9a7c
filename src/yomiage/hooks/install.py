"""Merge yomiage's hook entries into an agent's settings, and take them out again.

* Claude Code: ``hooks.<Event>[]`` groups in ``~/.claude/settings.json`` (scope user),
  ``.claude/settings.json`` (project) or ``.claude/settings.local.json`` (local).
* Gemini CLI: the same layout in ``~/.gemini/settings.json`` / ``.gemini/settings.json``.
* Codex CLI: the top-level ``notify`` program in ``~/.codex/config.toml`` (``$CODEX_HOME``
  overrides the folder), edited with tomlkit so comments and formatting stay.

Promises: installing twice changes nothing; every other hook and setting is kept (keys
in their order, the file's indentation); a backup (``<file>.yomiage-backup-<time>``) is
written before every change; the change is returned as a unified diff; ``uninstall`` removes
only entries whose command runs ``yomiage hook`` (and containers left empty by that). A
file that cannot be read or parsed, or a JSON file with comments (which a rewrite would
lose), raises :class:`SettingsError` with one line and is never written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AGENTS = ("claude", "codex", "gemini")
SCOPES = ("user", "project", "local")

CLAUDE_EVENTS = ("SessionStart", "UserPromptSubmit", "MessageDisplay", "Stop", "StopFailure",
                 "Notification", "SessionEnd", "SubagentStop", "PreToolUse")
"""Every Claude Code event yomiage handles."""
CLAUDE_DEFAULT = ("SessionStart", "UserPromptSubmit", "MessageDisplay", "Stop", "StopFailure",
                  "Notification", "SessionEnd")
"""Installed unless ``--events`` says otherwise: ``SubagentStop`` and ``PreToolUse`` start a
process per subagent reply / tool call and only matter with --subagents / --tools brief."""
GEMINI_EVENTS = ("SessionStart", "BeforeAgent", "AfterAgent", "Notification", "SessionEnd")
GEMINI_DEFAULT = GEMINI_EVENTS

CLAUDE_TIMEOUT_S = 5
"""Claude Code's ``timeout`` (seconds): `yomiage hook` returns in tens of milliseconds;
this only bounds a hung one."""
GEMINI_TIMEOUT_MS = 5000
"""Gemini CLI's ``timeout`` is in milliseconds."""
BACKUP_SUFFIX = ".yomiage-backup"


class SettingsError(RuntimeError):
    """A settings file yomiage must not touch; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Change:
    """What an install or uninstall did (or would do, with dry_run) to one file."""

    path: Path
    before: str | None  # None: the file did not exist
    after: str
    written: bool
    backup: Path | None

    @property
    def changed(self) -> bool:
        return (self.before or "") != self.after

    def diff(self) -> str:
        """A unified diff of the change ('' when nothing changes)."""
        if not self.changed:
            return ""
        old = (self.before or "").splitlines(keepends=True)
        new = self.after.splitlines(keepends=True)
        label = str(self.path)
        return "".join(difflib.unified_diff(old, new, label if self.before is not None
                                            else "/dev/null", label))


def hook_command(agent: str, exe: str | None = None) -> str:
    """The command line an agent runs: yomiage's absolute path when it can be found (a
    venv need not be on the agent's PATH), then ``hook --agent NAME``."""
    exe = exe or shutil.which("yomiage") or "yomiage"
    return f"{shlex.quote(exe)} hook --agent {agent}"


def is_yomiage_command(command: object) -> bool:
    """True for a command line that runs ``yomiage hook`` (any path to yomiage)."""
    if isinstance(command, list):
        argv = [str(a) for a in command]
    elif isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError:
            return False
    else:
        return False
    return len(argv) >= 2 and os.path.basename(argv[0]) == "yomiage" and argv[1] == "hook"


def settings_path(agent: str, scope: str, project: Path | None = None,
                  home: Path | None = None) -> Path:
    """The file that ``agent``'s hooks of ``scope`` live in."""
    home = home or Path.home()
    project = project or Path.cwd()
    if agent == "claude":
        if scope == "user":
            return home / ".claude" / "settings.json"
        if scope == "project":
            return project / ".claude" / "settings.json"
        if scope == "local":
            return project / ".claude" / "settings.local.json"
    elif agent == "gemini":
        if scope == "user":
            return home / ".gemini" / "settings.json"
        if scope == "project":
            return project / ".gemini" / "settings.json"
    elif agent == "codex" and scope == "user":
        codex_home = os.environ.get("CODEX_HOME")
        return (Path(codex_home) if codex_home else home / ".codex") / "config.toml"
    raise SettingsError(f"{agent} has no {scope!r} settings scope "
                        f"({'user only' if agent == 'codex' else 'user or project'})")


# -------------------------------------------------------------------- reading ----

def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}; nothing was changed") from None


_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|(//[^\n]*|/\*.*?\*/)', re.S)


def _has_comments(text: str) -> bool:
    return any(m.group(1) for m in _COMMENT.finditer(text))


def _load_json(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        if _has_comments(text):
            raise SettingsError(
                f"{path} has comments, which rewriting it would lose; add yomiage's entries "
                "by hand (`yomiage hooks install --dry-run` shows them); nothing was changed"
            ) from None
        raise SettingsError(f"{path} is not valid JSON ({exc}); nothing was changed") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} does not hold a JSON object; nothing was changed")
    return data


def _indent_of(text: str | None) -> int | str:
    if text:
        m = re.search(r"\n([ \t]+)\S", text)
        if m:
            ws = m.group(1)
            return "\t" if ws.startswith("\t") else len(ws)
    return 2


def _dump_json(data: dict[str, Any], like: str | None) -> str:
    if not data and like is None:
        return ""
    return json.dumps(data, indent=_indent_of(like), ensure_ascii=False) + "\n"


# -------------------------------------------------------------------- writing ----

def _write(path: Path, before: str | None, after: str, dry_run: bool) -> Change:
    if (before or "") == after or dry_run:
        return Change(path, before, after, False, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if before is not None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        backup = path.with_name(f"{path.name}{BACKUP_SUFFIX}-{stamp}")
        shutil.copy2(path, backup)
    mode = path.stat().st_mode & 0o777 if before is not None else 0o644
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(after)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Change(path, before, after, True, backup)


# ------------------------------------------------------------ JSON settings ----

def _entry(agent: str, command: str) -> dict[str, Any]:
    if agent == "gemini":
        return {"name": "yomiage", "type": "command", "command": command,
                "timeout": GEMINI_TIMEOUT_MS}
    # async: Claude Code runs the hook in the background and never waits for it.
    return {"type": "command", "command": command, "timeout": CLAUDE_TIMEOUT_S, "async": True}


def _groups(hooks: dict[str, Any], event: str, path: Path) -> list[Any]:
    groups = hooks.setdefault(event, [])
    if not isinstance(groups, list):
        raise SettingsError(f"{path}: hooks.{event} is not a list; nothing was changed")
    return groups


def _strip_ours(groups: list[Any]) -> tuple[list[Any], int]:
    """``groups`` without yomiage's handlers (groups left empty dropped); how many went."""
    out: list[Any] = []
    removed = 0
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list):
            kept = [h for h in g["hooks"]
                    if not (isinstance(h, dict) and is_yomiage_command(h.get("command")))]
            removed += len(g["hooks"]) - len(kept)
            if not kept and len(g["hooks"]) > 0:
                continue
            if len(kept) != len(g["hooks"]):
                g = {**g, "hooks": kept}
        out.append(g)
    return out, removed


def _json_install(data: dict[str, Any], agent: str, events: Sequence[str], command: str,
                  path: Path) -> None:
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{path}: 'hooks' is not an object; nothing was changed")
    entry = _entry(agent, command)
    for event in events:
        groups = _groups(hooks, event, path)
        wanted = {"matcher": "*" if agent == "gemini" else "", "hooks": [entry]}
        stripped, ours = _strip_ours(groups)
        if ours == 1 and wanted in groups:
            continue  # already installed, exactly so
        hooks[event] = [*stripped, wanted]


def _json_uninstall(data: dict[str, Any], path: Path) -> int:
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept, n = _strip_ours(groups)
        removed += n
        if n:
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if removed and not hooks:
        del data["hooks"]
    return removed


def _json_status(data: dict[str, Any]) -> list[str]:
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return []
    found = []
    for event, groups in hooks.items():
        if isinstance(groups, list) and _strip_ours(groups)[1]:
            found.append(event)
    return found


# ------------------------------------------------------------------- Codex TOML ----

def _toml_doc(path: Path, text: str | None) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text or "")
    except TOMLKitError as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}); nothing was changed") from None


def _codex_install(path: Path, text: str | None, command: str, replace: bool) -> str:
    import tomlkit

    doc = _toml_doc(path, text)
    argv = shlex.split(command)
    current = doc.get("notify")
    if current is not None:
        if is_yomiage_command(list(current)):
            if list(current) == argv:
                return text or ""
        elif not replace:
            raise SettingsError(
                f"{path} already runs another notify program ({list(current)!r}) and Codex "
                "runs only one: remove it, or pass --replace (a backup is kept); nothing "
                "was changed")
    arr = tomlkit.array()
    arr.extend(argv)
    doc["notify"] = arr
    return tomlkit.dumps(doc)


def _codex_uninstall(path: Path, text: str | None) -> str:
    import tomlkit

    doc = _toml_doc(path, text)
    current = doc.get("notify")
    if current is None or not is_yomiage_command(list(current)):
        return text or ""
    del doc["notify"]
    return tomlkit.dumps(doc)


# ------------------------------------------------------------------------ API ----

def default_events(agent: str) -> tuple[str, ...]:
    return {"claude": CLAUDE_DEFAULT, "gemini": GEMINI_DEFAULT}.get(agent, ())


def known_events(agent: str) -> tuple[str, ...]:
    return {"claude": CLAUDE_EVENTS, "gemini": GEMINI_EVENTS}.get(agent, ())


def check_events(agent: str, events: Sequence[str] | None) -> tuple[str, ...]:
    """``events`` checked against what ``agent`` has ("all" = every one; None = default)."""
    if agent == "codex":
        return ()
    if events is None:
        return default_events(agent)
    if list(events) == ["all"]:
        return known_events(agent)
    unknown = [e for e in events if e not in known_events(agent)]
    if unknown:
        raise SettingsError(f"{agent} has no event {unknown[0]!r}; known: "
                            f"{', '.join(known_events(agent))}")
    return tuple(dict.fromkeys(events))


def install(path: Path, agent: str, events: Sequence[str] | None = None, *,
            command: str | None = None, dry_run: bool = False,
            replace: bool = False) -> Change:
    """Add yomiage's hooks for ``agent`` to ``path`` (see the module docstring)."""
    command = command or hook_command(agent)
    before = _read(path)
    if agent == "codex":
        after = _codex_install(path, before, command, replace)
    else:
        evs = check_events(agent, events)
        data = _load_json(path, before)
        _json_install(data, agent, evs, command, path)
        after = _dump_json(data, before)
        if before is not None and json.loads(after or "{}") == json.loads(before or "{}"):
            after = before  # same content: keep the file's own formatting
    return _write(path, before, after, dry_run)


def uninstall(path: Path, agent: str, *, dry_run: bool = False) -> Change:
    """Remove every ``yomiage hook`` entry for ``agent`` from ``path``."""
    before = _read(path)
    if before is None:
        return Change(path, None, "", False, None)
    if agent == "codex":
        after = _codex_uninstall(path, before)
    else:
        data = _load_json(path, before)
        after = _dump_json(data, before) if _json_uninstall(data, path) else before
    return _write(path, before, after, dry_run)


def status(path: Path, agent: str) -> list[str]:
    """The events (Codex: ``notify``) whose yomiage entry ``path`` holds."""
    text = _read(path)
    if text is None:
        return []
    if agent == "codex":
        current = _toml_doc(path, text).get("notify")
        return ["notify"] if current is not None and is_yomiage_command(list(current)) else []
    return _json_status(_load_json(path, text))
