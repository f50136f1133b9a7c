"""GPU first-audio latency: translate a sentence, then synthesize its first phrase, in one
process, as the pipeline runs them (a translation thread and a voice thread joined by a
queue; sentence N+1 is translated while N is synthesized).

    PYTHONPATH=src python3 benchmarks/gpu/bench_e2e.py --onnx .kokoro/kokoro.onnx --out e2e.json

Translation: NLLB-600M shape, random weights (real shape), our CUDA-graph decoder with a
Japanese-sized output vocabulary, output forced to source tokens × 1.3. Voice: Kokoro-82M
PyTorch (real weights when the ONNX file is given). Random translation output cannot be
spoken, so sentence i's audio is the i-th Japanese benchmark sentence's first phrase,
phonemized beforehand on a CPU machine; that frontend time (measured there) is added.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kokoro import compile_voice, inputs, load, pct, synth
from bench_translate import EOS, JPN, make_ids
from nllb_shape import JA_VOCAB_ROWS, build_model, sentences

from yomiage.translate.torch_greedy import GreedyDecoder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--interval", type=float, default=0.25, help="seconds between arriving sentences"
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the decoder step and Kokoro's heavy parts",
    )
    args = ap.parse_args()
    dev = "cuda"
    t0 = time.perf_counter()
    nmt = build_model(dev, torch.float16)
    dec = GreedyDecoder(
        nmt, "m2m", max_src=256, max_tgt=256, graphs=True, compile_step=args.compile
    )
    gen = torch.Generator().manual_seed(2)
    ja = torch.cat(
        [torch.tensor([EOS, JPN]), torch.randperm(256206, generator=gen)[:JA_VOCAB_ROWS]]
    )
    ja = torch.unique(ja[ja != 1])
    voice, label = load(args.onnx, dev)
    if args.compile:
        compile_voice(voice)
    load_s = time.perf_counter() - t0
    en = sentences()
    cases = [make_ids(s, gen) for s in en]
    ja_in = inputs()["sentences"]
    phrases = [ja_in[i % len(ja_in)]["phrases"][0] for i in range(len(en))]

    def translate(i: int) -> list[int]:
        ids, n = cases[i]
        return dec.generate(ids, [EOS, JPN], n + 1, vocab_key="ja", vocab_ids=ja, ignore_eos=True)

    def speak(i: int) -> np.ndarray:
        return synth(voice, phrases[i]["tokens"], phrases[i]["style"], dev)

    for i in range(3 if not args.compile else len(en)):  # warm-up (graph capture, compile, cuDNN)
        translate(i)
        speak(i)
    torch.cuda.synchronize()

    # 1) one sentence at a time: translate, then first chunk
    seq, tr_only, voice_only = [], [], []
    for _ in range(args.rounds):
        for i in range(len(en)):
            t = time.perf_counter()
            translate(i)
            t_mid = time.perf_counter()
            speak(i)
            t_end = time.perf_counter()
            seq.append(t_end - t)
            tr_only.append(t_mid - t)
            voice_only.append(t_end - t_mid)

    # 2) pipelined: sentences arrive every `interval` s; translator and voice threads.
    # Both threads need the GIL to launch GPU work; Python hands it over every
    # switch interval (5 ms by default), so the run is repeated with a shorter one.
    def pipelined(switch_s: float) -> list[float]:
        old = sys.getswitchinterval()
        sys.setswitchinterval(switch_s)
        q_tr: queue.Queue[tuple[int, float] | None] = queue.Queue()
        q_tts: queue.Queue[tuple[int, float] | None] = queue.Queue(maxsize=4)
        lat: list[float] = []

        def translator() -> None:
            while (item := q_tr.get()) is not None:
                translate(item[0])
                q_tts.put(item)
            q_tts.put(None)

        def speaker() -> None:
            while (item := q_tts.get()) is not None:
                speak(item[0])
                lat.append(time.perf_counter() - item[1])

        threads = [threading.Thread(target=translator), threading.Thread(target=speaker)]
        for th in threads:
            th.start()
        for _ in range(args.rounds):
            for i in range(len(en)):
                q_tr.put((i, time.perf_counter()))
                time.sleep(args.interval)
        q_tr.put(None)
        for th in threads:
            th.join()
        sys.setswitchinterval(old)
        return lat

    piped = pipelined(sys.getswitchinterval())
    piped_fast = pipelined(0.0005)

    fe_ms = float(np.median([p["frontend_ms"] for p in phrases]))
    result = {
        "what": "first-audio latency on the GPU = translate one sentence + synthesize its "
        "first phrase "
        "(audio on the host); G2P frontend time from a CPU machine listed apart",
        "translation": "NLLB-200-600M shape, random weights (real shape), fp16, CUDA graph step, "
        f"{int(ja.numel())}-row output vocabulary, output = source x 1.3",
        "voice": f"Kokoro-82M PyTorch fp32/TF32, {label}",
        "compiled": args.compile,
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_s": round(load_s, 2),
        "n_sentences": len(en),
        "rounds": args.rounds,
        "sequential": pct(seq),
        "translate_only": pct(tr_only),
        "first_chunk_only": pct(voice_only),
        "pipelined": {**pct(piped), "arrival_interval_s": args.interval,
                      "switch_interval_s": 0.005},
        "pipelined_switch_0.5ms": {**pct(piped_fast), "arrival_interval_s": args.interval,
                                   "switch_interval_s": 0.0005},
        "frontend_cpu_ms_p50": fe_ms,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
