"""Configuration merge order and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomiage.config import Config, config_path, load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_env_or_flags(tmp_path: Path) -> None:
    cfg = load_config({}, env={}, path=tmp_path / "absent.toml")
    assert cfg == Config(cache_dir=cfg.cache_dir)
    assert (cfg.source_lang, cfg.target_lang, cfg.tools) == ("en", "ja", "none")


def test_file_then_env_then_flags_win_in_that_order(tmp_path: Path) -> None:
    path = _write(tmp_path, 'target_lang = "fr"\nvoice = "espeak"\nspeed = 1.5\nmax-lag = 3\n')
    env = {"YOMIAGE_VOICE": "openjtalk", "YOMIAGE_SPEED": "0.8"}
    cfg = load_config({"speed": 1.2, "target_lang": None}, env=env, path=path)
    assert cfg.target_lang == "fr"  # file (flag given as None = absent)
    assert cfg.voice == "openjtalk"  # env beats file
    assert cfg.speed == 1.2  # flag beats env
    assert cfg.max_lag == 3.0  # dashes accepted in file keys


def test_booleans_and_optional_strings_from_env(tmp_path: Path) -> None:
    env = {"YOMIAGE_THINKING": "yes", "YOMIAGE_INTERRUPT": "off", "YOMIAGE_TIMELINE": "t.jsonl"}
    cfg = load_config({}, env=env, path=tmp_path / "absent.toml")
    assert cfg.thinking is True
    assert cfg.interrupt is False
    assert cfg.timeline == "t.jsonl"


def test_code_notice_takes_a_mode_or_the_old_booleans(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    assert load_config({}, env={}, path=absent).code_notice == "auto"
    assert load_config({"code_notice": True}, env={}, path=absent).code_notice == "always"
    assert load_config({"code_notice": False}, env={}, path=absent).code_notice == "never"
    path = _write(tmp_path, "code_notice = true\n")
    assert load_config({}, env={}, path=path).code_notice == "always"
    env = {"YOMIAGE_CODE_NOTICE": "never"}
    assert load_config({}, env=env, path=absent).code_notice == "never"
    warnings: list[str] = []
    cfg = load_config({}, env={"YOMIAGE_CODE_NOTICE": "sometimes"}, path=absent,
                      warn=warnings.append)
    assert cfg.code_notice == "auto" and len(warnings) == 1 and "CODE_NOTICE" in warnings[0]


def test_hf_hub_offline_implies_offline(tmp_path: Path) -> None:
    cfg = load_config({}, env={"HF_HUB_OFFLINE": "1"}, path=tmp_path / "absent.toml")
    assert cfg.offline is True


def test_bad_file_and_env_values_warn_once_each_and_keep_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, 'speed = "fast"\nno_such_key = 1\n')
    warnings: list[str] = []
    cfg = load_config({}, env={"YOMIAGE_BEAM_SIZE": "many"}, path=path, warn=warnings.append)
    assert cfg.speed == 1.0 and cfg.beam_size == 1
    assert len(warnings) == 3
    assert any("no_such_key" in w for w in warnings)
    assert any("YOMIAGE_BEAM_SIZE" in w for w in warnings)


def test_broken_toml_is_reported_and_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path, "target_lang = [unclosed\n")
    warnings: list[str] = []
    cfg = load_config({}, env={}, path=path, warn=warnings.append)
    assert cfg.target_lang == "ja"
    assert len(warnings) == 1 and str(path) in warnings[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"tools": "all"}, "tools: 'all' is not one of brief, none"),
        ({"device": "tpu"}, "device"),
        ({"speed": 0}, "speed"),
        ({"max_clause_chars": 5}, "max_clause_chars"),
        ({"beam_size": 0}, "beam_size"),
    ],
)
def test_bad_flags_raise_naming_the_value(tmp_path: Path, flags: dict[str, object],
                                          message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config(flags, env={}, path=tmp_path / "absent.toml")


def test_config_path_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YOMIAGE_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"


def test_home_in_paths_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = _write(tmp_path, 'cache_dir = "~/models-cache"\n')
    cfg = load_config({"timeline": "~/t.jsonl"}, env={}, path=path)
    assert cfg.cache_dir == str(tmp_path / "models-cache")
    assert cfg.timeline == str(tmp_path / "t.jsonl")
