"""The command line: argv normalisation, flag → config mapping, errors."""

from __future__ import annotations

import pytest

from yomiage import cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["narrate"]),
        (["session.ndjson"], ["narrate", "session.ndjson"]),
        (["-q", "-"], ["-q", "narrate", "-"]),
        (["--to", "fr", "x.ndjson"], ["narrate", "--to", "fr", "x.ndjson"]),
        (["text", "x.ndjson"], ["text", "x.ndjson"]),
        (["--version"], ["--version"]),
    ],
)
def test_bare_invocations_mean_narrate(argv: list[str], expected: list[str]) -> None:
    assert cli._normalise_argv(argv) == expected


def test_flags_reach_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOMIAGE_CONFIG", "/nonexistent/config.toml")
    parser = cli.build_parser()
    args = parser.parse_args(["narrate", "--to", "fr", "--voice", "espeak", "--tools", "brief",
                              "--no-interrupt", "--max-lag", "4", "--out", "x.wav"])
    cfg = cli.config_from_args(args)
    assert (cfg.target_lang, cfg.voice, cfg.tools) == ("fr", "espeak", "brief")
    assert cfg.interrupt is False and cfg.max_lag == 4.0 and cfg.out == "x.wav"


def test_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOMIAGE_CONFIG", "/nonexistent/config.toml")
    with pytest.raises(SystemExit) as exc:
        cli.main(["text", "-", "--max-clause-chars", "3"])
    assert exc.value.code == 2
    assert "argument --max-clause-chars: 3 must be at least 20" in capsys.readouterr().err


def test_text_of_a_missing_file_is_one_line_and_nonzero(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOMIAGE_CONFIG", "/nonexistent/config.toml")
    code = cli.main(["text", "/nonexistent/session.ndjson"])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "session.ndjson" in err[0]
