"""Translation benchmark: our CTranslate2 path against Transformers `generate`, same shape.

Models are of the real architecture with random weights (built once, cached under
``<cache_dir>/bench-models``); every figure is labelled "random weights, real shape".
Output length is forced to input length × ``RATIO`` so random weights neither stop at
once nor run on. Run: ``yomiage bench --stage translate --baseline --shape nllb-600m``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yomiage.bench.bandwidth import bounds, copy_bandwidth, read_bandwidth
from yomiage.bench.main import hardware
from yomiage.bench.random_models import SHAPES, Shape, build_model
from yomiage.config import load_config
from yomiage.translate.tokenizer import read_vocabulary
from yomiage.translate.vmap import VMAP_FILE, VMAP_LANG_FILE, vmap_marker

if TYPE_CHECKING:
    from yomiage.translate.token_engine import TokenEngine

log = logging.getLogger(__name__)


def quiet_openmp() -> None:
    """Make OpenMP threads sleep rather than spin while idle (unless the user chose).

    Spin-waiting threads make PyTorch 10-15x slower on a loaded 2-core machine (measured:
    Marian-shape `generate` 4-7 s → 0.35 s per sentence with PASSIVE), which would flatter
    our ratio; CTranslate2 showed no clear difference. Works only before ctranslate2 and
    torch are first imported, so this module imports them lazily.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


def shape_model(shape: str, cache_dir: Path) -> tuple[Path, Path]:
    """(Transformers dir, CTranslate2 dir) of the random model of ``shape``, built once."""
    root = cache_dir / "bench-models" / shape
    hf, ct2 = root / "hf", root / "ct2"
    if (ct2 / "model.bin").is_file() and (hf / "config.json").is_file():
        return hf, ct2
    log.warning("building random-weight %s model (once; may take minutes)", shape)
    return build_model(shape, load_sentences(), root, spm_vocab=SPM_VOCAB, bpe=True)


def _write_bench_vmap(ct2: Path, size: int, vocab_dir: Path | None = None) -> int:
    """A vmap.txt in ``ct2`` allowing the first ``size`` tokens of ``vocab_dir``'s (default
    ``ct2``'s) vocabulary, marked as a map into Japanese (a stand-in for a real one);
    rewritten atomically, and only when it changes."""
    keep = read_vocabulary(vocab_dir or ct2)[:size]
    lines = "\t" + " ".join(keep) + "\n"
    path = ct2 / VMAP_FILE
    if not path.is_file() or path.read_text("utf-8") != lines:
        tmp = ct2 / f".{VMAP_FILE}.{os.getpid()}.tmp"
        tmp.write_text(lines, encoding="utf-8")
        os.replace(tmp, path)
    (ct2 / VMAP_LANG_FILE).write_text(vmap_marker("ja"))
    return len(keep)


def bench_vmap_dir(ct2: Path, size: int) -> Path:
    """A sibling of ``ct2`` (links to its files) whose vocabulary map keeps ``size``
    tokens, marked as a map into Japanese; the shared model directory is not touched."""
    other = ct2.parent / f"ct2-vmap{size}"
    other.mkdir(exist_ok=True)
    for path in ct2.iterdir():
        link = other / path.name
        if not path.name.startswith("vmap") and not link.exists():
            link.symlink_to(path.resolve())
    _write_bench_vmap(other, size, ct2)
    return other


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


def make_engine(ct2: Path, device: str, threads: int, vmap: bool,
                kind: str = "ctranslate2") -> TokenEngine:
    """One of our engines (``kind``: ctranslate2 or openvino) with forced output length,
    with or without the vocabulary map."""
    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.token_engine import DecodeOptions

    options = DecodeOptions(forced_ratio=RATIO, use_vmap=vmap)
    if kind == "openvino":
        from yomiage.translate.openvino.engine import OVTranslator

        return OVTranslator(ct2, name=ct2.parent.name, threads=threads, options=options)
    return CT2Translator(ct2, name=ct2.parent.name, device=device, threads=threads,
                         options=options, vmap_target="ja" if vmap else None)


def time_ct2(engine: TokenEngine, text: str) -> tuple[float, int]:
    """Seconds for one sentence (tokenize, translate, no detokenize) and output tokens."""
    started = time.perf_counter()
    tokens = engine.generate([text], "en", "ja")[0]
    elapsed = time.perf_counter() - started
    return elapsed, len(tokens) - (0 if engine.family == "marian" else 1)


def direct_step(engine: TokenEngine, text: str, repeats: int = 3, short: int = 4,
                long: int = 36) -> dict[str, float]:
    """Milliseconds per decoder step: the same sentence forced to ``long`` and to ``short``
    output tokens, alternately; (long - short) / (long - short tokens), by median and best."""
    n_in = len(engine.tokenizer.encode(text, "en", "ja"))
    saved = engine.options
    times: dict[int, list[float]] = {short: [], long: []}
    try:
        for _ in range(repeats):
            for n in (short, long):
                engine.options = replace(saved, forced_ratio=n / n_in)
                times[n].append(time_ct2(engine, text)[0])
    finally:
        engine.options = saved
    span = (long - short) / 1000
    return {"median_ms": round((statistics.median(times[long])
                                - statistics.median(times[short])) / span, 3),
            "best_ms": round((min(times[long]) - min(times[short])) / span, 3),
            "tokens": long - short, "repeats": repeats}


def run_levers(ct2: Path, sentences: list[str], threads: int) -> dict[str, Any]:
    """Cost of the guard (language check + protection) and of a cache hit, per sentence."""
    from yomiage.translate.cache import CachedTranslator
    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.guard import GuardedTranslator
    from yomiage.translate.languages import is_in_language
    from yomiage.translate.protect import protect
    from yomiage.translate.token_engine import DecodeOptions

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


class HfBaseline:
    """Transformers greedy `generate` (fp32), fed the same token ids, same output length."""

    def __init__(self, hf: Path, ct2: Path, shape: Shape, device: str, threads: int) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM

        from yomiage.translate.tokenizer import SpmTokenizer

        torch.set_num_threads(threads)
        self.torch = torch
        self.device = device
        self.model = AutoModelForSeq2SeqLM.from_pretrained(str(hf)).eval().to(device)
        self.tok = SpmTokenizer.load(ct2)
        self.index = {t: i for i, t in enumerate(read_vocabulary(ct2))}
        self.forced = {} if shape.family == "marian" \
            else {"forced_bos_token_id": self.index[self.tok.lang_token("ja") or ""]}
        self.extra = 0 if shape.family == "marian" else 1

    def time(self, text: str, n_out: int) -> float:
        """Seconds to generate exactly ``n_out`` tokens for ``text``."""
        ids = self.torch.tensor([[self.index.get(t, 1) for t in self.tok.encode(text, "en", "ja")]],
                                device=self.device)
        with self.torch.inference_mode():
            started = time.perf_counter()
            self.model.generate(ids, num_beams=1, do_sample=False,
                                min_new_tokens=n_out + self.extra,
                                max_new_tokens=n_out + self.extra, **self.forced)
            if self.device == "cuda":
                self.torch.cuda.synchronize()
            return time.perf_counter() - started


def _variants(ct2: Path, family: str, threads: int, cores: int, vmap_sizes: Sequence[int],
              openvino: bool = False) -> list[tuple[str, Path, int, bool]]:
    """(name, model dir, threads, vmap?) of each engine variant timed.

    The shipped settings (``threads``) with and without the vocabulary map, the map at the
    other thread count (1, or 2 when ``threads`` is 1 and there are two cores), one
    variant per extra vmap size asked for, and with ``openvino`` the OpenVINO engine
    with the map at both thread counts (names start with ``openvino``).
    """
    out = [("ctranslate2", ct2, threads, False), ("ctranslate2_vmap", ct2, threads, True)]
    other = 1 if threads > 1 else min(2, cores)
    counts = [threads] if other == threads else [threads, other]
    if other != threads:
        out.append((f"ctranslate2_vmap_{_threads(other)}", ct2, other, True))
    for size in vmap_sizes:
        if size != VMAP_SIZE[family]:
            out.append((f"ctranslate2_vmap{size}", bench_vmap_dir(ct2, size), threads, True))
    if openvino:
        out += [(f"openvino_vmap_{_threads(t)}", ct2, t, True) for t in counts]
    return out


def _threads(n: int) -> str:
    return f"{n}_thread{'s' if n > 1 else ''}"


def bench_translate(shape: str, device: str = "cpu", n: int = 50, baseline: bool = True,
                    *, threads: int = 0, baseline_n: int = 20,
                    vmap_sizes: Sequence[int] = (), baseline_threads: int = 0,
                    openvino: bool = True) -> dict[str, Any]:
    """Run the benchmark for one model shape; returns a JSON-ready dict of figures.

    ``n`` ≤ 0 means every bench sentence; ``device`` may be auto, cpu or cuda;
    ``vmap_sizes`` adds a variant per vocabulary-map size (the real size is unknown here);
    the Transformers baseline gets ``baseline_threads`` (0: every core); ``openvino``
    adds the OpenVINO engine's variants on the CPU (when OpenVINO is installed).
    """
    quiet_openmp()
    from yomiage.bench.random_ct2 import torch_available

    if not torch_available():  # before minutes of building: say so at once
        raise ModuleNotFoundError("the translation benchmark builds its models and its "
                                  "baseline with Transformers", name="torch")
    cfg = load_config({})
    spec = SHAPES[shape]
    hf, ct2 = shape_model(shape, Path(cfg.cache_dir))
    sentences = load_sentences()[:n] if n > 0 else load_sentences()
    from yomiage.translate.ct2.engine import pick_device
    from yomiage.translate.token_engine import available_cores, default_threads

    if device == "auto":
        device = pick_device("auto")

    threads = threads or default_threads()
    cores = available_cores()
    result: dict[str, Any] = {
        "label": LABEL, "shape": shape, "device": device, "hardware": hardware(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "threads": threads, "length_ratio": RATIO,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_average": _load_average(),
    }
    _write_bench_vmap(ct2, VMAP_SIZE[spec.family])
    openvino = openvino and device == "cpu" and importlib.util.find_spec("openvino") is not None
    variants = _variants(ct2, spec.family, threads, cores, vmap_sizes, openvino=openvino)
    engines = {name: make_engine(path, device, t, vmap,
                                 "openvino" if name.startswith("openvino") else "ctranslate2")
               for name, path, t, vmap in variants}
    cold = {name: time_ct2(e, sentences[0])[0] for name, e in engines.items()}
    for engine in engines.values():
        engine.warmup()
    warm = {name: time_ct2(e, sentences[0])[0] for name, e in engines.items()}
    result["engine"] = engines["ctranslate2_vmap"].describe()
    # The baseline gets every core: the old design ran one stage at a time.
    base_threads = baseline_threads or cores
    hf_model = HfBaseline(hf, ct2, spec, device, base_threads) if baseline else None
    k = min(baseline_n, len(sentences)) if baseline else 0
    if hf_model is not None:
        hf_model.time(sentences[0], 8)  # warm-up, like ours
    # Every variant runs on each sentence in turn, so that load from other processes
    # on a shared machine falls on all of them alike.
    timings: dict[str, list[float]] = {name: [] for name in (*engines, "transformers")}
    n_out: list[int] = []
    reader_counts = sorted({t for _, _, t, _ in variants})
    reads: dict[int, list[float]] = {t: [] for t in reader_counts}
    copies: list[float] = []
    for i, text in enumerate(sentences):
        if device == "cpu" and i % 10 == 0:
            copies.append(copy_bandwidth(256, 3))
            for t in reader_counts:
                reads[t].append(read_bandwidth(t))
        for name, engine in engines.items():
            seconds, produced = time_ct2(engine, text)
            timings[name].append(seconds)
        n_out.append(produced)
        if hf_model is not None and i < k:
            timings["transformers"].append(hf_model.time(text, produced))
    words = [len(t.split()) for t in sentences]
    vocab_rows = len(read_vocabulary(ct2))
    rows = {name: len(read_vocabulary(path)) if not vmap else _vmap_rows(path)
            for name, path, _, vmap in variants}
    for name, _, t, _ in variants:
        result[name] = _summary(timings[name], n_out, words)
        result[name].update(threads=t, output_rows=rows[name],
                            first_call_cold_ms=round(cold[name] * 1000, 1),
                            same_sentence_warm_ms=round(warm[name] * 1000, 1))
    result["vmap_note"] = ("vmap sizes are assumed (random models have no real vocabulary); "
                           f"full vocabulary {vocab_rows} rows")
    result["levers"] = run_levers(ct2, sentences, threads)
    if hf_model is not None:
        base = _summary(timings["transformers"], n_out[:k], words[:k])
        result["transformers"] = {**base, "threads": base_threads}
        for name in engines:
            result[f"speedup_{name}"] = _speedup(base, timings["transformers"],
                                                 timings[name][:k], n_out[:k], words[:k])
    if device == "cpu":
        steps = {name: direct_step(engine, sentences[len(sentences) // 2])
                 for name, engine in engines.items()}
        for name, step in steps.items():
            result[name]["direct_step"] = step
        result["bandwidth"] = bounds(
            spec, {name: (t, rows[name], steps[name]) for name, _, t, _ in variants},
            reads, copies)
    return result


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not available
        return []


def _vmap_rows(model_dir: Path) -> int:
    line = (model_dir / VMAP_FILE).read_text(encoding="utf-8").splitlines()[0]
    return len(line.split("\t", 1)[1].split())


def _speedup(base: dict[str, Any], base_times: list[float], ours_times: list[float],
             n_out: list[int], words: list[int]) -> dict[str, Any]:
    ours = _summary(ours_times, n_out, words)
    ratios = [b / o for b, o in zip(base_times, ours_times, strict=True)]
    return {"sentences": len(ours_times),
            "p50_ratio": round(base["p50_ms"] / ours["p50_ms"], 2),
            "p95_ratio": round(base["p95_ms"] / ours["p95_ms"], 2),
            "median_per_sentence_ratio": round(float(np.median(ratios)), 2)}
