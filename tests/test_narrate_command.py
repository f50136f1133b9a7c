"""The narrate command, its engines and output around fake engines: output choice, degrading,
narrating a file to WAV."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import pytest

import yomiage.commands.narrate as narrator
from test_pipeline import FakeTranslator, FakeVoice
from yomiage.commands.narrate import run_narrate
from yomiage.config import Config
from yomiage.models.spec import ModelNotAvailable
from yomiage.narrate import engines as engines_mod
from yomiage.narrate.engines import EngineError, Engines, load_engines
from yomiage.narrate.output import DEMO_FALLBACK_WAV, open_output

SAMPLE = narrator.sample_session_path()


@pytest.fixture
def fake_engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    engines = Engines(FakeTranslator(), FakeVoice(chunks=1, chunk_s=0.05), 0.5, "ja")
    monkeypatch.setattr(narrator, "load_engines", lambda cfg, degrade=False: engines)
    return engines


def test_narrate_a_file_to_wav_with_timeline(tmp_path: Path, fake_engines: Engines,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out, tl = tmp_path / "n.wav", tmp_path / "t.jsonl"
    cfg = Config(out=str(out), timeline=str(tl))
    assert run_narrate(str(SAMPLE), cfg, quiet=False) == 0
    voice = fake_engines.voice
    assert isinstance(voice, FakeVoice)
    assert len(voice.texts) >= 10  # the demo session speaks 10–15 sentences
    assert voice.texts[0].startswith("I'LL LOOK AT THE FAILING TEST FIRST")
    with wave.open(str(out)) as w:
        assert w.getnframes() == len(voice.texts) * int(0.05 * 16000)
    assert len(tl.read_text().splitlines()) == len(voice.texts)
    err = capsys.readouterr().err
    assert f"spoken {len(voice.texts)} sentences" in err and "P50" in err


def test_narrate_missing_file_is_one_line_and_exit_2(caplog: pytest.LogCaptureFixture) -> None:
    assert run_narrate("/nonexistent/x.ndjson", Config(out="null"), quiet=True) == 2
    assert any("cannot read" in r.getMessage() for r in caplog.records)


def test_demo_without_audio_device_writes_a_wav(tmp_path: Path, fake_engines: Engines,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage.audio import NoAudioDevice

    monkeypatch.chdir(tmp_path)
    import yomiage.audio as audio

    real_open = audio.open_sink

    def no_speakers(out: str | None, rate: int, volume: float = 1.0) -> object:
        if out is None:
            raise NoAudioDevice("no audio output device")
        return real_open(out, rate, volume)

    monkeypatch.setattr(audio, "open_sink", no_speakers)
    assert narrator.run_demo(Config(), quiet=True, paced=False) == 0
    with wave.open(str(tmp_path / DEMO_FALLBACK_WAV)) as w:
        assert w.getnframes() > 0


def test_narrate_without_audio_device_suggests_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import yomiage.audio as audio
    from yomiage.audio import NoAudioDevice

    def no_speakers(out: str | None, rate: int, volume: float = 1.0) -> object:
        raise NoAudioDevice("no audio output device")

    monkeypatch.setattr(audio, "open_sink", no_speakers)
    with pytest.raises(EngineError, match="--out"):
        open_output(Config(), 24000)


def test_missing_model_degrades_to_the_original_language(monkeypatch: pytest.MonkeyPatch) -> None:
    import yomiage.translate as translate
    import yomiage.tts  # noqa: F401

    def no_model(cfg: Config, **kw: object) -> object:
        raise ModelNotAvailable("opus-mt-en-jap", "yomiage models fetch opus-mt-en-jap")

    loaded: list[str] = []

    def voice_for(cfg: Config, lang: str, **kw: object) -> FakeVoice:
        loaded.append(lang)
        v = FakeVoice()
        v.name = f"fake-{lang}"
        return v

    monkeypatch.setattr(translate, "load_translator", no_model)
    monkeypatch.setattr(engines_mod, "load_warm_voice", voice_for)
    with pytest.raises(EngineError, match="yomiage models fetch"):
        load_engines(Config())
    engines = load_engines(Config(), degrade=True)
    assert engines.target_lang == "en" and engines.voice.name == "fake-en"
    assert engines.translator.translate("Hello.", "en", "ja") == "Hello."
    assert engines.notes == [
        "no en→ja translation model is installed (fetch one with `yomiage models fetch "
        "opus-mt-en-jap`): speaking the original English with fake-en"]
    assert "en" in loaded


def test_voice_warms_up_only_while_no_speech_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    import yomiage.tts.registry as registry

    class CountingVoice(FakeVoice):
        warmups = 0

        def warmup(self) -> None:
            CountingVoice.warmups += 1

    monkeypatch.setattr(registry, "load_voice", lambda cfg, lang: CountingVoice())
    asked: list[bool] = []

    def busy() -> bool:
        asked.append(True)
        return False

    engines_mod.load_warm_voice(Config(), "ja", warm=busy)
    assert asked == [True] and CountingVoice.warmups == 0
    engines_mod.load_warm_voice(Config(), "ja", warm=lambda: True)
    engines_mod.load_warm_voice(Config(), "ja")
    assert CountingVoice.warmups == 2


def test_degraded_run_speaks_untranslated_text(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from yomiage.translate.guard import PassthroughTranslator

    voice = FakeVoice(chunks=1)
    engines = Engines(PassthroughTranslator(), voice, 0.1, "en", ["degraded"])
    monkeypatch.setattr(narrator, "load_engines", lambda cfg, degrade=False: engines)
    cfg = replace(Config(), out=str(tmp_path / "d.wav"))
    assert narrator.run_demo(cfg, quiet=True, paced=False) == 0
    assert voice.texts[0] == ("I'll look at the failing test first.")


def test_translator_none_speaks_the_original_with_a_source_language_voice() -> None:
    """`--translator none` speaks the text as written, so the voice is the source's."""
    engines = load_engines(Config(translator="none", voice="espeak", target_lang="ja"))
    assert engines.target_lang == "en"
    assert engines.voice.language.startswith("en")
    assert engines.translator.translate("Hello there.", "en", "en") == "Hello there."


def test_narrate_from_a_terminal_explains_instead_of_waiting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import io
    import sys

    class Tty(io.BytesIO):
        def isatty(self) -> bool:
            return True

    fake = io.TextIOWrapper(Tty())
    monkeypatch.setattr(sys, "stdin", fake)
    assert run_narrate("-", Config(), quiet=True) == 2
    assert "stream-json" in caplog.text and "yomiage demo" in caplog.text
