"""Does Kokoro on PyTorch/bfloat16 (kokoro/cpu_voice.py) sound like the onnxruntime engine?

Listen-free: for every phrase of the Japanese benchmark sentences, the raw audio of each
engine is compared by log-mel distance (dB, audio_compare.py) and by length (25 ms
frames). Reference pairs say how much an accepted change already moved the audio:
the shipped int8 model vs our float32 copy (both without duration caps, as int8 has none),
and a second run of the current engine (onnxruntime is deterministic: 0 dB).

    python benchmarks/kokoro_cpu_equivalence.py [-n 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import torch

from yomiage.bench.voice import hardware, load_sentences
from yomiage.config import load_config
from yomiage.tts.audio_compare import log_mel_distance
from yomiage.tts.kokoro.cpu_voice import KokoroCpuVoice, compiled_norm_snake, to_cpu_precision
from yomiage.tts.kokoro.frontend import KokoroFrontend, package_model
from yomiage.tts.kokoro.onnx_voice import load_kokoro
from yomiage.tts.kokoro.torch_voice import load_model
from yomiage.tts.phrases import split_phrases

Render = Callable[[str], np.ndarray]


def _stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"mean": round(float(a.mean()), 2), "p50": round(float(np.median(a)), 2),
            "p95": round(float(np.percentile(a, 95)), 2), "max": round(float(a.max()), 2)}


def compare(a: list[np.ndarray], b: list[np.ndarray]) -> dict[str, object]:
    """Log-mel distance (dB) and length difference (frames) of ``a`` vs ``b``, phrase by
    phrase."""
    dist, frames = [], []
    for x, y in zip(a, b, strict=True):
        dist.append(log_mel_distance(x, y))
        frames.append(abs(len(x) - len(y)) / 600)
    return {"log_mel_db": _stats(dist), "length_diff_frames": _stats(frames)}


def main(argv: list[str] | None = None) -> int:
    """Print the distances of each pair (table or --json)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30, help="sentences (0 = all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cfg = load_config({})
    sentences = load_sentences("ja")
    sentences = sentences[: args.n] if args.n > 0 else sentences
    phrases = [p for s in sentences for p in split_phrases(s)]
    torch.set_num_threads(1)  # robust when other processes share the cores (kokoro/cpu_voice.py)

    ort = load_kokoro(cfg, "ja")
    ort_nocap = load_kokoro(cfg, "ja")
    ort_nocap.edge_frames = ort_nocap.final_frames = 1e4
    int8 = load_kokoro(cfg, "ja", precision="int8")
    fe = KokoroFrontend.from_package()
    cache = cfg.cache_dir and __import__("pathlib").Path(cfg.cache_dir).expanduser() / "voices"

    def torch_voice(dtype: torch.dtype) -> KokoroCpuVoice:
        model = load_model(package_model(), torch.device("cpu"), cache)
        return KokoroCpuVoice(to_cpu_precision(model, dtype), fe, "jf_alpha")

    bf16, fp32 = torch_voice(torch.bfloat16), torch_voice(torch.float32)
    bf16.act = compiled_norm_snake(cache)  # as users get it (falls back to eager without g++)
    engines: dict[str, Render] = {
        "ort": ort.synthesize_phrase, "ort-nocap": ort_nocap.synthesize_phrase,
        "int8": int8.synthesize_phrase, "bf16": bf16.synthesize_phrase,
        "fp32": fp32.synthesize_phrase,
    }
    audio = {k: [f(p) for p in phrases] for k, f in engines.items()}
    audio["ort-again"] = [ort.synthesize_phrase(p) for p in phrases]
    pairs = {
        "reference: onnxruntime twice": ("ort-again", "ort"),
        "reference: int8 vs float32 onnx (no caps)": ("int8", "ort-nocap"),
        "torch float32 vs onnxruntime": ("fp32", "ort"),
        "torch bf16 vs onnxruntime": ("bf16", "ort"),
        "torch bf16 vs torch float32": ("bf16", "fp32"),
    }
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = {"hardware": hardware(), "date": date,
           "phrases": len(phrases),
           "pairs": {k: compare(audio[a], audio[b]) for k, (a, b) in pairs.items()}}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{out['hardware']} — {out['date']} — {len(phrases)} phrases")
    print(f"{'pair':<44}{'log-mel dB mean':>16}{'p95':>7}{'max':>7}{'Δlen fr p50':>12}{'max':>6}")
    for k, r in out["pairs"].items():  # type: ignore[union-attr]
        d, f = r["log_mel_db"], r["length_diff_frames"]
        print(f"{k:<44}{d['mean']:>16.2f}{d['p95']:>7.2f}{d['max']:>7.2f}{f['p50']:>12.1f}{f['max']:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
