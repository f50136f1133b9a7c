"""Settings: bad file/env values warn (naming source and key) and fall back; bad flags
fail loudly naming only the flag given; numbers are finite; types are strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from yomiage.cli import build_parser, main
from yomiage.config import MAX_CONFIG_BYTES, Config, SettingError, load_config


def _load(tmp_path: Path, text: str = "", env: dict[str, str] | None = None,
          flags: dict[str, object] | None = None) -> tuple[Config, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    warnings: list[str] = []
    return load_config(flags or {}, env=env or {}, path=path, warn=warnings.append), warnings


@pytest.mark.parametrize(("line", "key"), [
    ("speed = nan", "speed"), ("speed = inf", "speed"), ("volume = -inf", "volume"),
    ("max_lag = nan", "max_lag"), ("max_lag = -1.0", "max_lag"),
    ("cache_dir = [1, 2]", "cache_dir"), ('cache_dir = ""', "cache_dir"),
    ("voice = 3", "voice"), ("beam_size = 2.5", "beam_size"), ("beam_size = true", "beam_size"),
    ("threads = -1", "threads"), ('tools = "all"', "tools"), ("offline = 1.5", "offline"),
    ("speed = 9.0", "speed"), ("target_lang = {a = 1}", "target_lang"),
])
def test_bad_file_values_warn_once_and_keep_the_default(tmp_path: Path, line: str,
                                                        key: str) -> None:
    cfg, warnings = _load(tmp_path, line + "\n")
    assert getattr(cfg, key) == getattr(Config(), key)
    assert len(warnings) == 1 and "config file" in warnings[0] and key in warnings[0]


@pytest.mark.parametrize(("name", "value"), [
    ("YOMIAGE_VOLUME", "nan"), ("YOMIAGE_SPEED", "inf"), ("YOMIAGE_CACHE_DIR", ""),
    ("YOMIAGE_CACHE_DIR", "   "), ("YOMIAGE_MAX_LAG", "-3"), ("YOMIAGE_DEVICE", "tpu"),
])
def test_bad_environment_values_warn_and_fall_back(tmp_path: Path, name: str, value: str) -> None:
    cfg, warnings = _load(tmp_path, env={name: value})
    key = name.removeprefix("YOMIAGE_").lower()
    assert getattr(cfg, key) == getattr(Config(), key)
    assert len(warnings) == 1 and name in warnings[0]


def test_environment_falls_back_to_the_file_value(tmp_path: Path) -> None:
    cfg, warnings = _load(tmp_path, "speed = 1.5\n", env={"YOMIAGE_SPEED": "nan"})
    assert cfg.speed == 1.5 and len(warnings) == 1


@pytest.mark.parametrize(("flags", "key"), [
    ({"speed": float("nan")}, "speed"), ({"volume": float("inf")}, "volume"),
    ({"max_lag": float("nan")}, "max_lag"), ({"source_lang": ""}, "source_lang"),
])
def test_bad_flags_raise_naming_the_setting(tmp_path: Path, flags: dict[str, object],
                                            key: str) -> None:
    with pytest.raises(SettingError) as err:
        _load(tmp_path, flags=flags)
    assert err.value.key == key


def test_a_huge_config_file_is_ignored(tmp_path: Path) -> None:
    cfg, warnings = _load(tmp_path, 'speed = 2.0\n' + "# padding\n" * (MAX_CONFIG_BYTES // 10))
    assert cfg.speed == 1.0
    assert len(warnings) == 1 and "bytes" in warnings[0]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "yomiage.cli", *args], input="",
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


def test_bad_env_does_not_stop_text(tmp_path: Path) -> None:
    stream = tmp_path / "s.ndjson"
    stream.write_text('{"type":"assistant","message":{"id":"m","role":"assistant","content":'
                      '[{"type":"text","text":"Hello there."}]}}\n')
    proc = _cli(["text", str(stream)], {"YOMIAGE_SPEED": "nan",
                                        "YOMIAGE_CONFIG": str(tmp_path / "none.toml")})
    assert proc.returncode == 0 and proc.stdout == "Hello there.\n"
    assert proc.stderr.count("YOMIAGE_SPEED") == 1 and "usage:" not in proc.stderr


def test_a_bad_flag_blames_only_that_flag(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("YOMIAGE_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(SystemExit) as exit_:
        main(["narrate", "--speed", "nan", "x.ndjson"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --speed: expected a finite number" in err.splitlines()[-1]
    with pytest.raises(SystemExit):
        main(["narrate", "--from", "", "x.ndjson"])
    assert "argument --from:" in capsys.readouterr().err


def test_quiet_and_verbose_after_the_subcommand() -> None:
    parser = build_parser()
    args = parser.parse_args(["text", "-q", "x"])
    assert args.quiet is True and args.verbose is False
    args = parser.parse_args(["-v", "doctor"])
    assert args.verbose is True and args.quiet is False
    args = parser.parse_args(["models", "list", "--verbose"])
    assert args.verbose is True
