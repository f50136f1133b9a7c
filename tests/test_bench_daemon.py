"""`yomiage bench --stage daemon`, shortened, with espeak-ng and no translation."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from yomiage.bench.daemon import bench_daemon, config_env, format_daemon
from yomiage.config import Config, load_config


def test_config_env_carries_what_differs_from_the_defaults() -> None:
    env = config_env(Config(voice="espeak", interrupt=False, target_lang="ja"))
    assert env == {"YOMIAGE_VOICE": "espeak", "YOMIAGE_INTERRUPT": "false"}


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/usr/bin/espeak-ng"), reason="needs espeak-ng")
def test_bench_daemon_short_run(tmp_path: Path) -> None:
    cfg = load_config({"translator": "none", "voice": "espeak", "source_lang": "en",
                       "target_lang": "en"}, env={}, path=tmp_path / "none.toml")
    args = argparse.Namespace(repeat=3, sessions=2, duration=4.0, cold_runs=1, shape=None,
                              fair_units="reply")
    res = bench_daemon(args, cfg)
    assert res["client"]["client"]["n"] == 3
    assert res["first_audio"]["daemon"]["n"] >= 1 and res["first_audio"]["in_process"]["n"]
    assert res["cold"]["cold_start"]["n"] == 1
    assert res["interrupt"]["interrupt_to_silence"]["n"] >= 1
    assert res["concurrency"][0]["sessions"] == 2
    assert "interrupt → silence" in format_daemon(res)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/usr/bin/espeak-ng"), reason="needs espeak-ng")
def test_bench_hooks_short_run(tmp_path: Path) -> None:
    from yomiage.bench.hooks import bench_hooks, format_hooks

    cfg = load_config({"translator": "none", "target_lang": "en"}, env={},
                      path=tmp_path / "none.toml")
    res = bench_hooks(cfg, ["espeak"], 2, text="All the tests pass now.")
    row = res["voices"]["espeak"]
    assert row["lost"] == [] and res["translation"] == "none"
    assert row["hook_first_audio"]["n"] == 2 and row["in_process_first_audio"]["n"] == 2
    assert row["hook_wall"]["p50_ms"] > 0 and row["hook_first_audio"]["p50_ms"] > 0
    assert "hook → first audio" in format_hooks(res) and "espeak" in format_hooks(res)
