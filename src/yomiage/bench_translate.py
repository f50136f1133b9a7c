"""Translation benchmark: our CTranslate2 path against Transformers `generate`, same shape.

Models are of the real architecture with random weights (built once, cached under
``<cache_dir>/bench-models``); every figure is labelled "random weights, real shape".
Output length is forced to input length × ``RATIO`` so random weights neither stop at
once nor run on. Run: ``python -m yomiage.bench_translate --shape nllb-600m``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import platform
import statistics
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yomiage.config import load_config
from yomiage.translate.ct2_engine import CT2Translator, DecodeOptions
from yomiage.translate.random_models import SHAPES, Shape, build_model
from yomiage.translate.tokenizer import read_vocabulary
from yomiage.translate.vmap import VMAP_FILE, VMAP_LANG_FILE

log = logging.getLogger(__name__)

LABEL = "random weights, real shape"
RATIO = 1.3  # Japanese output tokens per English input token, roughly
# Assumed sizes of a Japanese-script vocabulary map (random models have no real vocabulary):
# NLLB/M2M ~32k of 256k/128k tokens; a shared en+ja Marian vocabulary ~half its 32k.
VMAP_SIZE = {"nllb": 32768, "m2m": 32768, "marian": 16000}
SPM_VOCAB = 850  # BPE: ~1.3 tokens per English word on the bench sentences, like NLLB's


def load_sentences() -> list[str]:
    """The fixed ~50 English sentences from coding sessions (5–40 words)."""
    text = resources.files("yomiage").joinpath("data/bench_sentences_en.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def hardware() -> str:
    """CPU model name (from /proc/cpuinfo) and core count."""
    name = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from yomiage.translate.ct2_engine import default_threads

    return f"{name}, {default_threads()} cores"


def shape_model(shape: str, cache_dir: Path) -> tuple[Path, Path]:
    """(Transformers dir, CTranslate2 dir) of the random model of ``shape``, built once."""
    root = cache_dir / "bench-models" / shape
    hf, ct2 = root / "hf", root / "ct2"
    if (ct2 / "model.bin").is_file() and (hf / "config.json").is_file():
        return hf, ct2
    log.warning("building random-weight %s model (once; may take minutes)", shape)
    return build_model(shape, load_sentences(), root, spm_vocab=SPM_VOCAB, bpe=True)


def _write_bench_vmap(ct2: Path, size: int) -> int:
    """A vmap.txt allowing the first ``size`` tokens (stand-in for a Japanese map)."""
    vocab = read_vocabulary(ct2)
    keep = vocab[:size]
    (ct2 / VMAP_FILE).write_text("\t" + " ".join(keep) + "\n", encoding="utf-8")
    (ct2 / VMAP_LANG_FILE).write_text("ja\n")
    return len(keep)


def percentiles(values: list[float]) -> dict[str, float]:
    """P50 and P95 (milliseconds in, milliseconds out), rounded."""
    arr = np.asarray(values)
    return {"p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2)}


def _summary(times: list[float], n_out: list[int], words: list[int]) -> dict[str, Any]:
    ms = [t * 1000 for t in times]
    per_tok = [m / max(1, n) for m, n in zip(ms, n_out, strict=True)]
    slope = float(np.polyfit(n_out, ms, 1)[0]) if len(set(n_out)) > 1 else float("nan")
    out: dict[str, Any] = {"sentences": len(ms), **percentiles(ms),
                           "per_token": percentiles(per_tok),
                           "step_ms": round(slope, 3),
                           "mean_out_tokens": round(statistics.mean(n_out), 1)}
    fifteen = [m for m, w in zip(ms, words, strict=True) if 14 <= w <= 16]
    if fifteen:
        out["p50_ms_15_words"] = round(float(np.median(fifteen)), 2)
    return out


def run_ct2(ct2: Path, sentences: list[str], device: str, threads: int,
            vmap: bool) -> tuple[dict[str, Any], list[int], dict[str, Any]]:
    """Time our engine per sentence; returns summary, output lengths and engine info."""
    engine = CT2Translator(ct2, name=ct2.parent.name, device=device, threads=threads,
                           options=DecodeOptions(forced_ratio=RATIO, use_vmap=vmap),
                           vmap_target="ja" if vmap else None)
    started = time.perf_counter()
    engine.generate([sentences[0]], "en", "ja")
    cold = time.perf_counter() - started
    engine.warmup()
    times, n_out, words = [], [], []
    prefix = 1 if engine.family != "marian" else 0
    for text in sentences:
        started = time.perf_counter()
        tokens = engine.generate([text], "en", "ja")[0]
        times.append(time.perf_counter() - started)
        n_out.append(len(tokens) - prefix)
        words.append(len(text.split()))
    summary = _summary(times, n_out, words)
    summary["first_call_cold_ms"] = round(cold * 1000, 1)
    return summary, n_out, engine.describe()


def run_levers(ct2: Path, sentences: list[str], threads: int) -> dict[str, Any]:
    """Cost of the guard (language check + protection) and of a cache hit, per sentence."""
    from yomiage.translate.cache import CachedTranslator
    from yomiage.translate.guard import GuardedTranslator
    from yomiage.translate.languages import is_in_language
    from yomiage.translate.protect import protect

    started = time.perf_counter()
    for text in sentences:
        is_in_language(protect(text).text, "ja", "en")
    guard_ms = (time.perf_counter() - started) * 1000 / len(sentences)
    engine = CT2Translator(ct2, threads=threads, options=DecodeOptions(forced_ratio=RATIO))
    translator = CachedTranslator(GuardedTranslator(engine))
    few = sentences[:5]
    for text in few:
        translator.translate(text, "en", "ja")
    hits = []
    for text in few:
        started = time.perf_counter()
        translator.translate(text, "en", "ja")
        hits.append((time.perf_counter() - started) * 1000)
    return {"guard_ms_per_sentence": round(guard_ms, 3),
            "cache_hit_ms_p50": round(float(np.median(hits)), 4)}


def run_transformers(hf: Path, ct2: Path, shape: Shape, sentences: list[str], n_out: list[int],
                     device: str, threads: int) -> dict[str, Any]:
    """Time Transformers greedy `generate` (fp32) on the same inputs and output lengths."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    from yomiage.translate.tokenizer import SpmTokenizer

    torch.set_num_threads(threads)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(hf)).eval().to(device)
    tok = SpmTokenizer.load(ct2)
    index = {t: i for i, t in enumerate(read_vocabulary(ct2))}
    forced = {} if shape.family == "marian" \
        else {"forced_bos_token_id": index[tok.lang_token("ja") or ""]}
    extra = 0 if shape.family == "marian" else 1
    times, words = [], []
    with torch.inference_mode():
        for i, (text, n) in enumerate(zip(sentences, n_out, strict=True)):
            ids = torch.tensor([[index.get(t, 1) for t in tok.encode(text, "en", "ja")]],
                               device=device)
            kwargs = dict(num_beams=1, do_sample=False, min_new_tokens=n + extra,
                          max_new_tokens=n + extra, **forced)
            if i == 0:  # warm-up, like ours
                model.generate(ids, **kwargs)
            started = time.perf_counter()
            model.generate(ids, **kwargs)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
            words.append(len(text.split()))
    return _summary(times, n_out, words)


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


def step_weight_bytes(shape: Shape, vocab_rows: int, bytes_per_weight: float = 1.0) -> int:
    """Bytes of weights one decoder step reads: decoder layers (self-attention q,k,v,o;
    cross-attention q,o; feed-forward) and the output projection rows scored."""
    d, f = shape.d_model, shape.ffn
    per_layer = 4 * d * d + 2 * d * d + 2 * d * f
    return int((shape.decoder_layers * per_layer + vocab_rows * d) * bytes_per_weight)


def bench_translate(shape: str, device: str = "cpu", n: int = 50, baseline: bool = True,
                    *, threads: int = 0, baseline_n: int = 20) -> dict[str, Any]:
    """Run the benchmark for one model shape; returns a JSON-ready dict of figures.

    ``n`` ≤ 0 means every bench sentence; ``device`` may be auto, cpu or cuda.
    """
    cfg = load_config({})
    spec = SHAPES[shape]
    hf, ct2 = shape_model(shape, Path(cfg.cache_dir))
    sentences = load_sentences()[:n] if n > 0 else load_sentences()
    from yomiage.translate.ct2_engine import default_threads, pick_device

    if device == "auto":
        device = pick_device("auto")

    threads = threads or default_threads()
    result: dict[str, Any] = {
        "label": LABEL, "shape": shape, "device": device, "hardware": hardware(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": threads, "length_ratio": RATIO,
    }
    full, n_out, info = run_ct2(ct2, sentences, device, threads, vmap=False)
    result["engine"] = info
    result["ctranslate2"] = full
    vocab_rows = len(read_vocabulary(ct2))
    vmap_rows = _write_bench_vmap(ct2, VMAP_SIZE[spec.family])
    result["ctranslate2_vmap"], _, _ = run_ct2(ct2, sentences, device, threads, vmap=True)
    result["ctranslate2_vmap"]["vmap_tokens"] = vmap_rows
    result["ctranslate2_vmap"]["vmap_note"] = "assumed size of a Japanese-script map"
    one, _, _ = run_ct2(ct2, sentences[:20], device, 1, vmap=True)
    result["ctranslate2_vmap_1_thread"] = one
    result["levers"] = run_levers(ct2, sentences, threads)
    if baseline:
        k = min(baseline_n, len(sentences))
        base = run_transformers(hf, ct2, spec, sentences[:k], n_out[:k], device, threads)
        result["transformers"] = base
        ours, _, _ = run_ct2(ct2, sentences[:k], device, threads, vmap=True)
        result["ours_on_baseline_sentences"] = ours
        result["speedup_p50"] = round(base["p50_ms"] / ours["p50_ms"], 2)
        result["speedup_p95"] = round(base["p95_ms"] / ours["p95_ms"], 2)
    if device == "cpu":
        bw = copy_bandwidth()
        best = result["ctranslate2_vmap"]
        for key, nrows in (("full_vocab", vocab_rows), ("vmap", vmap_rows)):
            nbytes = step_weight_bytes(spec, nrows)
            result.setdefault("bandwidth", {})[key] = {
                "weight_bytes_per_step": nbytes, "bound_ms": round(nbytes / bw / 1e6, 3)}
        result["bandwidth"]["copy_gb_s"] = round(bw, 2)
        bound = result["bandwidth"]["vmap"]
        result["bandwidth"]["measured_step_ms"] = best["step_ms"]
        result["bandwidth"]["step_over_bound"] = round(best["step_ms"] / bound["bound_ms"], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m yomiage.bench_translate`: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", default="marian", choices=sorted(s for s in SHAPES
                                                                    if not s.startswith("tiny")))
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--baseline-n", type=int, default=20)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s")
    result = bench_translate(args.shape, args.device, args.n, args.baseline,
                             threads=args.threads, baseline_n=args.baseline_n)
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
