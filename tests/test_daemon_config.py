"""`daemon = off|on|auto`: when a client hands its text to the daemon."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomiage.cli import _use_daemon, build_parser, config_from_args
from yomiage.config import Config


def test_on_off_auto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YOMIAGE_SOCKET", str(tmp_path / "none.sock"))
    assert _use_daemon(Config(daemon="on"))
    assert not _use_daemon(Config(daemon="off"))
    assert not _use_daemon(Config(daemon="auto"))  # none answers there


def test_flags_override_the_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('daemon = "auto"\n')
    monkeypatch.setenv("YOMIAGE_CONFIG", str(cfg_file))
    parser = build_parser()
    assert config_from_args(parser.parse_args(["narrate", "x"])).daemon == "auto"
    assert config_from_args(parser.parse_args(["narrate", "x", "--daemon"])).daemon == "on"
    assert config_from_args(parser.parse_args(["say", "hi", "--no-daemon"])).daemon == "off"
    args = parser.parse_args(["daemon", "status", "--json"])
    assert args.action == "status" and args.json


def test_bad_daemon_values_are_refused() -> None:
    from yomiage.config import validate

    with pytest.raises(ValueError, match="daemon"):
        validate(Config(daemon="sometimes"))
    with pytest.raises(ValueError, match="daemon_policy"):
        validate(Config(daemon_policy="random"))
