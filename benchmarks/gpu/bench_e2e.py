"""GPU first-audio latency: translate a sentence, then synthesize its first phrase, in one
process, through the shipped engines (GreedyDecoder as TorchTranslator builds it; the
Kokoro runner as load_kokoro_torch builds it), sequentially and pipelined (a translation
thread and a voice thread joined by a queue; a sentence arrives every 0.25 s).

    PYTHONPATH=src python3 benchmarks/gpu/bench_e2e.py --onnx .kokoro/kokoro.onnx --out e2e.json

Translation: NLLB-600M shape, random weights (real shape), fp16, encoder CUDA graphs per
length bucket, ``torch.compile``d CUDA-graph step, Japanese-sized output vocabulary, output
forced to source tokens × 1.3. Voice: Kokoro-82M (real weights when the ONNX file is
given). Random translation output cannot be spoken, so sentence i's audio is the i-th
Japanese benchmark sentence's first phrase, phonemized beforehand on a CPU machine; that
frontend time (measured there) is listed apart.

Streamed variants: the voice starts once the first FIRST_PIECE_TOKENS output ids (an
assumed ~10-character first piece; random weights write no punctuation) are on the host.
Pipelined variants, to explain the two-thread P95: the shipped setup (each engine on its
own CUDA stream, voice as CUDA graphs); both engines on the default stream; the eager
voice (thousands of kernel launches under the GIL) on its own stream and on the default.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kokoro import inputs, load, pct, phrase_args
from bench_translate import EOS, FIRST_PIECE_TOKENS, JPN, make_ids
from nllb_shape import JA_VOCAB_ROWS, build_model, sentences

from yomiage.translate.torch_greedy import GreedyDecoder
from yomiage.tts.kokoro_torch import make_runner


def pipelined(translate: Callable[[int], object], speak: Callable[[int], object], n: int,
              rounds: int, interval: float) -> list[float]:
    """Arrival → first chunk on the host, with a translator and a voice thread."""

    def whole(i: int, hand_over: Callable[[], object]) -> None:
        translate(i)
        hand_over()

    return pipelined_streamed(whole, speak, n, rounds, interval)


def pipelined_streamed(first_piece: Callable[..., None], speak: Callable[[int], object],
                       n: int, rounds: int, interval: float) -> list[float]:
    """As pipelined(), but the translator hands a sentence to the voice as soon as its
    first piece is decoded, then decodes the rest (competing with the voice)."""
    q_tr: queue.Queue[tuple[int, float] | None] = queue.Queue()
    q_tts: queue.Queue[tuple[int, float] | None] = queue.Queue(maxsize=4)
    lat: list[float] = []

    def translator() -> None:
        while (item := q_tr.get()) is not None:
            first_piece(item[0], lambda item=item: q_tts.put(item))
        q_tts.put(None)

    def speaker() -> None:
        while (item := q_tts.get()) is not None:
            speak(item[0])
            lat.append(time.perf_counter() - item[1])

    threads = [threading.Thread(target=translator), threading.Thread(target=speaker)]
    for th in threads:
        th.start()
    for _ in range(rounds):
        for i in range(n):
            q_tr.put((i, time.perf_counter()))
            time.sleep(interval)
    q_tr.put(None)
    for th in threads:
        th.join()
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--watchdog", type=Path, help="dump every thread's stack here after 120 s")
    ap.add_argument("--streamed-only", action="store_true",
                    help="after warm-up, only the pipelined streamed variant")
    ap.add_argument("--quick", action="store_true",
                    help="only the graphs voice: sequential, streamed, pipelined (own streams)")
    args = ap.parse_args()
    if args.watchdog:
        import faulthandler

        faulthandler.dump_traceback_later(120, exit=True, file=args.watchdog.open("w"))
    dev = "cuda"
    t0 = time.perf_counter()
    nmt = build_model(dev, torch.float16)
    gen = torch.Generator().manual_seed(2)
    ja = torch.cat(
        [torch.tensor([EOS, JPN]), torch.randperm(256206, generator=gen)[:JA_VOCAB_ROWS]]
    )
    ja = torch.unique(ja[ja != 1])
    dec = GreedyDecoder(nmt, "m2m", max_src=256, max_tgt=256, graphs=True, compile_step=True)
    dec.warm("ja", ja)
    t_tr = time.perf_counter() - t0
    model, label = load(args.onnx, dev)
    en = sentences()
    cases = [make_ids(s, gen) for s in en]
    ja_in = inputs()["sentences"]
    phrases = [phrase_args(ja_in[i % len(ja_in)]["phrases"][0]) for i in range(len(en))]
    t1 = time.perf_counter()
    graphs: Any = make_runner(model, "graphs", phrases[0][1])[0]
    eager: Any = make_runner(model, "eager", phrases[0][1])[0]
    t_voice = time.perf_counter() - t1

    def translate(i: int) -> list[int]:
        ids, n = cases[i]
        return dec.generate(ids, [EOS, JPN], n + 1, vocab_key="ja", vocab_ids=ja, ignore_eos=True)

    def speaker(runner: Any) -> Callable[[int], object]:
        def speak(i: int) -> object:
            tokens, style, cap = phrases[i]
            return runner(tokens, style, 1.0, cap)
        return speak

    for i in range(len(en)):  # warm-up: every bucket the runs will touch
        translate(i)
        speaker(graphs)(i)
        if i < 3:
            speaker(eager)(i)
    torch.cuda.synchronize()

    result: dict[str, Any] = {
        "what": "first-audio latency on the GPU = translate one sentence + synthesize its "
        "first phrase (audio on the host); G2P frontend time from a CPU machine listed apart",
        "translation": "NLLB-200-600M shape, random weights (real shape), fp16, shipped "
        f"GreedyDecoder (encoder graphs, compiled={dec.compiled} graph step), "
        f"{int(ja.numel())}-row output vocabulary, output = source x 1.3",
        "voice": f"Kokoro-82M PyTorch fp32/TF32, {label}; shipped runners",
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "translator_build_warm_s": round(t_tr, 2),
        "voice_graph_capture_s": round(t_voice, 2),
        "n_sentences": len(en),
        "rounds": args.rounds,
        "frontend_cpu_ms_p50": float(
            np.median([ja_in[i % len(ja_in)]["phrases"][0]["frontend_ms"] for i in range(len(en))])
        ),
    }
    for name, runner in (("graphs", graphs), ("eager", eager))[: 1 if args.quick else 2]:
        seq, tr_only, voice_only = [], [], []
        speak = speaker(runner)
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
        result[f"sequential_{name}_voice"] = {
            "total": pct(seq), "translate": pct(tr_only), "first_chunk": pct(voice_only)
        }
        print(name, json.dumps(result[f"sequential_{name}_voice"]), flush=True)
    # streamed translation: the voice starts once the first piece's tokens are on the host
    def first_piece(i: int, then: Callable[[], None] | None = None) -> None:
        ids, n = cases[i]
        got, fired = 0, False
        for chunk in dec.stream_ids(ids, [EOS, JPN], n + 1, vocab_key="ja", vocab_ids=ja,
                                    ignore_eos=True):
            got += len(chunk)
            if not fired and got > FIRST_PIECE_TOKENS:  # + the language token
                fired = True
                if then is None:
                    return  # sequential: the rest is not decoded
                then()

    if args.streamed_only:
        lat = pipelined_streamed(first_piece, speaker(graphs), len(en), args.rounds,
                                 args.interval)
        result["pipelined_streamed_graphs_voice"] = {
            **pct(lat), "arrival_interval_s": args.interval,
            "first_piece_tokens_assumed": FIRST_PIECE_TOKENS}
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result["pipelined_streamed_graphs_voice"]), flush=True)
        return
    seq_stream = []
    for _ in range(args.rounds):
        for i in range(len(en)):
            t = time.perf_counter()
            first_piece(i)
            speaker(graphs)(i)
            seq_stream.append(time.perf_counter() - t)
    result["sequential_streamed_graphs_voice"] = {
        **pct(seq_stream), "first_piece_tokens_assumed": FIRST_PIECE_TOKENS}
    print("streamed", json.dumps(result["sequential_streamed_graphs_voice"]), flush=True)

    own = (dec.stream, graphs.stream, eager.stream)
    default = torch.cuda.default_stream()
    for name, runner, shared in (
        ("graphs_voice_own_streams", graphs, False),
        ("graphs_voice_default_stream", graphs, True),
        ("eager_voice_own_streams", eager, False),
        ("eager_voice_default_stream", eager, True),
    )[: 1 if args.quick else 4]:
        dec.stream = default if shared else own[0]
        runner.stream = default if shared else (own[1] if runner is graphs else own[2])
        lat = pipelined(translate, speaker(runner), len(en), args.rounds, args.interval)
        result[f"pipelined_{name}"] = {**pct(lat), "arrival_interval_s": args.interval}
        print(name, json.dumps(result[f"pipelined_{name}"]), flush=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    dec.stream, graphs.stream, eager.stream = own
    lat = pipelined_streamed(first_piece, speaker(graphs), len(en), args.rounds, args.interval)
    result["pipelined_streamed_graphs_voice"] = {
        **pct(lat), "arrival_interval_s": args.interval,
        "first_piece_tokens_assumed": FIRST_PIECE_TOKENS}
    print("pipelined streamed", json.dumps(result["pipelined_streamed_graphs_voice"]), flush=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
