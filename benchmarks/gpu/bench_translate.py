"""GPU translation benchmark: NLLB-600M shape (random weights, real shape), batch 1, greedy.

Run on the CUDA machine from the repository root:
    PYTHONPATH=src python3 benchmarks/gpu/bench_translate.py --out results.json

Times, per sentence, the Transformers ``generate`` baseline and the shipped GreedyDecoder
(what TorchTranslator runs; tokenization not included) with a Japanese-sized output
vocabulary: CUDA-graph step with the eager encoder (the previous engine), + encoder CUDA
graphs per length bucket, + ``torch.compile``d step (the default); output length forced
to source × 1.3; plus per-token step time, kernels per step, encoder time and the
memory-bandwidth floor of one step, and whether the variants give the same ids.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nllb_shape import (
    JA_VOCAB_ROWS,
    OUT_RATIO,
    build_model,
    percentiles,
    sentences,
    src_len,
)

from yomiage.translate.torch.greedy import GreedyDecoder

ENG, JPN, EOS = 256047, 256079, 2
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def make_ids(sentence: str, gen: torch.Generator) -> tuple[list[int], int]:
    """Random source ids of the sentence's estimated length, and its forced output length."""
    n = src_len(sentence)
    body = torch.randint(4, 250000, (n - 2,), generator=gen).tolist()
    return [ENG, *body, EOS], round(n * OUT_RATIO)


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn: Callable[[], object]) -> float:
    _sync()
    t0 = time.perf_counter()
    fn()
    _sync()
    return time.perf_counter() - t0


def copy_bandwidth() -> float:
    """Device-to-device copy rate in bytes/s, counting bytes read plus written."""
    a = torch.empty(512 * 2**20, dtype=torch.uint8, device=DEVICE)
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    dt = min(timed(lambda: b.copy_(a)) for _ in range(10))
    return 2 * a.numel() / dt


def step_bytes(dec: object, model: torch.nn.Module) -> int:
    """Weight bytes one decoder step must read (cross-attention K/V projections excluded)."""
    layers = model.get_decoder().layers  # type: ignore[operator]
    total = 0
    for ly in layers:
        for name, p in ly.named_parameters():
            if "encoder_attn.k_proj" in name or "encoder_attn.v_proj" in name:
                continue
            total += p.numel() * p.element_size()
    out_w = dec.out_w  # type: ignore[attr-defined]
    return total + out_w.numel() * out_w.element_size()


def kernels_per_step(dec: object) -> int:
    """CUDA kernels one eager decoder step launches (0 on the CPU)."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    if not torch.cuda.is_available():
        return 0
    dec.step()  # type: ignore[attr-defined]
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        dec.step()  # type: ignore[attr-defined]
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type == DeviceType.CUDA)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=30, help="repetitions of the 15-word sentence")
    ap.add_argument("--dtype", default="float16")
    ap.add_argument("--tiny", action="store_true", help="dry run with a small model (CPU check)")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype) if DEVICE == "cuda" else torch.float32
    model = build_model(DEVICE, dtype, tiny=args.tiny)
    gen = torch.Generator().manual_seed(1)
    sents = sentences()
    fifteen = next((s for s in sents if len(s.split()) == 15), None) or (
        "I updated the configuration file and restarted the development server "
        "on port three thousand."
    )
    cases = [make_ids(s, gen) for s in sents]
    f_ids, f_out = make_ids(fifteen, gen)
    full = torch.arange(256206)
    full = full[full != 1]
    ja = torch.cat(
        [torch.tensor([EOS, JPN]), torch.randperm(256206, generator=gen)[:JA_VOCAB_ROWS]]
    )
    ja = torch.unique(ja[ja != 1])

    results: dict[str, object] = {
        "what": "NLLB-200-600M shape (d1024, 12+12 layers, ffn 4096, vocab 256206), "
        "random weights, "
        "real shape; batch 1; greedy; output length forced to source tokens x 1.3",
        "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "dtype": args.dtype,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fifteen_word_sentence": fifteen,
        "fifteen_src_tokens": len(f_ids),
        "fifteen_out_tokens": f_out,
        "n_sentences": len(sents),
        "ja_vocab_rows_assumed": int(ja.numel()),
    }
    import transformers

    results["transformers"] = transformers.__version__

    def hf(ids: list[int], n: int) -> object:
        x = torch.tensor([ids], device=DEVICE)
        with torch.inference_mode():
            return model.generate(  # type: ignore[operator]
                x,
                do_sample=False,
                num_beams=1,
                max_new_tokens=n + 1,
                min_new_tokens=n + 1,
                forced_bos_token_id=JPN,
            )

    variants: dict[str, Callable[[list[int], int], object]] = {"transformers_generate": hf}
    decs: dict[str, GreedyDecoder] = {}
    # (name, CUDA graphs, vocabulary, compiled step, encoder graphs); the last is what
    # TorchTranslator builds on a GPU by default (gpu_compile = true)
    plan = [
        ("eager_fullvocab", False, full, False, False),
        ("graph_javocab_eager_encoder", True, ja, False, False),
        ("graph_javocab", True, ja, False, True),
        ("shipped_compiled_graph_javocab", True, ja, True, True),
    ]
    t_build = {}
    for key, graphs, vocab, comp, enc_graphs in plan:
        t_b = time.perf_counter()
        dec = GreedyDecoder(
            model, "m2m", max_src=256, max_tgt=256, graphs=graphs, compile_step=comp,
            encoder_graphs=enc_graphs,
        )
        dec.warm(key, vocab)  # as TorchTranslator.warmup: compile, capture every bucket
        t_build[key] = round(time.perf_counter() - t_b, 2)
        decs[key] = dec

        def run(
            ids: list[int],
            n: int,
            dec: GreedyDecoder = dec,
            vocab: torch.Tensor = vocab,
            key: str = key,
        ) -> object:
            return dec.generate(
                ids, [EOS, JPN], n + 1, vocab_key=key, vocab_ids=vocab, ignore_eos=True
            )

        if key != "eager_fullvocab":
            variants[key] = run
        else:
            eager_run = run
    results["build_and_warm_s"] = t_build
    results["compiled"] = decs["shipped_compiled_graph_javocab"].compiled
    # correctness on the real shape
    a = eager_run(f_ids, f_out)
    ref = hf(f_ids, f_out)
    results["eager_equals_transformers_ids"] = a == ref[0, 1:].tolist()  # type: ignore[index]
    base_ids = [variants["graph_javocab_eager_encoder"](ids, n) for ids, n in cases]
    for key in ("graph_javocab", "shipped_compiled_graph_javocab"):
        same = [variants[key](ids, n) == b for (ids, n), b in zip(cases, base_ids, strict=True)]
        results[f"{key}_same_ids_as_eager_encoder"] = f"{sum(same)}/{len(same)}"

    table = {}
    for key, fn in variants.items():
        for _ in range(3):
            fn(f_ids, f_out)
        if args.tiny:
            cases = cases[:3]
        one = [timed(lambda fn=fn: fn(f_ids, f_out)) for _ in range(args.reps)]
        every = [timed(lambda ids=ids, n=n, fn=fn: fn(ids, n)) for ids, n in cases]
        table[key] = {"fifteen_words": percentiles(one), "sentence_set": percentiles(every)}
        print(
            f"{key:28s} 15w P50 {table[key]['fifteen_words']['p50_ms']:8.2f} ms  "
            f"P95 {table[key]['fifteen_words']['p95_ms']:8.2f}  set P50 "
            f"{table[key]['sentence_set']['p50_ms']:8.2f} "
            f"P95 {table[key]['sentence_set']['p95_ms']:8.2f}"
        )
    results["latency"] = table
    base = table["transformers_generate"]["fifteen_words"]["p50_ms"]
    results["speedup_vs_transformers_p50"] = {
        k: round(base / v["fifteen_words"]["p50_ms"], 2) for k, v in table.items()
    }

    results["streaming"] = streaming(decs["shipped_compiled_graph_javocab"], ja, cases)
    with torch.inference_mode():
        results["step_anatomy"] = anatomy_of_steps(model, decs, f_ids)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: results[k]
                for k in (
                    "speedup_vs_transformers_p50",
                    "step_anatomy",
                    "eager_equals_transformers_ids",
                    "graph_javocab_same_ids_as_eager_encoder",
                    "shipped_compiled_graph_javocab_same_ids_as_eager_encoder",
                )
            },
            indent=1,
        )
    )


FIRST_PIECE_TOKENS = 8  # assumed: a first streamed piece of ~10 Japanese characters


def streaming(dec: GreedyDecoder, vocab: torch.Tensor,
              cases: list[tuple[list[int], int]]) -> dict[str, object]:
    """The shipped decoder streamed (ids read back every 2 steps) over the sentence set:
    time until the first FIRST_PIECE_TOKENS ids are on the host, and the whole streamed
    decode against generate()'s (the cost of the extra reads)."""
    key = "shipped_compiled_graph_javocab"
    first, whole, plain = [], [], []
    for ids, n in cases:
        _sync()
        t = time.perf_counter()
        got, t_first = 0, None
        for chunk in dec.stream_ids(ids, [EOS, JPN], n + 1, vocab_key=key, vocab_ids=vocab,
                                    ignore_eos=True):
            got += len(chunk)
            if t_first is None and got > FIRST_PIECE_TOKENS:  # + the language token
                t_first = time.perf_counter() - t
        whole.append(time.perf_counter() - t)
        first.append(t_first if t_first is not None else whole[-1])
        plain.append(timed(lambda ids=ids, n=n: dec.generate(
            ids, [EOS, JPN], n + 1, vocab_key=key, vocab_ids=vocab, ignore_eos=True)))
    return {
        "first_piece_tokens_assumed": FIRST_PIECE_TOKENS,
        "time_to_first_piece": percentiles(first),
        "streamed_whole": percentiles(whole),
        "generate_whole": percentiles(plain),
    }


def anatomy_of_steps(
    model: torch.nn.Module, decs: dict[str, GreedyDecoder], f_ids: list[int]
) -> dict[str, object]:
    """Per-step time (graph and eager), kernels, bytes and the bandwidth floor."""
    anatomy: dict[str, object] = {}
    bw = copy_bandwidth()
    anatomy["copy_bandwidth_GBps"] = round(bw / 1e9, 1)
    for key in ("graph_javocab_eager_encoder", "graph_javocab"):
        gd = decs[key]
        dec, _, enc_graphs = gd._decoders[key]
        if enc_graphs is not None:
            fn = lambda eg=enc_graphs: eg.encode(f_ids)  # noqa: E731
        else:
            fn = lambda gd=gd, dec=dec: dec.prepare(*gd._encode(f_ids))  # noqa: E731
        fn()
        one = [timed(fn) for _ in range(30)]
        anatomy[f"encoder_and_cross_prep_ms_15w_{key}"] = percentiles(one)
    for key in [k for k in decs if "graph" in k]:
        dec, graph, _ = decs[key]._decoders[key]
        n = 200
        replay = graph.replay if graph is not None else dec.step
        dec.pos.zero_()
        per = timed(lambda: [replay() for _ in range(n)]) / n  # noqa: B023
        eager = min(timed(dec.step) for _ in range(20))
        nbytes = step_bytes(dec, model)
        anatomy[key] = {
            "graph_step_ms": round(per * 1000, 4),
            "eager_step_ms": round(eager * 1000, 4),
            "weight_bytes_per_step": nbytes,
            "bandwidth_floor_ms": round(nbytes / bw * 1000, 4),
            "kernels_per_step": kernels_per_step(dec),
        }
    return anatomy


if __name__ == "__main__":
    main()
