"""Turn the corpus splits into what ``train.py`` needs: a SentencePiece vocabulary, the
Marian tokenizer files, and a training file with code-span placeholder pairs added.

The SentencePiece model is one unigram model over both languages (saved as both
``source.spm`` and ``target.spm``, as FuguMT's tokenizer expects two files); ``vocab.json``
maps its pieces to ids with ``</s>`` = 0, ``<unk>`` = 1 and ``<pad>`` last, as Marian does.
Placeholder pairs teach the model to copy yomiage's ``[N]`` marks (translate/protect.py):
for a training pair whose English has protected spans that each occur once in the
Japanese, the pair with both sides' spans replaced is added.

Usage::

    PYTHONPATH=src python training/prepare.py --data training/data --vocab 16000
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import sentencepiece as spm

from yomiage.bench.random_models import write_marian_tokenizer
from yomiage.translate.protect import protect


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(English, Japanese) pairs of a TSV split."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        en, _, ja = line.partition("\t")
        if en and ja:
            pairs.append((en, ja))
    return pairs


def placeholder_pair(en: str, ja: str) -> tuple[str, str] | None:
    """Both sides with the English's protected spans as ``[N]``; None when a span is not
    found exactly once in the Japanese, or when there is nothing to protect."""
    p = protect(en)
    if not p.spans:
        return None
    for i, span in enumerate(p.spans):
        if ja.count(span) != 1:
            return None
        ja = ja.replace(span, f"[{i}]")
    return p.text, ja


def main() -> None:
    """Write ``tok/`` (tokenizer files) and ``train_aug.tsv.gz`` under ``--data``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("training/data"))
    ap.add_argument("--vocab", type=int, default=16000)
    args = ap.parse_args()
    train = read_pairs(args.data / "train.tsv")
    prefix = args.data / "spm"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([s for pair in train for s in pair]), model_prefix=str(prefix),
        vocab_size=args.vocab, model_type="unigram", character_coverage=0.9995,
        input_sentence_size=2_000_000, shuffle_input_sentence=True, minloglevel=2,
        num_threads=2, byte_fallback=False)
    (args.data / "tok").mkdir(parents=True, exist_ok=True)
    size = write_marian_tokenizer(args.data / "tok", prefix.with_suffix(".model"))
    extra = [p for p in (placeholder_pair(en, ja) for en, ja in train) if p]
    with gzip.open(args.data / "train_aug.tsv.gz", "wt", encoding="utf-8") as f:
        for en, ja in train + extra:
            f.write(f"{en}\t{ja}\n")
    print(json.dumps({"vocab": size, "train": len(train), "placeholder_pairs": len(extra)}))


if __name__ == "__main__":
    main()
