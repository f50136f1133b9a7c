"""The daemon's clients stay light, and the console script's fast entry parses `say`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from daemon_helpers import SRC
from yomiage import entry

HEAVY = {"numpy", "rich", "argparse", "yomiage.config", "yomiage.cli", "platformdirs",
         "typing", "pathlib", "socket", "subprocess", "ctranslate2", "onnxruntime"}


def test_client_modules_import_nothing_heavy() -> None:
    code = ("import sys, json; import yomiage.entry, yomiage.daemon.client, "
            "yomiage.daemon.sayclient, yomiage.daemon.streamclient; "
            f"print(json.dumps(sorted(set(sys.modules) & set({sorted(HEAVY)!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC)}, check=True)
    assert json.loads(out.stdout) == []


def test_fast_say_takes_only_its_own_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, object]]] = []

    def fake(text: str, **kw: object) -> int:
        calls.append((text, kw))
        return 0

    import yomiage.daemon.sayclient as sayclient

    monkeypatch.setattr(sayclient, "say_via_daemon", fake)
    assert entry._fast_say(["Hello.", "--daemon", "--lang", "en", "--priority=alert"]) == 0
    assert calls == [("Hello.", {"lang": "en", "session": None, "priority": "alert",
                                 "cwd": None})]
    assert entry._fast_say(["Hello.", "--daemon", "--voice", "espeak"]) is None
    assert entry._fast_say(["--daemon"]) is None
    assert entry._fast_say(["a", "b", "--daemon"]) is None
    assert entry._fast_say(["Hello.", "--lang"]) is None


def test_say_via_daemon_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from yomiage.daemon.sayclient import say_via_daemon

    assert say_via_daemon("   ") == 2
    assert say_via_daemon("x", priority="loud") == 2
    assert "priority" in capsys.readouterr().err


def test_status_text_names_engines_a_prepared_voice_and_sessions() -> None:
    from yomiage.commands.daemon import format_status

    st = {"pid": 7, "version": "1", "uptime_s": 3.0, "rss_mb": 500, "policy": "fair",
          "engines": {"engine": "ctranslate2", "model": "compact-en-ja", "voice": "kokoro"},
          "load_s": 2.4, "voice_prepared": True, "out": "speakers",
          "first_audio_ms": {"p50": 250, "p95": 300, "n": 4}, "sessions": []}
    text = format_status(st)
    assert "voice kokoro (prepared); loaded in 2.4 s" in text
    assert "P50 250 ms" in text and "sessions: none yet" in text
    assert "(prepared)" not in format_status({**st, "voice_prepared": False})
