"""Kokoro-82M on a CPU with bfloat16 matrix units (Intel AMX), through PyTorch.

On such CPUs oneDNN runs bfloat16 convolutions on the AMX tiles about four times faster
than float32 ones, and the iSTFTNet vocoder's audio-rate convolutions are most of
Kokoro's time. So the decoder and vocoder run in bfloat16, while the parts whose numbers
decide timing and pitch stay float32: the ALBERT, duration and F0/energy predictors, the
harmonic source (a phase accumulated over the whole phrase) and the inverse STFT with the
magnitude/phase head. The model is the PyTorch module of kokoro/torch_voice.py with the
package's weights; the harmonic source runs without random noise, as in the ONNX
export, so that a phrase always sounds the same.

Opt-in (``--voice kokoro-cpu``); onnxruntime stays the default. Measured on a 2-core
Sapphire Rapids (bench_voice, 2026-11-25), first-chunk P50 / RTF against onnxruntime in
the same run: voice alone, 2 threads 0.74x / 0.72x, 1 thread 1.08x / 1.18x; beside one
busy core (the translator's situation), 1 thread 0.62x / 0.70x, but 2 threads 7.8x
slower: PyTorch's OpenMP threads wait for each other at every operation. So it runs one
thread per core the translator leaves (1 of 2) unless ``threads`` says otherwise. Load
takes ~8 s (torch import, weights, inductor cache) against onnxruntime's ~1 s.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from yomiage.tts.kokoro.frontend import KokoroFrontend, package_model
from yomiage.tts.kokoro.torch_blocks import SnakeResBlock, StyleInstanceNorm
from yomiage.tts.kokoro.torch_model import Decoder, Generator, KokoroModel
from yomiage.tts.kokoro.torch_voice import KokoroTorchVoice
from yomiage.tts.phrases import PhraseOptions

log = logging.getLogger(__name__)

_CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = _CPUINFO) -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo is absent)."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def has_amx_bf16(cpuinfo: Path = _CPUINFO) -> bool:
    """True when the CPU has AMX tiles with bfloat16 (Intel Sapphire Rapids and later)."""
    return {"amx_bf16", "amx_tile"} <= cpu_flags(cpuinfo)


def to_cpu_precision(model: KokoroModel, dtype: torch.dtype = torch.bfloat16) -> KokoroModel:
    """Cast ``model``'s decoder and vocoder to ``dtype`` in place, keeping the harmonic
    source and the STFT in float32; turn the source's random noise off."""
    model.decoder.to(dtype)
    gen = model.decoder.generator
    gen.m_source.float()
    gen.stft.float()
    gen.m_source.noise = False
    return model.eval()


def norm_snake(
    x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """Instance norm over time with a per-channel ``scale``/``shift``, then the Snake
    activation ``y + sin(alpha y)² / alpha``; computed in float32, returned in x's dtype.

    This is the vocoder's elementwise work (one StyleInstanceNorm and one Snake); compiled
    by inductor it becomes one pass over the activations instead of about ten."""
    xf = x.float()
    mean = xf.mean(-1, keepdim=True)
    centred = xf - mean
    var = centred.pow(2).mean(-1, keepdim=True)
    y = centred * torch.rsqrt(var + 1e-5) * scale.float() + shift.float()
    a = alpha.float()
    return (y + torch.sin(a * y).pow(2) / a).to(x.dtype)


NormSnake = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _affine(n: StyleInstanceNorm, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The (1, C, 1) scale and shift of a StyleInstanceNorm for style ``s``."""
    gamma, beta = n.fc(s).unsqueeze(-1).chunk(2, dim=1)
    w = n.norm.weight.view(1, -1, 1)
    b = n.norm.bias.view(1, -1, 1)
    return w * (1 + gamma), b * (1 + gamma) + beta


def _snake_block(
    block: SnakeResBlock, x: torch.Tensor, s: torch.Tensor, act: NormSnake
) -> torch.Tensor:
    """SnakeResBlock.forward with each norm + Snake done by ``act``."""
    for c1, c2, n1, n2, a1, a2 in zip(
        block.convs1, block.convs2, block.adain1, block.adain2, block.alpha1, block.alpha2,
        strict=True,
    ):
        h = c1(act(x, *_affine(n1, s), a1))
        x = x + c2(act(h, *_affine(n2, s), a2))
    return x


def _generator(
    g: Generator, x: torch.Tensor, s: torch.Tensor, f0: torch.Tensor, act: NormSnake
) -> torch.Tensor:
    """Generator.forward with f0, the source, the STFT and the output head in float32."""
    f0_up = F.interpolate(f0.float().unsqueeze(1), scale_factor=float(g.f0_scale), mode="nearest")
    source = g.m_source(f0_up.transpose(1, 2)).transpose(1, 2).squeeze(1)
    mag, phase = g.stft.transform(source)
    har = torch.cat([mag, phase], dim=1).to(x.dtype)
    last = len(g.ups) - 1
    for i, up in enumerate(g.ups):
        x = F.leaky_relu(x, 0.1)
        src = _snake_block(cast(SnakeResBlock, g.noise_res[i]), g.noise_convs[i](har), s, act)
        x = up(x)
        if i == last:
            x = F.pad(x, (1, 0), mode="reflect")
        x = x + src
        blocks = g.resblocks[i * g.n_kernels : (i + 1) * g.n_kernels]
        acc = _snake_block(cast(SnakeResBlock, blocks[0]), x, s, act)
        for block in blocks[1:]:
            acc.add_(_snake_block(cast(SnakeResBlock, block), x, s, act))
        x = acc.div_(g.n_kernels)
    x = g.conv_post(F.leaky_relu(x, 0.01)).float()
    return g.stft.inverse(torch.exp(x[:, : g.n_mag]), torch.sin(x[:, g.n_mag :]))


def _decode(
    dec: Decoder, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, s: torch.Tensor,
    act: NormSnake,
) -> torch.Tensor:
    """Decoder.forward with its inputs cast to the decoder's dtype (f0 kept float32 for
    the harmonic source)."""
    dtype = dec.F0_conv.weight.dtype
    asr, s = asr.to(dtype), s.to(dtype)
    f0_d = dec.F0_conv(f0.to(dtype).unsqueeze(1))
    n_d = dec.N_conv(n.to(dtype).unsqueeze(1))
    x = dec.encode(torch.cat([asr, f0_d, n_d], dim=1), s)
    res = dec.asr_res(asr)
    for block in dec.decode:  # the last block doubles the frame rate
        x = block(torch.cat([x, res, f0_d, n_d], dim=1), s)
    return _generator(dec.generator, x, s, f0, act)


@torch.inference_mode()
def synthesize(
    model: KokoroModel,
    ids: torch.Tensor,
    style: torch.Tensor,
    speed: float = 1.0,
    max_frames: torch.Tensor | None = None,
    act: NormSnake = norm_snake,
) -> tuple[torch.Tensor, torch.Tensor]:
    """KokoroModel.forward for a model prepared by :func:`to_cpu_precision`: (1, T) ids
    with 0 at both ends, a (1, 256) style and optional (1, T) duration caps →
    float32 (samples,) audio and (T,) frames per token. ``act`` computes the vocoder's
    norm + Snake steps (:func:`norm_snake`, or a compiled copy of it)."""
    half = model.shape.style
    s_pros, s_dec = style[:, half:], style[:, :half]
    bert = model.bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
    d = model.predictor.text_encoder(model.bert_encoder(bert).transpose(1, 2), s_pros)
    dur = model.predictor.durations(d, speed)[0]
    if max_frames is not None:
        dur = torch.minimum(dur, max_frames[0].long())
    frame_of = torch.repeat_interleave(torch.arange(ids.shape[1]), dur)
    align = F.one_hot(frame_of, ids.shape[1]).to(d.dtype).T.unsqueeze(0)  # (1, T, frames)
    f0, n = model.predictor.f0_energy(d.transpose(1, 2) @ align, s_pros)
    asr = model.text_encoder(ids) @ align
    audio = _decode(model.decoder, asr, f0, n, s_dec, act)
    return audio.squeeze(0).float(), dur


class KokoroCpuVoice(KokoroTorchVoice):
    """Kokoro-82M speaking one voice on the CPU through PyTorch in mixed precision
    (the GPU voice's phrases and shaping; its own runner, :func:`synthesize`)."""

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
        super().__init__(model, frontend, voice, speed=speed, volume=volume, phrases=phrases,
                         runner=self._run, mode="cpu")
        self.name = f"kokoro-cpu:{voice}"
        self.act: NormSnake = norm_snake

    def _run(
        self,
        tokens: npt.NDArray[np.int64],
        style: npt.NDArray[np.float32],
        speed: float,
        caps: npt.NDArray[np.float32] | None = None,
    ) -> tuple[npt.NDArray[np.float32], int]:
        cap = torch.from_numpy(caps) if caps is not None else None
        audio, dur = synthesize(
            self.model, torch.from_numpy(tokens), torch.from_numpy(style), speed, cap, self.act,
        )
        return audio.numpy(), int(dur.sum())


def voice_threads() -> int:
    """Threads for the voice: the cores this process may use minus the translator's half."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - cores // 2)


def compiled_norm_snake(cache_dir: Path | None = None) -> NormSnake:
    """:func:`norm_snake` compiled by inductor for any length (needs a C++ compiler; the
    compilation happens at the first two calls, ~13 s the first time on a 2-core CPU and
    ~2 s once cached). Its kernels are cached in ``cache_dir``/inductor unless
    TORCHINDUCTOR_CACHE_DIR says otherwise."""
    if cache_dir is not None:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_dir / "inductor"))
    return cast(NormSnake, torch.compile(norm_snake, dynamic=True))


def load_kokoro_cpu(
    voice: str = "jf_alpha",
    *,
    speed: float = 1.0,
    volume: float = 1.0,
    threads: int = 0,
    cache_dir: Path | None = None,
    onnx_path: Path | None = None,
    dtype: torch.dtype = torch.bfloat16,
    compile: bool = True,
) -> KokoroCpuVoice:
    """A warmed KokoroCpuVoice with the package-shipped Japanese weights and voices.

    ``threads`` > 0 sets PyTorch's intra-op threads (process-wide); 0 = the cores the
    translator leaves (half, rounded up: 1 of 2; see the module notes for why). The first
    load reads the weights off the ONNX file and caches them in ``cache_dir`` (as the GPU
    engine does). ``compile``: fuse the vocoder's elementwise steps with inductor
    (:func:`compiled_norm_snake`); where that fails (no C++ compiler), the same steps run
    eagerly, slower, with a warning.
    """
    from yomiage.tts.kokoro.torch_voice import load_model

    started = time.perf_counter()
    if dtype == torch.bfloat16 and not has_amx_bf16():
        log.warning("this CPU has no AMX bfloat16 tiles: Kokoro on PyTorch bfloat16 will be "
                    "slow; the default voice (kokoro, onnxruntime) suits it better")
    torch.set_num_threads(threads if threads > 0 else voice_threads())
    model = to_cpu_precision(
        load_model(onnx_path or package_model(), torch.device("cpu"), cache_dir), dtype
    )
    engine = KokoroCpuVoice(
        model, KokoroFrontend.from_package(), voice, speed=speed, volume=volume
    )
    if compile:
        engine.act = compiled_norm_snake(cache_dir)
        try:  # two lengths: inductor specialises the first call, then generalises
            for phrase in ("こんにちは、", "今日はいい天気ですね。"):
                engine.synthesize_phrase(phrase)  # not stream(): it would log and go on
        except Exception as exc:  # inductor fails in many ways (no compiler, headers, …)
            log.warning("could not compile Kokoro's vocoder steps (%s); running them eagerly",
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            engine.act = norm_snake
    engine.warmup()
    log.info("Kokoro (PyTorch CPU, %s, %d threads%s) ready in %.1f s", dtype,
             torch.get_num_threads(), ", compiled" if engine.act is not norm_snake else "",
             time.perf_counter() - started)
    return engine
