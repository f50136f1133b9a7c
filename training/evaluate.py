"""chrF of every speed trick on the real model: the Transformers float32 reference, then
CTranslate2 and OpenVINO through yomiage's own engines, vocabulary maps, code-span
protection and clause-by-clause translation — all greedy, on the same test split.

Usage::

    PYTHONPATH=src python training/evaluate.py --hf training/runs/mid2 \
        --test training/data/test.tsv --train training/data/train.tsv --out eval.json

Writes one JSON object (chrF, sentences, seconds per variant, plus the hypotheses of the
reference and of yomiage's default) and prints a table. The CTranslate2 conversions go to
``--work`` (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import sacrebleu

from yomiage.translate.clauses import translate_clauses
from yomiage.translate.convert import convert_checkpoint
from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.guard import GuardedTranslator
from yomiage.translate.token_engine import DecodeOptions
from yomiage.translate.tokenizer import SpmTokenizer, read_vocabulary
from yomiage.translate.vmap import VMAP_FILE, VMAP_LANG_FILE, vmap_marker

Translate = Callable[[Sequence[str]], list[str]]


def read_tsv(path: Path, limit: int = 0) -> tuple[list[str], list[str]]:
    """English sources and Japanese references of a TSV split."""
    src, ref = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        en, _, ja = line.partition("\t")
        if en and ja:
            src.append(en)
            ref.append(ja)
    return (src[:limit], ref[:limit]) if limit else (src, ref)


def chrf(hyps: Sequence[str], refs: Sequence[str]) -> float:
    """sacrebleu chrF (character 6-grams, beta 2) of a corpus."""
    return float(sacrebleu.corpus_chrf(list(hyps), [list(refs)]).score)


def hf_reference(checkpoint: Path, batch: int = 16) -> Translate:
    """Greedy Transformers float32 translation with yomiage's length limit (2n + 10)."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    tok = MarianTokenizer.from_pretrained(str(checkpoint))
    model = MarianMTModel.from_pretrained(str(checkpoint), dtype=torch.float32).eval()

    def run(texts: Sequence[str]) -> list[str]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = [""] * len(texts)
        with torch.inference_mode():
            for i in range(0, len(order), batch):
                idx = order[i:i + batch]
                enc = tok([texts[j] for j in idx], return_tensors="pt", padding=True)
                longest = int(enc["attention_mask"].sum(1).max())
                ids = model.generate(**enc, num_beams=1, do_sample=False,
                                     max_new_tokens=2 * longest + 10)
                for j, t in zip(idx, tok.batch_decode(ids, skip_special_tokens=True),
                                strict=True):
                    out[j] = t.strip()
        return out
    return run


def corpus_vmap(ct2_dir: Path, out_dir: Path, japanese: Sequence[str], size: int) -> Path:
    """A copy of ``ct2_dir`` whose vmap.txt holds the ``size`` tokens most used by the
    tokenized Japanese text (plus the special tokens); 0 = every token seen."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in ct2_dir.iterdir():
        if item.name not in (VMAP_FILE, VMAP_LANG_FILE) and not (out_dir / item.name).exists():
            os.symlink(item.resolve(), out_dir / item.name)
    tok = SpmTokenizer.load(ct2_dir)
    counts: Counter[str] = Counter()
    for line in japanese:
        counts.update(tok.target.encode(line, out_type=str))
    vocab = set(read_vocabulary(ct2_dir))
    ranked = [t for t, _ in counts.most_common() if t in vocab]
    keep = ["</s>", "<unk>", *(ranked[:size] if size else ranked)]
    (out_dir / VMAP_FILE).write_text("\t" + " ".join(dict.fromkeys(keep)) + "\n",
                                     encoding="utf-8")
    (out_dir / VMAP_LANG_FILE).write_text(vmap_marker("ja"))
    return out_dir


def engine_fn(engine: object, guarded: bool, protect: bool = True) -> Translate:
    """Batch translation through an engine (optionally behind yomiage's guard)."""
    t = GuardedTranslator(engine, protect_spans=protect) if guarded else engine  # type: ignore[arg-type]
    return lambda texts: t.translate_batch(list(texts), "en", "ja")  # type: ignore[union-attr]


def one_by_one(engine: object, protect: bool = True) -> Translate:
    """Sentence-at-a-time translation (what the narrator does)."""
    t = GuardedTranslator(engine, protect_spans=protect)  # type: ignore[arg-type]
    return lambda texts: [t.translate(x, "en", "ja") for x in texts]


def clause_fn(engine: object, max_chars: int) -> Translate:
    """Clause-by-clause translation joined back together, as the narrator speaks it."""
    t = GuardedTranslator(engine)  # type: ignore[arg-type]
    return lambda texts: ["".join(translate_clauses(t, x, "en", "ja", max_chars))
                          for x in texts]


def main() -> None:
    """Score every variant and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hf", type=Path, required=True, help="Transformers checkpoint")
    ap.add_argument("--test", type=Path, default=Path("training/data/test.tsv"))
    ap.add_argument("--train", type=Path, default=Path("training/data/train.tsv"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--vmap-sizes", type=int, nargs="*", default=[2000, 4000, 8000, 0])
    ap.add_argument("--skip", nargs="*", default=[])
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="yomiage-eval-"))
    src, ref = read_tsv(args.test, args.limit)
    _, train_ja = read_tsv(args.train)
    dirs = {}
    for q in ("float32", "int8"):
        dirs[q] = work / f"ct2-{q}"
        if not (dirs[q] / "model.bin").is_file():
            shutil.rmtree(dirs[q], ignore_errors=True)
            convert_checkpoint(args.hf, dirs[q], q)

    def ct2(q: str, vmap: bool, model_dir: Path | None = None) -> CT2Translator:
        return CT2Translator(model_dir or dirs[q], device="cpu", compute_type=q, threads=1,
                             options=DecodeOptions(use_vmap=vmap),
                             vmap_target="ja" if vmap else None)

    def ov(vmap: bool, group: int | None = None) -> object:
        from yomiage.translate.openvino.engine import ACTIVATION_GROUP, OVTranslator

        d = work / ("ov-vmap" if vmap else "ov")
        if not d.exists():
            shutil.copytree(dirs["int8"], d, ignore=shutil.ignore_patterns("vmap.*"))
        return OVTranslator(d, threads=1, options=DecodeOptions(use_vmap=vmap),
                            activation_group=ACTIVATION_GROUP if group is None else group)

    variants: dict[str, Callable[[], Translate]] = {
        "transformers float32 (reference)": lambda: hf_reference(args.hf),
        "ct2 float32": lambda: engine_fn(ct2("float32", False), False),
        "ct2 int8": lambda: engine_fn(ct2("int8", False), False),
        "ct2 int8 + script vmap (yomiage rules)": lambda: engine_fn(ct2("int8", True), False),
        **{f"ct2 int8 + corpus vmap {n or 'all'}": (lambda n=n: engine_fn(ct2(
            "int8", True, corpus_vmap(dirs["int8"], work / f"vmap-{n}", train_ja, n)), False))
           for n in args.vmap_sizes},
        "ct2 int8, guard (protected spans)": lambda: engine_fn(ct2("int8", False), True),
        "ct2 int8, guard, unprotected": lambda: engine_fn(ct2("int8", False), True, False),
        "ct2 int8, guard, one sentence a call": lambda: one_by_one(ct2("int8", False)),
        "ct2 int8, guard, clauses ≤120 chars": lambda: clause_fn(ct2("int8", False), 120),
        "ct2 int8, guard, clauses ≤60 chars": lambda: clause_fn(ct2("int8", False), 60),
        "openvino int8, act. group 128": lambda: engine_fn(ov(False), False),
        "openvino int8, act. group 0 (f32 activations)": lambda: engine_fn(ov(False, 0), False),
        "openvino int8 + script vmap": lambda: engine_fn(ov(True), False),
    }
    results: dict[str, dict[str, object]] = {}
    hyps_of: dict[str, list[str]] = {}
    base = None
    for name, make in variants.items():
        if any(s in name for s in args.skip):
            continue
        fn = make()
        started = time.perf_counter()
        hyps = fn(src)
        seconds = time.perf_counter() - started
        score = chrf(hyps, ref)
        base = score if base is None else base
        hyps_of[name] = hyps
        first = next(iter(hyps_of.values()))
        same = sum(h == r for h, r in zip(hyps, first, strict=True))
        results[name] = {"chrf": round(score, 2), "delta_vs_first": round(score - base, 2),
                         "identical_to_first": same, "seconds": round(seconds, 1)}
        print(f"| {name} | {score:.2f} | {score - base:+.2f} | {same}/{len(src)} | "
              f"{seconds:.1f} s |", flush=True)
    report = {"test": str(args.test), "sentences": len(src), "checkpoint": str(args.hf),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "results": results, "sources": src, "references": ref,
              "hypotheses": hyps_of}
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
