"""`yomiage translate [TEXT|FILE|-]`: one translation a line, in order, with the shipped
compact en→ja model (no network)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from yomiage.cli import main
from yomiage.commands.translate import source_lines

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("YOMIAGE_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("YOMIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    log = logging.getLogger("yomiage")  # main() points it at this test's captured stderr
    saved = (log.handlers[:], log.level, log.propagate)
    yield
    log.handlers[:], log.level, log.propagate = saved


def test_source_lines(tmp_path: Path) -> None:
    f = tmp_path / "in.txt"
    f.write_text("one\r\n\ntwo\n", encoding="utf-8")
    assert list(source_lines(str(f))) == ["one", "", "two"]
    assert list(source_lines("just text")) == ["just text"]
    assert list(source_lines("-", io.StringIO("a\nb\n"))) == ["a", "b"]


def test_translate_text_file_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["translate", "Return the absolute value of a number.",
                 "--translator", "ctranslate2"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) == 1 and "絶対値" in first[0]
    f = tmp_path / "in.txt"
    f.write_text("Return the absolute value of a number.\n\nThe tests pass.\n", encoding="utf-8")
    assert main(["translate", str(f), "--translator", "ctranslate2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0] == first[0] and lines[1] == "" and lines[2]
    monkeypatch.setattr("sys.stdin", io.StringIO("Return the absolute value of a number.\n"))
    assert main(["translate", "-", "--translator", "ctranslate2"]) == 0
    assert capsys.readouterr().out.splitlines() == first


def test_translate_json_has_timings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "Open config.toml first.", "--json",
                 "--translator", "ctranslate2"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows[0]["line"] == 1 and rows[0]["source"] == "Open config.toml first."
    assert "config.toml" in rows[0]["translation"] and rows[0]["ms"] > 0
    summary = rows[-1]["summary"]
    assert summary["model"] == "compact-en-ja" and summary["lines"] == 1
    assert summary["p50_ms"] > 0 and summary["load_s"] > 0


def test_translate_missing_model_names_fetch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "Hello.", "--model", "fugumt-en-ja", "--offline"]) == 1
    assert "yomiage models fetch fugumt-en-ja" in capsys.readouterr().err
