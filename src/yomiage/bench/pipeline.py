"""The whole-pipeline benchmark: replay a fixed corpus, time every sentence.

Two designs run on the same engines: the overlapped :class:`~yomiage.narrate.pipeline.Pipeline`
and the old one (one sentence at a time: translate with Transformers ``generate``,
synthesize the whole sentence, then play it). Replay modes:

* ``fast`` (default): closed loop, as fast as the pipeline allows without a backlog —
  each line is released as soon as the previous sentence has been fully handed to the
  sink, so every latency is a pure processing latency;
* ``realtime``: lines arrive at an agent's pace (text at ~60 tokens/s, tools take
  seconds) and play on a sink that keeps a real device's clock; latencies include any
  waiting behind earlier speech.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from yomiage.bench.translate import bench_vmap_dir
from yomiage.narrate.replay import replay
from yomiage.records import Timeline
from yomiage.translate.streaming import stream_pieces

log = logging.getLogger(__name__)

CORPUS = ("sample_session.ndjson", "bench_refactor.ndjson")

# Stand-in Japanese for the voice when the translator has random weights (its output is
# noise): natural text of the length a real translation would have.
_JA_POOL = (
    "まず失敗しているテストを確認します。エラーによると、タイムゾーン付きの日時を解析できて"
    "いません。正規表現が末尾のゼットしか受け付けていないのが原因です。標準ライブラリの関数に"
    "置き換えれば、オフセット付きの形式も正しく扱えます。テストはすべて成功しました。変更点は"
    "次のとおりです。接続はすべて共有プールから借りるようにしました。本番に反映する前に、二つ"
    "の点を確認してください。ステージング環境では接続数の上限に注意が必要です。"
)
JA_CHARS_PER_EN_CHAR = 0.45
_EN_CLAUSE = re.compile(r"[,;:](?=\s)|\s[-–—]\s")


def corpus_lines() -> list[tuple[str, list[bytes]]]:
    """The bundled sessions as (name, lines)."""
    out = []
    for name in CORPUS:
        data = (resources.files("yomiage") / "data" / name).read_bytes()
        out.append((name, data.splitlines()))
    return out


class StandInTranslator:
    """Runs a random-weight engine for its timing, returns stand-in target text.

    Random weights emit noise; the voice should get text of a real translation's length.
    """

    def __init__(self, inner: Any, target_lang: str, engine: Any = None) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "random")
        self.target_lang = target_lang
        self.engine = engine  # a CT2Translator: streams, timed token by token

    def streams(self) -> bool:
        """True when the engine below can stream its tokens."""
        return self.engine is not None and bool(self.engine.streams())

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """Stand-in text revealed in step with the tokens the engine decodes (a real
        decoder writes its translation at about that even pace), in phrase pieces."""
        target = stand_in(text, tgt)
        if not self.streams():
            yield self.translate(text, src, tgt)
            return
        n_out = max(1, round(len(self.engine.tokenizer.encode(text, src, tgt)) * FORCED_RATIO))
        cuts = [len(target) * (i + 1) // n_out for i in range(n_out)]
        slices = (target[a:b] for a, b in zip([0, *cuts], cuts, strict=False))
        with closing(self.engine.stream_tokens(text, src, tgt)) as tokens:
            revealed = (piece for _, piece in zip(tokens, slices, strict=False))
            yield from stream_pieces(revealed, "".join)

    def translate(self, text: str, src: str, tgt: str) -> str:
        """Translate (for the time it takes), then return stand-in text."""
        self.inner.translate(text, src, tgt)
        return stand_in(text, tgt)

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Batch form of :meth:`translate`."""
        self.inner.translate_batch(list(texts), src, tgt)
        return [stand_in(t, tgt) for t in texts]

    def warmup(self) -> None:
        """Warm the inner engine."""
        self.inner.warmup()

    def describe(self) -> dict[str, object]:
        """The inner engine's description, labelled."""
        info = dict(self.inner.describe()) if hasattr(self.inner, "describe") else {}
        info["weights"] = "random weights, real shape"
        return info


def stand_in(text: str, lang: str) -> str:
    """Target-language text about as long as a translation of ``text`` would be.

    Its phrase boundaries (、) sit where ``text`` has clause punctuation, at the same
    relative place, and nowhere else: real Japanese puts a 読点 at least that often, so
    the voice's phrasing, and when a streamed translation reaches its first phrase, are
    not flattered.
    """
    if lang != "ja":
        return text
    n = max(4, math.ceil(len(text) * JA_CHARS_PER_EN_CHAR))
    plain = _JA_POOL.replace("、", "").replace("。", "")
    start = (len(text) * 7) % len(plain)
    chars = list((plain * (2 + n // len(plain)))[start:start + n])
    for m in _EN_CLAUSE.finditer(text):
        pos = round(m.start() / len(text) * n)
        if 2 <= pos < n - 2:
            chars[pos] = "、"
    return "".join(chars) + "。"


@dataclass
class DesignRun:
    """Timelines of one design over the corpus, with its busy time."""

    design: str
    timelines: list[Timeline] = field(default_factory=list)
    wall_s: float = 0.0
    busy_s: float = 0.0
    audio_s: float = 0.0


def hf_baseline_translator(hf_dir: Path, forced_ratio: float, threads: int) -> Any:
    """The old design's translator: Transformers ``generate`` (greedy) on ``hf_dir``,
    output length forced to ``forced_ratio`` × input tokens like the CTranslate2 run."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.set_num_threads(max(1, threads))
    tokenizer = AutoTokenizer.from_pretrained(str(hf_dir))
    model = AutoModelForSeq2SeqLM.from_pretrained(str(hf_dir)).eval()

    class _HF:
        name = "transformers-generate"

        def translate(self, text: str, src: str, tgt: str) -> str:
            batch = tokenizer([text], return_tensors="pt")
            n = max(1, round(batch["input_ids"].shape[1] * forced_ratio))
            with torch.inference_mode():
                out = model.generate(**batch, max_new_tokens=n, min_new_tokens=n,
                                     num_beams=1, do_sample=False)
            return str(tokenizer.decode(out[0], skip_special_tokens=True))

        def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
            return [self.translate(t, src, tgt) for t in texts]

        def warmup(self) -> None:
            self.translate("Warm up the model with one sentence.", "en", "ja")

    return _HF()


FORCED_RATIO = 1.3
"""Random weights: output tokens = input tokens × this (en→ja subword ratio, roughly; the
same ratio as the translation benchmark)."""


@dataclass
class BenchEngines:
    """Engines for a benchmark run and how they were obtained."""

    translator: Any
    voice: Any
    load_s: float
    info: dict[str, Any]
    hf_dir: Path | None = None
    """Transformers checkpoint of the same model, for the old design's translator."""


def corpus_text() -> list[str]:
    """The assistant prose of the corpus (SentencePiece training text for random models)."""
    out: list[str] = []
    for _, lines in corpus_lines():
        for data in lines:
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            msg = obj.get("message") if isinstance(obj, dict) else None
            if isinstance(msg, dict) and msg.get("role") == "assistant":
                out += [str(b.get("text", "")) for b in msg.get("content") or []
                        if isinstance(b, dict) and b.get("type") == "text"]
    return [ln for t in out for ln in t.splitlines() if ln.strip()]


def random_model(shape: str, cache_dir: str) -> tuple[Path | None, Path]:
    """A random-weight model of ``shape`` (built once, then reused): (hf_dir, ct2_dir).

    The translation benchmark's model is shared when that module is present. Without
    PyTorch and Transformers (the runtime install), a Marian shape is written directly
    through CTranslate2 (bench/random_ct2.py) and there is no hf_dir; other shapes raise
    ImportError naming the extra to install.
    """
    from yomiage.bench.random_ct2 import torch_available, torchless_model

    if not torch_available():
        return None, torchless_model(shape, Path(cache_dir).expanduser())
    try:
        from yomiage.bench.translate import (  # type: ignore[import-not-found,unused-ignore]
            shape_model,
        )

        return shape_model(shape, Path(cache_dir).expanduser())  # type: ignore[no-any-return,unused-ignore]
    except ImportError:
        pass
    from yomiage.bench.random_models import build_model

    root = Path(cache_dir).expanduser() / "bench-models" / shape
    hf, ct2 = root / "hf", root / "ct2"
    if (ct2 / "model.bin").is_file() and (hf / "config.json").is_file():
        return hf, ct2
    log.warning("building a random-weight %s model for timing in %s (once)", shape, root)
    text = corpus_text() * 20
    return build_model(shape, text, root)


BENCH_VMAP_SIZE = 16000
"""Random weights: rows of the vocabulary map the engine decodes with. The product maps
Marian's output to the target language's tokens (``vmap_target``); a random model's
vocabulary is English-only, so the map keeps this many tokens instead: the translation
benchmark's assumed size of a Japanese map over a shared en+ja 32k vocabulary."""


def load_bench_engines(cfg: Any, shape: str | None,
                       vmap_size: int = BENCH_VMAP_SIZE) -> BenchEngines:
    """Translator + voice for the bench: the installed model, or (no model, or ``shape``
    given) a random-weight model of that real shape with forced output length, decoding
    through a vocabulary map of ``vmap_size`` tokens into Japanese like the product's
    (0 = the whole vocabulary, as this bench did before 2026-11-25 18:00 UTC)."""
    from concurrent.futures import ThreadPoolExecutor

    from yomiage.models.spec import ModelNotAvailable
    from yomiage.narrate.engines import load_warm_voice
    from yomiage.translate import describe, load_translator, prefers_openvino
    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.guard import GuardedTranslator
    from yomiage.translate.token_engine import DecodeOptions

    hf_dir: Path | None = None
    installed: Any = None
    if shape is None:
        try:
            installed = load_translator(cfg, warmup=False)
        except ModelNotAvailable as exc:
            log.warning("%s; timing a random-weight model of the real shape instead", exc)
            shape = "marian"
    use_vmap = False
    if shape is not None:
        hf_dir, ct2_dir = random_model(shape, cfg.cache_dir)
        if vmap_size > 0 and cfg.target_lang == "ja":
            ct2_dir, use_vmap = bench_vmap_dir(ct2_dir, vmap_size), True

    def translator() -> Any:
        if shape is None:
            installed.warmup()
            return installed
        name = f"{shape} (random weights, real shape)"
        pair = (cfg.source_lang, cfg.target_lang)
        engine: Any
        if cfg.device != "cuda" and prefers_openvino(cfg):
            from yomiage.translate.openvino.engine import OVTranslator

            engine = OVTranslator(ct2_dir, name=name, threads=cfg.threads, pair=pair,
                                  options=DecodeOptions(forced_ratio=FORCED_RATIO,
                                                        use_vmap=use_vmap))
        else:
            engine = CT2Translator(
                ct2_dir, name=name, device=cfg.device, compute_type=cfg.compute_type,
                threads=cfg.threads,
                options=DecodeOptions(beam_size=cfg.beam_size, forced_ratio=FORCED_RATIO),
                vmap_target="ja" if use_vmap else None, pair=pair)
        wrapped = StandInTranslator(GuardedTranslator(engine), cfg.target_lang, engine)
        wrapped.describe = engine.describe  # type: ignore[method-assign]
        wrapped.warmup()
        return wrapped

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        fut_t = pool.submit(translator)
        fut_v = pool.submit(load_warm_voice, cfg, cfg.target_lang)
        tr, voice = fut_t.result(), fut_v.result()
    load_s = time.perf_counter() - started
    info = dict(describe(tr))
    if shape is not None:
        info["weights"] = "random weights, real shape"
        info["shape"] = shape
        info["forced_ratio"] = FORCED_RATIO
        info["vmap_rows"] = vmap_size if use_vmap else None
        info["stand_in_text"] = (
            "Japanese of a translation's length, 、 where the English has clause "
            "punctuation; streamed in step with the tokens the engine decodes")
    return BenchEngines(tr, voice, load_s, info, hf_dir)


def _timed_pipeline(cfg: Any, eng: BenchEngines, lines: list[bytes], realtime: bool,
                    live: bool = False) -> Any:
    from yomiage.audio import open_sink
    from yomiage.narrate.pipeline import Pipeline, PipelineOptions, sentences_from_lines
    from yomiage.text.flow import TextFlow

    sink = open_sink("timing" if realtime else "null", eng.voice.sample_rate)
    pipe = Pipeline(PipelineOptions.from_config(cfg, live=live), eng.translator, eng.voice,
                    sink)
    gate = None if realtime else pipe.wait_idle
    with sink:
        return pipe.run(sentences_from_lines(replay(lines, realtime=realtime, gate=gate),
                                             TextFlow(cfg)))


def run_overlapped(cfg: Any, eng: BenchEngines, realtime: bool,
                   sessions: Sequence[list[bytes]] | None = None,
                   into: DesignRun | None = None, live: bool = False) -> DesignRun:
    """The current design over ``sessions`` (default: the corpus), added to ``into``.

    Lag control is off (every sentence counts) unless ``live`` (with ``realtime``: a
    listener at the speakers, the oldest speech skipped beyond ``cfg.max_lag``).
    """
    run = into or DesignRun("overlapped")
    for lines in sessions if sessions is not None else [ln for _, ln in corpus_lines()]:
        report = _timed_pipeline(cfg, eng, lines, realtime, live and realtime)
        run.timelines += report.timelines
        run.wall_s += report.wall_s
    _totals(run)
    return run


def run_sequential(cfg: Any, eng: BenchEngines, translator: Any, realtime: bool,
                   sessions: Sequence[list[bytes]] | None = None,
                   into: DesignRun | None = None) -> DesignRun:
    """The old design: per whole sentence, translate → synthesize all → play, no overlap."""
    import numpy as np

    from yomiage.audio import open_sink
    from yomiage.narrate.pipeline import sentences_from_lines
    from yomiage.records import AudioChunk
    from yomiage.text.flow import TextFlow

    run = into or DesignRun("sequential")
    clock = time.perf_counter
    for lines in sessions if sessions is not None else [ln for _, ln in corpus_lines()]:
        sink = open_sink("timing" if realtime else "null", eng.voice.sample_rate)
        started = clock()
        with sink:
            flow = TextFlow(cfg)
            for s in sentences_from_lines(replay(lines, realtime=realtime), flow):
                tl = Timeline(seq=s.seq, text=s.text, read_at=s.read_at,
                              segmented_at=s.segmented_at or None)
                tl.extra["translate_start"] = clock()
                text = translator.translate(s.text, cfg.source_lang, cfg.target_lang)
                tl.translated_at = tl.extra["synth_start"] = clock()
                tl.translation = text
                chunks = list(eng.voice.stream(text))
                tl.extra["synth_end"] = tl.extra["first_chunk_at"] = clock()
                if chunks:
                    whole = AudioChunk(np.concatenate([c.samples for c in chunks]),
                                       chunks[0].sample_rate)
                    tl.first_audio_at = clock()
                    sink.write(whole)
                    tl.audio_seconds = whole.duration
                    sink.drain()  # the old design played each sentence to the end
                run.timelines.append(tl)
        run.wall_s += clock() - started
    _totals(run)
    return run


def _totals(run: DesignRun) -> None:
    run.busy_s = run.audio_s = 0.0
    for tl in run.timelines:
        e = tl.extra
        if tl.translated_at is not None and isinstance(e.get("translate_start"), float):
            run.busy_s += tl.translated_at - float(e["translate_start"])  # type: ignore[arg-type]
        if isinstance(e.get("synth_end"), float) and isinstance(e.get("synth_start"), float):
            run.busy_s += float(e["synth_end"]) - float(e["synth_start"])  # type: ignore[arg-type]
        run.audio_s += tl.audio_seconds


STAGES = ("segment", "queue_wait", "translate", "synth_wait", "first_chunk", "handoff")


def stage_ms(tl: Timeline) -> dict[str, float]:
    """Per-stage durations (ms) of one sentence's path to its first audio."""
    e = tl.extra
    marks: list[tuple[str, Any]] = [
        ("segment", tl.segmented_at), ("queue_wait", e.get("translate_start")),
        ("translate", tl.translated_at), ("synth_wait", e.get("synth_start")),
        ("first_chunk", e.get("first_chunk_at")), ("handoff", tl.first_audio_at)]
    out: dict[str, float] = {}
    prev: float | None = tl.read_at
    for name, t in marks:
        if isinstance(t, float) and prev is not None:
            out[name] = (t - prev) * 1000.0
            prev = t
    return out
