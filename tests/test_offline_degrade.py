"""Offline with no translation model, narration speaks the original (as `demo` does)."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import pytest

from yomiage.commands.narrate import run_narrate
from yomiage.config import Config
from yomiage.tts.ipa import espeak_program

STREAM = ('{"type":"assistant","message":{"id":"m1","role":"assistant","content":'
          '[{"type":"text","text":"The build passed."}]}}\n')


@pytest.mark.skipif(espeak_program() is None, reason="espeak-ng not installed")
def test_offline_without_a_model_speaks_the_original(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    src, out = tmp_path / "s.ndjson", tmp_path / "x.wav"
    src.write_text(STREAM)
    # en→de: no model ships for it (en→ja has the bundled compact model)
    cfg = Config(cache_dir=str(tmp_path / "empty-cache"), offline=True, voice="espeak",
                 out=str(out), target_lang="de")
    started = time.monotonic()
    assert run_narrate(str(src), cfg, quiet=True) == 0
    assert time.monotonic() - started < 10  # no hub attempts
    notes = [r.getMessage() for r in caplog.records if "speaking the original" in r.getMessage()]
    assert len(notes) == 1 and "yomiage models fetch" in notes[0]
    with wave.open(str(out)) as w:
        assert w.getnframes() > 0
