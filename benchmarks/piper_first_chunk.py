"""Where Piper's first chunk goes: phonemes, encoder, first window, for the new and old paths.

Times the first phrase of each English benchmark sentence, the two paths interleaved
sentence by sentence: ``new`` (resident espeak-ng, graph cut before flow and decoder,
first window of FIRST_FRAMES) and ``old`` (one espeak-ng program per clause, the whole
graph at once). Run it under the shared lock:

    flock /tmp/yomiage-bench.lock .venv/bin/python benchmarks/piper_first_chunk.py -n 30
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from yomiage.bench.voice import hardware, load_sentences
from yomiage.tts.phrases import split_phrases
from yomiage.tts.piper.voice import FIRST_FRAMES, WINDOW_GROWTH, PiperVoice, package_voice_files


def _ms(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values) * 1e3
    return {"p50_ms": round(float(np.percentile(arr, 50)), 1),
            "p95_ms": round(float(np.percentile(arr, 95)), 1)}


def main() -> None:
    """Print one JSON object: per-stage P50/P95 of both paths and their ratio."""
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    model, config = package_voice_files()
    new = PiperVoice(model, config, threads=args.threads)
    old = PiperVoice(model, config, threads=args.threads, streaming=False)
    assert new.split is not None
    new.warmup()
    old.warmup()
    t: dict[str, list[float]] = {k: [] for k in (
        "new_phonemes", "new_encoder", "new_first_window", "new_first_chunk",
        "old_phonemes", "old_graph", "old_first_chunk")}
    load = os.getloadavg()
    for text in load_sentences("en")[: args.n]:
        phrase = split_phrases(text, new.phrase_options)[0]
        t0 = time.perf_counter()
        feed = new._feed(phrase)
        t1 = time.perf_counter()
        assert feed is not None
        latent = new.split.encode(feed)
        t2 = time.perf_counter()
        spans = new.split.windows(new.split.frames(latent), FIRST_FRAMES, WINDOW_GROWTH)
        next(new.split.decode(latent, spans))
        t3 = time.perf_counter()
        t["new_phonemes"].append(t1 - t0)
        t["new_encoder"].append(t2 - t1)
        t["new_first_window"].append(t3 - t2)
        t["new_first_chunk"].append(t3 - t0)
        t0 = time.perf_counter()
        feed = old._feed(phrase)
        t1 = time.perf_counter()
        old.session.run(None, feed)
        t2 = time.perf_counter()
        t["old_phonemes"].append(t1 - t0)
        t["old_graph"].append(t2 - t1)
        t["old_first_chunk"].append(t2 - t0)
    res = {k: _ms(v) for k, v in t.items()}
    res["ratio_first_chunk_p50"] = round(
        res["old_first_chunk"]["p50_ms"] / res["new_first_chunk"]["p50_ms"], 2)
    print(json.dumps({"hardware": hardware(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                    time.gmtime()),
                      "load_avg": [round(x, 2) for x in load], "phrases": len(t["new_encoder"]),
                      **res}, indent=1))


if __name__ == "__main__":
    main()
