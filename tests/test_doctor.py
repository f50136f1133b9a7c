"""yomiage doctor / voices / say: checks, exit codes, and speaking one line into a sink."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile as sf

from yomiage.cli import main
from yomiage.commands import doctor, say, voices
from yomiage.commands.doctor import Check, check_audio, check_espeak, check_translation, collect
from yomiage.config import Config
from yomiage.records import AudioChunk


class _ToneVoice:
    """Stands in for a real engine: 0.1 s of 440 Hz per character, in 3 chunks."""

    name = "tone:test"
    sample_rate = 22050

    def __init__(self, language: str, volume: float) -> None:
        self.language = language
        self.volume = volume

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        n = int(0.1 * len(text) * self.sample_rate)
        x = (0.4 * self.volume * np.sin(2 * np.pi * 440 * np.arange(n) / self.sample_rate))
        for part in np.array_split(x.astype(np.float32), 3):
            yield AudioChunk(part, self.sample_rate)

    def warmup(self) -> None:
        pass


@pytest.fixture()
def fake_registry(monkeypatch):
    """A registry whose load_voice gives a tone voice for Japanese only."""
    mod = types.ModuleType("yomiage.tts.registry")

    def load_voice(cfg: Config, lang: str) -> _ToneVoice:
        if lang != "ja":
            raise ValueError(f"no installed voice speaks {lang!r}")
        return _ToneVoice(lang, cfg.volume)

    mod.load_voice = load_voice  # type: ignore[attr-defined]
    import yomiage.tts

    monkeypatch.setitem(sys.modules, "yomiage.tts.registry", mod)
    monkeypatch.setattr(yomiage.tts, "registry", mod, raising=False)
    return mod


def test_a_crashing_check_becomes_a_failed_row():
    def broken(cfg: Config) -> list[Check]:
        raise RuntimeError("boom")

    rows = collect(Config(), [lambda cfg: [Check("fine", True, "")], broken])
    assert [r.ok for r in rows] == [True, False]
    assert "boom" in rows[1].detail


def test_doctor_exit_code_follows_essential_problems(monkeypatch, capsys):
    good = [lambda cfg: [Check("a", True, "x"), Check("b", False, "y", "fix b")]]
    monkeypatch.setattr(doctor, "CHECKS", tuple(good))
    assert doctor.run_doctor(Config()) == 0
    assert "essentials work" in capsys.readouterr().out
    bad = [lambda cfg: [Check("voice", False, "none", "install one", essential=True)]]
    monkeypatch.setattr(doctor, "CHECKS", tuple(bad))
    assert doctor.run_doctor(Config()) == 1
    out = capsys.readouterr().out
    assert "install one" in out and "cannot speak" in out


def test_no_audio_device_check_suggests_out(monkeypatch):
    sd = pytest.importorskip("sounddevice")

    def none(*_a, **_k):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", none)
    rows = {r.name: r for r in check_audio()}
    assert rows["PortAudio"].ok is True
    assert rows["audio output"].ok is False and "--out file.wav" in rows["audio output"].fix


def test_missing_espeak_is_reported_with_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    (row,) = check_espeak()
    assert row.ok is False and "apt-get install espeak-ng" in row.fix


def test_translation_check(tmp_path):
    (off,) = check_translation(Config(translator="none"))
    assert off.ok is None
    engine, shipped = check_translation(Config(cache_dir=str(tmp_path), threads=1))
    assert engine.detail.startswith("CTranslate2, 1 thread")
    assert shipped.ok is True and "compact-en-ja" in shipped.detail  # en→ja ships a model
    assert "yomiage models fetch fugumt-en-ja" in shipped.detail
    _, missing = check_translation(Config(cache_dir=str(tmp_path), threads=1, target_lang="fr"))
    assert missing.ok is False and missing.essential
    assert "yomiage models fetch" in missing.fix
    _, local = check_translation(Config(translation_model=str(tmp_path)))
    assert local.ok is True


def test_translation_check_names_the_cpu_engine(monkeypatch):
    import yomiage.commands.doctor as doctor

    assert "OpenVINO takes over" in doctor.cpu_engine_row(Config(threads=1)).detail
    assert doctor.cpu_engine_row(Config(translator="ctranslate2", threads=4)).detail == \
        "CTranslate2, 4 threads"
    monkeypatch.setattr(doctor, "_version", lambda dist: None)
    row = doctor.cpu_engine_row(Config(translator="openvino"))
    assert row.ok is False and "pip install openvino" in row.fix


def test_voices_table_lists_the_registry_and_filters_by_language(capsys):
    from yomiage.tts.registry import list_voices

    every = list_voices(Config())
    assert voices.run_voices(Config(), None) == 0
    out = capsys.readouterr().out
    for info in every:
        assert info.voice in out
    assert voices.run_voices(Config(), "ja") == 0
    out = capsys.readouterr().out
    for info in every:
        assert (info.voice in out) == ("ja" in info.languages or "*" in info.languages)
    assert voices.run_voices(Config(), "xx") == 1
    assert "no voice speaks 'xx'" in capsys.readouterr().err


def test_voice_check_follows_the_registry():
    from yomiage.tts.registry import installed_voices

    (row,) = doctor.check_voices(Config(target_lang="ja"))
    assert row.ok is bool(installed_voices(Config(), "ja"))
    if row.ok:
        assert installed_voices(Config(), "ja")[0] in row.detail
    (row,) = doctor.check_voices(Config(target_lang="xx"))
    assert row.ok is False and row.essential and "yomiage voices --lang xx" in row.fix


def test_say_writes_a_wav_through_the_cli(fake_registry, tmp_path, capsys):
    out = tmp_path / "say.wav"
    assert main(["say", "こんにちは", "--lang", "ja", "--out", str(out), "--volume", "0.5"]) == 0
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 22050
    assert audio.size == pytest.approx(0.5 * 22050, abs=3)
    # volume applied once (by the voice), not twice
    assert np.abs(audio).max() == pytest.approx(0.2, abs=0.01)
    assert "wrote" in capsys.readouterr().err


def test_say_errors_are_one_line(fake_registry, monkeypatch, capsys):
    assert say.run_say("   ", Config(out="null"), "ja") == 2
    assert say.run_say("bonjour", Config(out="null"), "fr") == 1
    err = capsys.readouterr().err
    assert "no installed voice speaks 'fr'" in err
    sd = pytest.importorskip("sounddevice")

    def none(*_a, **_k):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", none)
    assert say.run_say("こんにちは", Config(out=None), "ja") == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--out file.wav" in err


def test_say_with_a_real_voice(tmp_path):
    """espeak-ng (the fallback every machine can have) speaking into a WAV."""
    from yomiage.tts.registry import installed_voices

    if "espeak" not in installed_voices(Config(), "en"):
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    out = tmp_path / "espeak.wav"
    cfg = Config(voice="espeak", out=str(out))
    assert say.run_say("Hello there, this is a test.", cfg, "en") == 0
    audio, rate = sf.read(out, dtype="float32")
    assert 0.8 < audio.size / rate < 5.0
    assert np.sqrt(np.mean(audio**2)) > 0.01 and np.abs(audio).max() <= 1.0


def test_models_check_counts_the_cache(tmp_path):
    (row,) = doctor.check_models(Config(cache_dir=str(tmp_path)))
    assert row.ok is None and row.detail.startswith("0 in ")


def test_the_real_doctor_finishes_with_every_row(capsys):
    code = doctor.run_doctor(Config())
    out = capsys.readouterr().out
    for name in ("PortAudio", "espeak-ng", "onnxruntime", "CTranslate2", "models cached"):
        assert name in out
    assert code in (0, 1)
    assert ("essentials work" in out) == (code == 0)


def test_bf16_row_says_which_precision_kokoro_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage.tts.kokoro import split as kokoro_split

    monkeypatch.setattr(doctor, "_version", lambda dist: None)
    assert "float32" in doctor.check_bf16().detail
    monkeypatch.setattr(doctor, "_version", lambda dist: "2026.4.1")
    monkeypatch.setattr(kokoro_split, "bf16_cpu", lambda: True)
    row = doctor.check_bf16()
    assert row.ok and "bfloat16" in row.detail
    monkeypatch.setattr(kokoro_split, "bf16_cpu", lambda: False)
    row = doctor.check_bf16()
    assert row.ok is None and "float32" in row.detail
