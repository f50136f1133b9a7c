"""Real-weight latency of the compact en→ja model next to the random-weight Marian-base
shape, interleaved sentence by sentence in one process (so both see the same load).

Engines: the compact model on CTranslate2 int8 and on OpenVINO (int8 weights), both with
real output lengths and the whole vocabulary; the random-weight Marian-base shape
(FuguMT's: d512, 6+6, 32k) on CTranslate2 int8 with its 16k vocabulary map and output
forced to 1.3 × input tokens (yomiage's bench convention). One thread each.

Usage::

    PYTHONPATH=src python training/latency.py --rounds 3 --out latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yomiage.bench.translate import (
    bench_vmap_dir,
    hardware,
    load_sentences,
    make_engine,
    shape_model,
)
from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.token_engine import DecodeOptions

BUNDLED = Path(__file__).resolve().parent.parent / "src/yomiage/data/models/compact-en-ja"


def _stats(ms: list[float], words: list[int], n_out: list[int]) -> dict[str, float]:
    fifteen = [m for m, w in zip(ms, words, strict=True) if 14 <= w <= 16]
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p50_ms_15_words": round(float(np.median(fifteen)), 1) if fifteen else -1.0,
            "sentences_15_words": len(fifteen),
            "mean_out_tokens": round(float(np.mean(n_out)), 1)}


def main() -> None:
    """Time every engine on every bench sentence, ``--rounds`` times, interleaved."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=BUNDLED)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--also", type=Path, nargs="*", default=[],
                    help="other converted models to time on CTranslate2 int8 (real weights)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/yomiage")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from yomiage.translate.openvino.engine import OVTranslator

    real = DecodeOptions()
    compact_ct2 = CT2Translator(args.model, device="cpu", threads=1, options=real)
    compact_ov = OVTranslator(args.model, threads=1, options=real)
    _, base_dir = shape_model("marian", args.cache)
    base = make_engine(bench_vmap_dir(base_dir, 16000), "cpu", 1, True)
    others = {p.name: CT2Translator(p, device="cpu", threads=1, options=real)
              for p in args.also}
    engines: dict[str, Callable[[str], int]] = {
        "compact ct2 int8 (real weights)":
            lambda s: len(compact_ct2.generate([s], "en", "ja")[0]),
        "compact openvino int8 (real weights)":
            lambda s: len(compact_ov.generate([s], "en", "ja")[0]),
        "marian-base ct2 int8 vmap16k (random weights, real shape, forced 1.3x)":
            lambda s: len(base.generate([s], "en", "ja")[0]),
        **{f"{name} ct2 int8 (real weights)":
           (lambda s, e=e: len(e.generate([s], "en", "ja")[0])) for name, e in others.items()},
    }
    sentences = load_sentences()
    for fn in engines.values():
        fn(sentences[0])  # warm-up
    times: dict[str, list[float]] = {k: [] for k in engines}
    outs: dict[str, list[int]] = {k: [] for k in engines}
    words: list[int] = []
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for s in sentences:
            words.append(len(s.split()))
            for name, fn in engines.items():
                t0 = time.perf_counter()
                n = fn(s)
                times[name].append((time.perf_counter() - t0) * 1000)
                outs[name].append(n)
        load.append(os.getloadavg()[0])
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "hardware": hardware(), "threads": 1, "rounds": args.rounds,
              "sentences": len(sentences), "load_avg_1m": load,
              "results": {k: _stats(times[k], words, outs[k]) for k in engines}}
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
