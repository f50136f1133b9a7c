"""`yomiage bench`: latency of each stage and of the whole pipeline.

``--stage text|translate|voice`` hand off to those stages' own benchmarks;
``--stage pipeline`` (the default) replays the bundled corpus through the overlapped
pipeline (and, with ``--baseline``, through the old sequential design on the same
models) and reports first-audio latency, a per-stage breakdown, the real-time factor,
load time and peak memory. ``--json`` prints one object; ``--plot`` draws a waterfall.
``--stage listen`` (not part of ``all``: minutes) speaks a list of coding-assistant
sentences through every voice and reports a recognizer's error rates (bench/listen.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import resource
import sys
from typing import Any

from yomiage.config import Config
from yomiage.narrate.timeline import (
    first_audio_ms,
    heard_gaps_ms,
    percentile,
    waited_first_audio_ms,
)
from yomiage.records import Timeline
from yomiage.tts.prepare import prepare_all

log = logging.getLogger(__name__)

# Idle OpenMP threads sleep instead of spinning (unless the user chose otherwise): the
# translator and the voice share the cores, and spinning threads of one starve the other;
# on a busy 2-core machine, Marian-shape translation measured 1–30 s per sentence with
# spinning against 0.1–1 s without. Must be set before ctranslate2/torch are imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def hardware() -> str:
    """CPU model name and core count (Linux /proc/cpuinfo, else platform)."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 0
    return f"{name}, {cores} cores"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / (1024.0 * 1024.0)


def _loadavg() -> list[float] | None:
    """The 1/5/15-minute load averages (a busy machine makes every figure slower)."""
    try:
        import os

        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _pct(values: list[float]) -> dict[str, float | None]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {"p50_ms": r(percentile(values, 50)), "p95_ms": r(percentile(values, 95)),
            "max_ms": r(max(values) if values else None)}


def summarize(timelines: list[Timeline]) -> dict[str, Any]:
    """First-audio percentiles and the per-stage breakdown of a set of timelines."""
    from yomiage.bench.pipeline import STAGES, stage_ms

    lat = first_audio_ms(timelines)
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    for tl in timelines:
        if tl.first_audio_at is None:
            continue
        for name, ms in stage_ms(tl).items():
            per_stage[name].append(ms)
    stages = {}
    for name, values in per_stage.items():
        p = _pct(values)
        stages[name] = {"p50_ms": p["p50_ms"], "p95_ms": p["p95_ms"]}
    waited = waited_first_audio_ms(timelines)
    return {**_pct(lat), "sentences": len(lat), "stages": stages,
            "waited_for": {**_pct(waited), "sentences": len(waited)}}


def bench_pipeline(args: argparse.Namespace, cfg: Config) -> dict[str, Any]:
    """Run the pipeline benchmark (and the baseline when asked); returns the result."""
    from yomiage.bench.pipeline import (
        FORCED_RATIO,
        DesignRun,
        StandInTranslator,
        corpus_lines,
        hf_baseline_translator,
        load_bench_engines,
        run_overlapped,
        run_sequential,
    )
    from yomiage.translate.token_engine import available_cores

    eng = load_bench_engines(cfg, args.shape)
    # A live narrator has idle time before the agent's first words, and prepares its voice
    # then (tts/prepare.py); --cold times it as if a file were piped in at once.
    prepared = 0 if getattr(args, "cold", False) else prepare_all(eng.voice)
    live = bool(args.live)
    realtime = args.realtime or live
    mode = "live" if live else "realtime" if realtime else "fast"
    old_tr: Any = None
    skipped = ""
    if args.baseline and eng.hf_dir is None:
        from yomiage.bench.random_ct2 import torch_available

        skipped = ("no Transformers checkpoint of this model here (run with --shape for a "
                   "random-weight one)") if torch_available() else (
            "the old design translates with Transformers: it needs PyTorch and "
            "Transformers (pip install 'yomiage[convert,bench]' or ./setup.sh --test)")
    elif args.baseline:
        assert eng.hf_dir is not None
        # The old design ran one stage at a time, so its translator gets every core.
        hf = hf_baseline_translator(eng.hf_dir, FORCED_RATIO, cfg.threads or available_cores())
        hf.warmup()
        old_tr = StandInTranslator(hf, cfg.target_lang)
    new, old = DesignRun("overlapped"), DesignRun("sequential")
    # Designs alternate session by session, so both meet the same machine noise.
    for _ in range(max(1, args.repeat)):
        for _, lines in corpus_lines():
            run_overlapped(cfg, eng, realtime, [lines], into=new, live=live)
            if old_tr is not None:
                run_sequential(cfg, eng, old_tr, realtime, [lines], into=old)
    result: dict[str, Any] = summarize(new.timelines)
    result.update({
        "stage": "pipeline", "mode": mode, "repeat": max(1, args.repeat),
        "skipped_sentences": sum(tl.skipped for tl in new.timelines),
        "max_lag_s": cfg.max_lag if live else None,
        "rtf": round(new.busy_s / new.audio_s, 3) if new.audio_s else None,
        "audio_s": round(new.audio_s, 2), "wall_s": round(new.wall_s, 2),
        "load_s": round(eng.load_s, 3), "voice_prepared_steps": prepared,
        "engines": {"translator": eng.info.get("engine"), "voice": eng.voice.name},
        "models": {"translation": eng.info.get("model"), "voice": eng.voice.name},
        "weights": eng.info.get("weights", "real"),
        "device": eng.info.get("device"),
        "translator": eng.info,
        "options": {"source_lang": cfg.source_lang, "target_lang": cfg.target_lang,
                    "voice": cfg.voice, "threads": cfg.threads, "beam_size": cfg.beam_size,
                    "compute_type": cfg.compute_type, "speed": cfg.speed,
                    "max_clause_chars": cfg.max_clause_chars},
        "hardware": hardware(), "load_average": _loadavg(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "timelines": new.timelines,
    })
    if realtime:  # the sink kept a device's clock: silences between sentences are real
        gaps = heard_gaps_ms(new.timelines)
        result["heard_gaps"] = {"count": len(gaps), **_pct(gaps)}
    if skipped:
        result["baseline"] = {"skipped": skipped}
    elif old_tr is not None:
        base = summarize(old.timelines)
        base["design"] = ("sequential: Transformers generate, whole-sentence synthesis, "
                          "no overlap")
        base["rtf"] = round(old.busy_s / old.audio_s, 3) if old.audio_s else None
        p_new, p_old = result["p50_ms"], base["p50_ms"]
        base["ratio_p50"] = round(p_old / p_new, 2) if p_new and p_old else None
        base["timelines"] = old.timelines
        result["baseline"] = base
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def _without_timelines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _without_timelines(v) for k, v in obj.items() if k != "timelines"}
    return obj


def format_pipeline(res: dict[str, Any]) -> str:
    """The human-readable report of :func:`bench_pipeline`."""
    def ms(v: Any) -> str:
        return "–" if v is None else f"{v:.0f} ms"

    lines = [
        f"pipeline ({res['mode']} replay, {res['sentences']} sentences) on {res['hardware']}, "
        f"{res['date']} (load average {res['load_average']})",
        f"  translation: {res['translator'].get('engine')} {res['models']['translation']} "
        f"on {res['device']} [{res['weights']}]; voice: {res['models']['voice']}",
        f"  first audio: P50 {ms(res['p50_ms'])}  P95 {ms(res['p95_ms'])}  "
        f"max {ms(res['max_ms'])}"
        + (f"; {res.get('skipped_sentences', 0)} sentences skipped (max lag "
           f"{res['max_lag_s']} s)" if res.get("max_lag_s") is not None else ""),
        f"  sentences a listener waited for (nothing ahead of them, "
        f"{res['waited_for']['sentences']}): first audio P50 {ms(res['waited_for']['p50_ms'])}  "
        f"P95 {ms(res['waited_for']['p95_ms'])}",
        "  stages (P50 / P95): " + ", ".join(
            f"{k} {ms(v['p50_ms'])}/{ms(v['p95_ms'])}" for k, v in res["stages"].items()
            if v["p50_ms"] is not None),
        f"  real-time factor {res['rtf']}  (audio {res['audio_s']} s); load {res['load_s']} s; "
        f"peak RSS {res['peak_rss_mb']} MB",
    ]
    if "heard_gaps" in res:
        g = res["heard_gaps"]
        lines.append(f"  silences the narrator caused between sentences: {g['count']}"
                     + (f" (P50 {ms(g['p50_ms'])}, max {ms(g['max_ms'])})" if g["count"] else ""))
    base = res.get("baseline")
    if base and "skipped" in base:
        lines.append(f"  baseline skipped: {base['skipped']}")
    elif base:
        lines.append(f"  old design ({base['design']}): first audio P50 {ms(base['p50_ms'])} "
                     f"P95 {ms(base['p95_ms'])}, RTF {base['rtf']} → "
                     f"{base['ratio_p50']}× lower P50 now")
    return "\n".join(lines)


def _other_stage(stage: str, args: argparse.Namespace, cfg: Config) -> dict[str, Any]:
    """The text, translate and voice stages' own benchmarks (their modules, their defaults)."""
    if stage == "text":
        from yomiage.bench.text import bench_text

        return dict(bench_text(args.input, args.repeat or 3))
    if stage == "soak":
        from yomiage.bench.soak import bench_soak

        return bench_soak(cfg, args.repeat)
    if stage == "translate":
        from yomiage.bench.translate import bench_translate

        return dict(bench_translate(
            args.shape or "marian", cfg.device, args.repeat or 50, args.baseline,
            threads=cfg.threads, baseline_n=args.baseline_n,
            vmap_sizes=[int(x) for x in args.vmap_sizes.split(",") if x.strip()],
            baseline_threads=args.baseline_threads, openvino=args.openvino))
    if stage == "listen":
        from yomiage.bench.listen import bench_listen

        langs = [x for x in args.listen_lang.split(",") if x.strip()]
        return bench_listen(cfg, langs, args.engines or (), args.repeat, progress=True,
                            in_reply=args.in_reply)
    from yomiage.bench.voice import SENTENCES, bench_voice, stderr_progress

    engines = args.engines or (None if cfg.voice == "auto" else [cfg.voice])
    return dict(bench_voice(engines, args.repeat or SENTENCES, cfg,
                            progress=stderr_progress))


def missing_hint(exc: ImportError) -> str:
    """The one line to print for a benchmark that cannot import what it needs."""
    if (exc.name or "").split(".")[0] in ("torch", "transformers"):
        return (f"it needs PyTorch and Transformers ({exc}); install them with "
                "pip install 'yomiage[convert,bench]' or ./setup.sh --test")
    return str(exc)


def run_bench(args: argparse.Namespace, cfg: Config) -> int:
    """`yomiage bench`: run the chosen stage(s), print a report or one JSON object."""
    stages = ["text", "translate", "voice", "pipeline"] if args.stage == "all" else [args.stage]
    results: dict[str, Any] = {}
    for stage in stages:
        try:
            if stage == "pipeline":
                results[stage] = bench_pipeline(args, cfg)
            elif stage == "daemon":
                from yomiage.bench.daemon import bench_daemon

                results[stage] = bench_daemon(args, cfg)
            elif stage == "hooks":
                from yomiage.bench.hooks import bench_hooks

                results[stage] = bench_hooks(cfg, args.engines or ["openjtalk", "kokoro:jf_alpha"],
                                             args.repeat or 10, args.shape)
            else:
                results[stage] = _other_stage(stage, args, cfg)
        except ImportError as exc:
            log.error("bench %s is not available: %s", stage, missing_hint(exc))
            return 2
        except RuntimeError as exc:  # e.g. the daemon under test could not load its engines
            log.error("bench %s failed: %s", stage, exc)
            return 2
    if args.plot and "pipeline" in results:
        from yomiage.bench.plot import plot_waterfall

        res = results["pipeline"]
        base = res.get("baseline") or {}
        plot_waterfall(args.plot, res["timelines"], base.get("timelines"),
                       title=f"first audio, {res['mode']} replay — {res['models']['translation']}"
                             f" + {res['models']['voice']}")
    clean = {k: _without_timelines(v) for k, v in results.items()}
    if args.json:
        out = clean[stages[0]] if len(stages) == 1 else clean
        sys.stdout.write(json.dumps(out, ensure_ascii=False, default=str) + "\n")
    else:
        for stage in stages:
            if stage == "pipeline":
                sys.stdout.write(format_pipeline(clean[stage]) + "\n")
            elif stage == "daemon":
                from yomiage.bench.daemon import format_daemon

                sys.stdout.write(format_daemon(clean[stage]) + "\n")
            elif stage == "hooks":
                from yomiage.bench.hooks import format_hooks

                sys.stdout.write(format_hooks(clean[stage]) + "\n")
            elif stage == "voice":
                from yomiage.bench.voice import format_table

                sys.stdout.write(format_table(clean[stage]) + "\n")
            else:
                sys.stdout.write(f"{stage}: {json.dumps(clean[stage], ensure_ascii=False)}\n")
    return 0
