"""The independent check: chrF of the shipped compact-en-ja on python-docs-ja's held-out
``tutorial/``, ``faq/`` and ``howto/`` pages, beside its chrF on the test split, in one run.

The held-out pages were never trained, tuned or scored on before this check (their
sentences that also occur on other pages are left out: those were trained on). The
variant is the narrator's: CTranslate2 int8 behind yomiage's guard (code spans
protected), clause by clause up to 120 characters, greedy, one thread.

Usage::

    python training/corpus.py --repo python-docs-ja.git --branches 3.11 \
        --held-out training/data/heldout.tsv --exclude training/data/{train,dev,test}.tsv
    PYTHONPATH=src python training/heldout.py --heldout training/data/heldout.tsv \
        --test training/data/test.tsv --out heldout.json

Prints chrF per folder and overall, and examples; ``--out`` keeps every hypothesis.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from evaluate import chrf, clause_fn, read_tsv  # training/evaluate.py

from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.token_engine import DecodeOptions

SHIPPED = Path(__file__).resolve().parents[1] / "src/yomiage/data/models/compact-en-ja"


def read_held_out(path: Path, n: int) -> list[tuple[str, str, str]]:
    """(English, Japanese, page) triples: ``n`` spread evenly over the file (its pages in
    order), or all of them."""
    rows = [tuple(line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if len(r) == 3]
    if 0 < n < len(rows):
        rows = [rows[round(i * (len(rows) - 1) / (n - 1))] for i in range(n)]
    return rows  # type: ignore[return-value]


def main() -> None:
    """Score both sets and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heldout", type=Path, required=True)
    ap.add_argument("--test", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=SHIPPED)
    ap.add_argument("--n", type=int, default=600, help="held-out pairs scored (0 = all)")
    ap.add_argument("--test-n", type=int, default=250, help="test pairs (the first N)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    engine = CT2Translator(args.model, device="cpu", compute_type="int8", threads=1,
                           options=DecodeOptions(use_vmap=False))
    translate = clause_fn(engine, 120)
    held = read_held_out(args.heldout, args.n)
    sets = {"held-out": ([r[0] for r in held], [r[1] for r in held]),
            "test split": read_tsv(args.test, args.test_n)}
    result: dict[str, object] = {"model": str(args.model), "variant":
                                 "ct2 int8, guard, clauses <=120 chars"}
    for name, (src, ref) in sets.items():
        t0 = time.perf_counter()
        hyp = translate(src)
        result[name] = {"chrf": round(chrf(hyp, ref), 2), "sentences": len(src),
                        "seconds": round(time.perf_counter() - t0, 1),
                        "pairs": [[s, r, h] for s, r, h in zip(src, ref, hyp, strict=True)]}
        print(f"{name:10s} chrF {chrf(hyp, ref):6.2f}  ({len(src)} sentences)")
        if name == "held-out":
            for folder in ("tutorial/", "faq/", "howto/"):
                i = [k for k, r in enumerate(held) if r[2].startswith(folder)]
                score = chrf([hyp[k] for k in i], [ref[k] for k in i])
                result[f"held-out {folder}"] = {"chrf": round(score, 2), "sentences": len(i)}
                print(f"  {folder:8s} chrF {score:6.2f}  ({len(i)} sentences)")
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
