"""`yomiage hooks install/uninstall/status` on real settings files in a temp folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from yomiage.commands.hooks import run_hooks
from yomiage.hooks.install import (
    BACKUP_SUFFIX,
    CLAUDE_DEFAULT,
    SettingsError,
    hook_command,
    install,
    is_yomiage_command,
    settings_path,
    status,
    uninstall,
)

CMD = "/opt/venv/bin/yomiage hook --agent claude"

OTHER = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "notify-send done"}]}],
        "PreToolUse": [{"matcher": "Bash", "hooks": [
            {"type": "command", "command": "/usr/local/bin/guard.sh", "timeout": 30}]}],
    },
}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_recognises_its_own_command_only() -> None:
    assert is_yomiage_command("yomiage hook")
    assert is_yomiage_command("'/home/u/my venv/bin/yomiage' hook --agent codex")
    assert is_yomiage_command(["/x/yomiage", "hook", "--agent", "codex"])
    assert not is_yomiage_command("yomiage say hi")
    assert not is_yomiage_command("notify-send yomiage hook")
    assert not is_yomiage_command("unbalanced 'quote")
    assert not is_yomiage_command(None)
    assert "hook --agent gemini" in hook_command("gemini", "/a b/yomiage")
    assert hook_command("gemini", "/a b/yomiage").startswith("'/a b/yomiage'")


def test_install_keeps_everything_else_and_is_idempotent(tmp_path: Path) -> None:
    path = _write(tmp_path / "settings.json", json.dumps(OTHER, indent=4) + "\n")
    ch = install(path, "claude", command=CMD)
    assert ch.written and ch.backup is not None
    assert ch.backup.read_text() == json.dumps(OTHER, indent=4) + "\n"
    assert ch.backup.name.startswith("settings.json" + BACKUP_SUFFIX)
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["permissions"] == OTHER["permissions"]
    assert data["hooks"]["PreToolUse"] == OTHER["hooks"]["PreToolUse"]
    assert data["hooks"]["Stop"][0] == OTHER["hooks"]["Stop"][0]  # theirs first, kept
    ours = data["hooks"]["Stop"][1]["hooks"][0]
    assert ours == {"type": "command", "command": CMD, "timeout": 5, "async": True}
    assert set(data["hooks"]) == {*CLAUDE_DEFAULT, "PreToolUse"}
    assert "\n    \"model\"" in path.read_text()  # the file's own 4-space indent
    assert "+" in ch.diff() and CMD in ch.diff()

    text = path.read_text()
    again = install(path, "claude", command=CMD)
    assert not again.changed and not again.written and path.read_text() == text
    backups = list(tmp_path.glob("*" + BACKUP_SUFFIX + "*"))
    assert len(backups) == 1


def test_new_command_path_replaces_the_old_entry(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    install(path, "claude", command="yomiage hook --agent claude")
    install(path, "claude", command=CMD)
    data = json.loads(path.read_text())
    for event in CLAUDE_DEFAULT:
        cmds = [h["command"] for g in data["hooks"][event] for h in g["hooks"]]
        assert cmds == [CMD]


def test_uninstall_removes_exactly_what_install_added(tmp_path: Path) -> None:
    original = json.dumps(OTHER, indent=2) + "\n"
    path = _write(tmp_path / "settings.json", original)
    install(path, "claude", ["all"], command=CMD)
    assert set(status(path, "claude")) >= set(CLAUDE_DEFAULT) | {"PreToolUse", "SubagentStop"}
    ch = uninstall(path, "claude")
    assert ch.written
    assert json.loads(path.read_text()) == OTHER
    assert path.read_text() == original
    assert status(path, "claude") == []
    assert not uninstall(path, "claude").changed


def test_missing_file_is_created_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "proj" / ".claude" / "settings.local.json"
    dry = install(path, "claude", ["Stop"], command=CMD, dry_run=True)
    assert dry.changed and not dry.written and not path.exists()
    assert dry.diff().startswith("--- /dev/null")
    ch = install(path, "claude", ["Stop"], command=CMD)
    assert ch.written and ch.backup is None
    assert json.loads(path.read_text()) == {"hooks": {"Stop": [
        {"matcher": "", "hooks": [{"type": "command", "command": CMD, "timeout": 5,
                                   "async": True}]}]}}
    uninstall(path, "claude")
    assert json.loads(path.read_text()) == {}


@pytest.mark.parametrize("text, needle", [
    ('{"hooks": {"Stop": [ }', "not valid JSON"),
    ('{\n  // my settings\n  "model": "opus"\n}\n', "has comments"),
    ('[1, 2]', "JSON object"),
    ('{"hooks": {"Stop": {"oops": 1}}}', "not a list"),
    ('{"hooks": "none"}', "not an object"),
])
def test_bad_files_are_a_clear_error_and_never_written(tmp_path: Path, text: str,
                                                       needle: str) -> None:
    path = _write(tmp_path / "settings.json", text)
    with pytest.raises(SettingsError, match=needle):
        install(path, "claude", command=CMD)
    assert path.read_text() == text
    assert not list(tmp_path.glob("*" + BACKUP_SUFFIX + "*"))


def test_comment_lookalikes_inside_strings_are_not_comments(tmp_path: Path) -> None:
    path = _write(tmp_path / "settings.json", '{"url": "https://example.com/*x*/"}\n')
    install(path, "claude", ["Stop"], command=CMD)
    assert json.loads(path.read_text())["url"] == "https://example.com/*x*/"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "settings.json", "{}")
    path.chmod(0)
    try:
        with pytest.raises(SettingsError, match="cannot read"):
            install(path, "claude", command=CMD)
    finally:
        path.chmod(0o600)
    assert path.read_text() == "{}"


def test_unknown_event_and_scope(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no event 'Stopp'"):
        install(tmp_path / "s.json", "claude", ["Stopp"], command=CMD)
    with pytest.raises(SettingsError, match="user only"):
        settings_path("codex", "project", tmp_path, tmp_path)


def test_gemini_entries(tmp_path: Path) -> None:
    path = _write(tmp_path / ".gemini" / "settings.json",
                  '{"theme": "Dracula", "hooks": {"AfterTool": []}}')
    install(path, "gemini", command="yomiage hook --agent gemini")
    data = json.loads(path.read_text())
    assert data["theme"] == "Dracula" and data["hooks"]["AfterTool"] == []
    assert data["hooks"]["AfterAgent"] == [{"matcher": "*", "hooks": [
        {"name": "yomiage", "type": "command", "command": "yomiage hook --agent gemini",
         "timeout": 5000}]}]
    uninstall(path, "gemini")
    assert json.loads(path.read_text()) == {"theme": "Dracula", "hooks": {"AfterTool": []}}


CODEX = '''# Codex settings
model = "gpt-5-codex"   # the default
approval_policy = "on-request"

[mcp_servers.docs]
command = "docs-mcp"
args = ["--port", "0"]
'''


def test_codex_notify_keeps_formatting(tmp_path: Path) -> None:
    path = _write(tmp_path / "config.toml", CODEX)
    cmd = "/opt/venv/bin/yomiage hook --agent codex"
    ch = install(path, "codex", command=cmd)
    text = path.read_text()
    assert ch.written and text.startswith(CODEX.split("\n[")[0].rstrip("\n"))
    assert 'notify = ["/opt/venv/bin/yomiage", "hook", "--agent", "codex"]' in text
    assert "# the default" in text and "[mcp_servers.docs]" in text
    assert text.index("notify") < text.index("[mcp_servers.docs]")  # a top-level key
    assert not install(path, "codex", command=cmd).changed
    assert status(path, "codex") == ["notify"]
    uninstall(path, "codex")
    assert path.read_text() == CODEX


def test_codex_other_notify_needs_replace(tmp_path: Path) -> None:
    text = 'notify = ["notify-send", "codex"]\n'
    path = _write(tmp_path / "config.toml", text)
    with pytest.raises(SettingsError, match="--replace"):
        install(path, "codex", command="yomiage hook --agent codex")
    assert path.read_text() == text
    install(path, "codex", command="yomiage hook --agent codex", replace=True)
    assert "yomiage" in path.read_text()
    assert not uninstall(_write(tmp_path / "c2.toml", text), "codex").changed


def test_codex_invalid_toml(tmp_path: Path) -> None:
    path = _write(tmp_path / "config.toml", "model = = 1\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        install(path, "codex", command="yomiage hook --agent codex")


def test_command_prints_diff_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_HOME", raising=False)
    assert run_hooks("install", scope="project", project=tmp_path, home=tmp_path,
                     dry_run=True) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and '"Stop"' in out
    assert not (tmp_path / ".claude" / "settings.json").exists()
    assert run_hooks("install", scope="project", project=tmp_path, home=tmp_path) == 0
    assert run_hooks("status", project=tmp_path, home=tmp_path) == 0
    out = capsys.readouterr().out
    assert "claude  project" in out and "Stop" in out
    _write(tmp_path / ".claude" / "settings.json", "{oops")
    assert run_hooks("uninstall", scope="project", project=tmp_path, home=tmp_path) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_a_folder_in_place_of_the_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()
    with pytest.raises(SettingsError, match="cannot read"):
        install(path, "claude", command=CMD)
    assert path.is_dir()
