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
Each pipelined variant also runs with a plain ``threading.Lock`` as GPU_LOCK (the lock
before FairLock), and checks every sentence's ids and first-phrase frame count against
a sequential reference run (a race between the engines would show there).

Hangs: ``--watchdog FILE`` arms faulthandler per phase (a phase past its time dumps
every thread's stack to FILE and ends the process); an exception in a pipeline thread is
recorded in the JSON instead of leaving the other thread waiting forever.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kokoro import inputs, load, pct, phrase_args
from bench_translate import EOS, FIRST_PIECE_TOKENS, JPN, make_ids
from nllb_shape import JA_VOCAB_ROWS, build_model, sentences

import yomiage.translate.torch.greedy as tg
from yomiage.translate.torch.greedy import GreedyDecoder
from yomiage.tts.kokoro.torch_voice import make_runner


class Watchdog:
    """faulthandler armed per phase: a phase that outlasts its time dumps every thread's
    Python stack to the file and ends the process (no device time burnt on a hang)."""

    def __init__(self, path: Path | None) -> None:
        self.file = path.open("w") if path is not None else None

    def arm(self, seconds: float, phase: str) -> None:
        if self.file is not None:
            self.file.write(f"--- phase {phase}: armed for {seconds:.0f} s\n")
            self.file.flush()
            faulthandler.dump_traceback_later(seconds, exit=True, file=self.file)

    def dump(self, why: str) -> None:
        """Every thread's stack now (the process goes on)."""
        out = self.file or sys.stderr
        out.write(f"--- {why}\n")
        out.flush()
        faulthandler.dump_traceback(file=out, all_threads=True)


def pipelined(translate: Callable[[int], object], speak: Callable[[int], object], n: int,
              rounds: int, interval: float, watchdog: Watchdog) -> dict[str, Any]:
    """Arrival → first chunk on the host, with a translator and a voice thread."""

    def whole(i: int, hand_over: Callable[[], object]) -> None:
        translate(i)
        hand_over()

    return pipelined_streamed(whole, speak, n, rounds, interval, watchdog)


def pipelined_streamed(first_piece: Callable[..., None], speak: Callable[[int], object],
                       n: int, rounds: int, interval: float,
                       watchdog: Watchdog) -> dict[str, Any]:
    """As pipelined(), but the translator hands a sentence to the voice as soon as its
    first piece is decoded, then decodes the rest (competing with the voice).

    An exception in either thread is recorded (the thread goes on with the next
    sentence) instead of leaving the other thread waiting forever; threads still alive
    well after the last arrival are reported as hung, with their stacks dumped."""
    q_tr: queue.Queue[tuple[int, float] | None] = queue.Queue()
    q_tts: queue.Queue[tuple[int, float] | None] = queue.Queue(maxsize=4)
    lat: list[float] = []
    voice_calls: list[float] = []
    errors: list[str] = []

    def translator() -> None:
        while (item := q_tr.get()) is not None:
            def hand_over(item: tuple[int, float] = item) -> None:
                q_tts.put(item)

            try:
                first_piece(item[0], hand_over)
            except Exception:  # recorded; the voice must not wait for this sentence
                errors.append(f"translator, sentence {item[0]}:\n{traceback.format_exc()}")
        q_tts.put(None)

    def speaker() -> None:
        while (item := q_tts.get()) is not None:
            t = time.perf_counter()
            try:
                speak(item[0])
            except Exception:
                errors.append(f"voice, sentence {item[0]}:\n{traceback.format_exc()}")
                continue
            done = time.perf_counter()
            lat.append(done - item[1])
            voice_calls.append(done - t)

    threads = [threading.Thread(target=translator, daemon=True),
               threading.Thread(target=speaker, daemon=True)]
    for th in threads:
        th.start()
    for _ in range(rounds):
        for i in range(n):
            q_tr.put((i, time.perf_counter()))
            time.sleep(interval)
    q_tr.put(None)
    deadline = time.perf_counter() + 30.0
    for th in threads:
        th.join(max(0.0, deadline - time.perf_counter()))
    hung = [th.name for th in threads if th.is_alive()]
    if hung:
        watchdog.dump(f"threads still running 30 s after the last arrival: {hung}")
    out: dict[str, Any] = {**(pct(lat) if lat else {"n": 0}), "arrival_interval_s": interval,
                           "voice_call": pct(voice_calls) if voice_calls else None,
                           "errors": len(errors), "hung_threads": hung}
    if errors:
        out["first_errors"] = errors[:3]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--watchdog", type=Path,
                    help="dump every thread's stack here (and stop) when a phase hangs")
    ap.add_argument("--streamed-only", action="store_true",
                    help="after warm-up, only the pipelined streamed variants")
    ap.add_argument("--quick", action="store_true",
                    help="only the graphs voice: sequential, streamed, pipelined (own streams)"
                    " with and without streaming")
    args = ap.parse_args()
    watchdog = Watchdog(args.watchdog)
    watchdog.arm(600, "build and warm-up")
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

    # references (sequential, one engine at a time): every concurrent run is checked
    # against them, so that a race between the engines shows as wrong ids or frames
    ref_ids = [translate(i) for i in range(len(en))]
    ref_frames = [int(graphs(*phrases[i][:2], 1.0, phrases[i][2])[1]) for i in range(len(en))]
    mismatch = {"ids": 0, "frames": 0, "nonfinite_audio": 0}

    def speaker(runner: Any, check: bool = False) -> Callable[[int], object]:
        def speak(i: int) -> object:
            tokens, style, cap = phrases[i]
            audio, frames = runner(tokens, style, 1.0, cap)
            if check:
                mismatch["frames"] += int(frames != ref_frames[i])
                mismatch["nonfinite_audio"] += int(not np.isfinite(audio).all())
            return audio
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
        "gpu_lock": f"{type(tg.GPU_LOCK).__name__} (shipped) unless a key says plain_lock "
        "(threading.Lock, the lock before FairLock)",
        "checks": "pipelined runs: ids of every streamed sentence and frame counts of every "
        "first phrase compared with a sequential reference run",
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

    def save(key: str, value: dict[str, Any]) -> None:
        result[key] = value
        print(key, json.dumps(value), flush=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")

    # streamed translation: the voice starts once the first piece's tokens are on the host
    def first_piece(i: int, then: Callable[[], None] | None = None) -> None:
        ids, n = cases[i]
        got: list[int] = []
        fired = False
        for chunk in dec.stream_ids(ids, [EOS, JPN], n + 1, vocab_key="ja", vocab_ids=ja,
                                    ignore_eos=True):
            got += chunk
            if not fired and len(got) > FIRST_PIECE_TOKENS:  # + the language token
                fired = True
                if then is None:
                    return  # sequential: the rest is not decoded
                then()
        mismatch["ids"] += int(got != ref_ids[i])

    def translate_checked(i: int) -> None:
        mismatch["ids"] += int(translate(i) != ref_ids[i])

    phase_s = args.rounds * len(en) * args.interval + 120

    def run_pipelined(key: str, streamed: bool, runner: Any, plain_lock: bool = False) -> None:
        watchdog.arm(phase_s, key)
        for k in mismatch:
            mismatch[k] = 0
        lock = tg.GPU_LOCK
        if plain_lock:  # gpu_section reads the module's GPU_LOCK at each call
            tg.GPU_LOCK = threading.Lock()  # type: ignore[assignment]
        try:
            if streamed:
                out = pipelined_streamed(first_piece, speaker(runner, check=True), len(en),
                                         args.rounds, args.interval, watchdog)
                out["first_piece_tokens_assumed"] = FIRST_PIECE_TOKENS
            else:
                out = pipelined(translate_checked, speaker(runner, check=runner is graphs),
                                len(en), args.rounds, args.interval, watchdog)
        finally:
            tg.GPU_LOCK = lock
        save(key, {**out, "mismatches": dict(mismatch)})
        if out["hung_threads"]:  # the next phase would wait on the hung thread's lock
            os._exit(2)

    if not args.streamed_only:
        for name, runner in (("graphs", graphs), ("eager", eager))[: 1 if args.quick else 2]:
            watchdog.arm(300, f"sequential {name}")
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
            save(f"sequential_{name}_voice",
                 {"total": pct(seq), "translate": pct(tr_only), "first_chunk": pct(voice_only)})
        watchdog.arm(300, "sequential streamed")
        seq_stream = []
        for _ in range(args.rounds):
            for i in range(len(en)):
                t = time.perf_counter()
                first_piece(i)
                speaker(graphs)(i)
                seq_stream.append(time.perf_counter() - t)
        save("sequential_streamed_graphs_voice",
             {**pct(seq_stream), "first_piece_tokens_assumed": FIRST_PIECE_TOKENS})

        own = (dec.stream, graphs.stream, eager.stream)
        default = torch.cuda.default_stream()
        variants = [("graphs_voice_own_streams", graphs, False)]
        if not args.quick:
            variants += [("graphs_voice_default_stream", graphs, True),
                         ("eager_voice_own_streams", eager, False),
                         ("eager_voice_default_stream", eager, True)]
        for name, runner, shared in variants:
            dec.stream = default if shared else own[0]
            runner.stream = default if shared else (own[1] if runner is graphs else own[2])
            run_pipelined(f"pipelined_{name}", False, runner)
        dec.stream, graphs.stream, eager.stream = own
        run_pipelined("pipelined_graphs_voice_own_streams_plain_lock", False, graphs, True)
    run_pipelined("pipelined_streamed_graphs_voice", True, graphs)
    run_pipelined("pipelined_streamed_graphs_voice_plain_lock", True, graphs, True)
    faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    main()
