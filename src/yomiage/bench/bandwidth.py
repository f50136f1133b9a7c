"""Memory-bandwidth bound of a decoder step on the CPU: weight bytes read per step, and
the rate this machine streams them from memory with a given number of threads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from yomiage.bench.random_models import Shape


def copy_bandwidth(megabytes: int = 512, repeats: int = 5) -> float:
    """Memory bandwidth in GB/s from a numpy copy (bytes read + written, best of N)."""
    src = np.ones(megabytes * 1024 * 1024, dtype=np.uint8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - started)
    return 2 * src.nbytes / best / 1e9


def read_bandwidth(threads: int = 1, megabytes: int = 256, repeats: int = 3) -> float:
    """GB/s that ``threads`` readers stream from memory together (best of N).

    A decoder step only reads its weights, so this (not a copy, half of whose bytes are
    writes) is the rate that bounds it. Each reader scans its share of one buffer with
    numpy's max reduction, which releases the GIL, so the readers run in parallel.
    """
    buf = np.ones(megabytes * 1024 * 1024 // 8, dtype=np.uint64)
    parts = np.array_split(buf, max(1, threads))
    best = float("inf")
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(np.max, parts))
            best = min(best, time.perf_counter() - started)
    return buf.nbytes / best / 1e9


def step_weight_bytes(shape: Shape, vocab_rows: int, bytes_per_weight: float = 1.0) -> int:
    """Bytes of weights one decoder step reads: decoder layers (self-attention q,k,v,o;
    cross-attention q,o; feed-forward) and the output projection rows scored."""
    d, f = shape.d_model, shape.ffn
    per_layer = 4 * d * d + 2 * d * d + 2 * d * f
    return int((shape.decoder_layers * per_layer + vocab_rows * d) * bytes_per_weight)


def bounds(spec: Shape, variants: dict[str, tuple[int, int, dict[str, float]]],
           reads: dict[int, list[float]], copies: list[float]) -> dict[str, Any]:
    """Each variant's memory-bandwidth bound and how far its decoder step is from it.

    ``variants`` maps a name to (threads, output rows scored, measured step times with keys
    ``median_ms`` and ``best_ms``); ``reads`` maps a thread count to read-bandwidth samples
    (GB/s) and ``copies`` holds copy-bandwidth samples, reported for reference. The bound is
    the int8 weight bytes of one step over the best read bandwidth measured with as many
    readers as the variant has threads: what its threads could stream at best.
    """
    band: dict[str, Any] = {
        "read_gb_s_best": {str(t): round(max(v), 2) for t, v in reads.items()},
        "read_gb_s_median": {str(t): round(float(np.median(v)), 2) for t, v in reads.items()},
        "copy_gb_s_best": round(max(copies), 2),
        "copy_gb_s_median": round(float(np.median(copies)), 2),
        "note": "bound = int8 weight bytes per step / best read bandwidth at the variant's "
                "threads; copy_bound = the same bytes / best copy bandwidth (read + write "
                "bytes of one numpy copy), the issue's definition",
    }
    for name, (threads, rows, step) in variants.items():
        nbytes = step_weight_bytes(spec, rows)
        bound_ms = nbytes / max(reads[threads]) / 1e6
        copy_bound_ms = nbytes / max(copies) / 1e6
        band[name] = {"threads": threads, "weight_bytes_per_step": nbytes,
                      "bound_ms": round(bound_ms, 3), "step_ms": step,
                      "step_over_bound": round(step["median_ms"] / bound_ms, 2),
                      "best_step_over_bound": round(step["best_ms"] / bound_ms, 2),
                      "copy_bound_ms": round(copy_bound_ms, 3),
                      "step_over_copy_bound": round(step["median_ms"] / copy_bound_ms, 2)}
    return band
