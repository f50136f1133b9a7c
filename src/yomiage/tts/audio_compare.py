"""Listen-free comparison of two renderings of the same speech: log-mel spectral distance.

Used to show that a faster engine says the same thing the same way as the current one
(benchmarks/kokoro_cpu_equivalence.py), with the threshold set from what an accepted
change (the int8 → float32 model) already moved.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


@functools.lru_cache(maxsize=4)
def mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> npt.NDArray[np.float64]:
    """(n_mels, n_fft // 2 + 1) triangular filters on the HTK mel scale, 0 Hz to Nyquist."""
    def mel(f: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)

    edges_mel = np.linspace(mel(0.0), mel(sample_rate / 2), n_mels + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - freqs[None, :]) / np.maximum(hi - mid, 1e-9)
    return np.clip(np.minimum(up, down), 0.0, None)


def log_mel(
    samples: npt.ArrayLike, sample_rate: int = 24000, *, n_fft: int = 1024, hop: int = 256,
    n_mels: int = 80, floor_db: float = -80.0,
) -> npt.NDArray[np.float64]:
    """(frames, n_mels) log-mel power in dB, floored ``floor_db`` below full scale."""
    x = np.asarray(samples, np.float64).ravel()
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    n = 1 + (x.size - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(n_fft + 1)[:-1]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel_power = power @ mel_filters(sample_rate, n_fft, n_mels).T
    return np.maximum(10.0 * np.log10(mel_power + 1e-12), floor_db)


def log_mel_distance(a: npt.ArrayLike, b: npt.ArrayLike, sample_rate: int = 24000) -> float:
    """Mean absolute log-mel difference in dB over the frames both renderings have
    (0 = identical; the longer one is cut to the shorter)."""
    ma, mb = _common_frames(a, b, sample_rate)
    return float(np.mean(np.abs(ma - mb)))


def loud_log_mel_distance(a: npt.ArrayLike, b: npt.ArrayLike, sample_rate: int = 24000,
                          within_db: float = 30.0) -> float:
    """:func:`log_mel_distance` over the frames where ``a`` is within ``within_db`` of its
    loudest frame: what a listener hears, without the near-silence that phrase shaping
    trims (where dB differences of inaudible levels are large)."""
    ma, mb = _common_frames(a, b, sample_rate)
    loud = ma.max(axis=1) > ma.max() - within_db
    return float(np.mean(np.abs(ma[loud] - mb[loud]))) if loud.any() else 0.0


def _common_frames(a: npt.ArrayLike, b: npt.ArrayLike, sample_rate: int
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The log-mel frames of ``a`` and ``b``, the longer cut to the shorter."""
    ma, mb = log_mel(a, sample_rate), log_mel(b, sample_rate)
    n = min(len(ma), len(mb))
    return ma[:n], mb[:n]
