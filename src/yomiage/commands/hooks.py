"""``yomiage hooks install|uninstall|status``: yomiage's entries in the agents' settings.

A thin layer over :mod:`yomiage.hooks.install`: picks the file for ``--agent`` and
``--scope``, prints the diff (or, with ``--dry-run``, the diff it would apply) and where
the backup went. A settings file it must not touch is one line on stderr and exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from yomiage.hooks.install import (
    AGENTS,
    SCOPES,
    Change,
    SettingsError,
    install,
    settings_path,
    status,
    uninstall,
)


def _report(change: Change, dry_run: bool, verb: str) -> None:
    if not change.changed:
        print(f"{change.path}: nothing to change (yomiage's hooks already {verb})")
        return
    sys.stdout.write(change.diff())
    if dry_run:
        print(f"(dry run: {change.path} was not written)")
        return
    print(f"wrote {change.path}" + (f" (backup: {change.backup})" if change.backup else ""))


def run_hooks(action: str, *, agent: str = "claude", scope: str = "user",
              events: Sequence[str] | None = None, dry_run: bool = False,
              replace: bool = False, project: Path | None = None,
              home: Path | None = None) -> int:
    """Run one ``yomiage hooks`` action; returns the exit code."""
    try:
        if action == "status":
            return _status(project, home)
        path = settings_path(agent, scope, project, home)
        if action == "install":
            change = install(path, agent, events, dry_run=dry_run, replace=replace)
            _report(change, dry_run, "installed")
            if change.written or (not change.changed and not dry_run):
                print(_next_step(agent))
        elif action == "uninstall":
            _report(uninstall(path, agent, dry_run=dry_run), dry_run, "absent")
        else:
            raise AssertionError(f"unknown hooks action {action!r}")
    except SettingsError as exc:
        print(f"yomiage hooks {action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _next_step(agent: str) -> str:
    if agent == "claude":
        return "Use `claude` as usual: replies are spoken by the yomiage daemon."
    if agent == "codex":
        return "Use `codex` as usual: each finished turn is spoken."
    return "Use `gemini` as usual (its hooks must be enabled in its settings)."


def _status(project: Path | None, home: Path | None) -> int:
    any_found = False
    for agent in AGENTS:
        for scope in SCOPES:
            try:
                path = settings_path(agent, scope, project, home)
            except SettingsError:
                continue
            try:
                events = status(path, agent)
            except SettingsError as exc:
                print(f"{agent:7s} {scope:8s} {path}: unreadable ({exc})")
                continue
            if events:
                any_found = True
                print(f"{agent:7s} {scope:8s} {path}: {', '.join(events)}")
    if not any_found:
        print("yomiage's hooks are not installed anywhere (yomiage hooks install)")
    return 0


__all__ = ["AGENTS", "SCOPES", "run_hooks"]
