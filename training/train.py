"""Train a compact English→Japanese ``MarianMTModel`` from scratch (bf16 autocast on a GPU).

Needs only torch, transformers and sentencepiece. Reads ``--data`` as ``prepare.py`` left
it (``tok/`` tokenizer files, ``train_aug.tsv.gz``, ``dev.tsv``), trains until
``--minutes`` of wall time have passed (a hard limit, checked every step), keeps the
weights with the lowest dev loss (evaluated every ``--eval-every`` steps), and saves a
Transformers checkpoint with the tokenizer files to ``--out`` — the same files a
downloaded FuguMT checkpoint has. ``--dtype bfloat16`` halves the saved weights.

Usage (the exact command of the shipped model is in docs/training.md)::

    python training/train.py --data training/data --out runs/small --d-model 256 \
        --ffn 1024 --heads 4 --enc 6 --dec 3 --minutes 7
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import math
import random
import shutil
import time
from pathlib import Path

import sentencepiece as spm
import torch
from transformers import MarianConfig, MarianMTModel

EOS, UNK = 0, 1


class Encoder:
    """Text to Marian ids with the tokenizer files of ``tok``."""

    def __init__(self, tok: Path) -> None:
        self.sp = spm.SentencePieceProcessor(model_file=str(tok / "source.spm"))
        self.vocab: dict[str, int] = json.loads((tok / "vocab.json").read_text("utf-8"))
        self.pad = self.vocab["<pad>"]

    def ids(self, text: str, limit: int) -> list[int]:
        pieces = self.sp.encode(text, out_type=str)[: limit - 1]
        return [self.vocab.get(p, UNK) for p in pieces] + [EOS]


def load_pairs(path: Path, enc: Encoder, limit: int) -> list[tuple[list[int], list[int]]]:
    """Token ids of every pair in a (gzipped) TSV file."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            en, _, ja = line.rstrip("\n").partition("\t")
            if en and ja:
                out.append((enc.ids(en, limit), enc.ids(ja, limit)))
    return out


def batches(pairs: list[tuple[list[int], list[int]]], max_tokens: int,
            rng: random.Random) -> list[list[int]]:
    """Indices grouped by length so that a batch holds about ``max_tokens`` tokens."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]), rng.random()))
    out: list[list[int]] = []
    cur: list[int] = []
    longest = 0
    for i in order:
        longest = max(longest, len(pairs[i][0]), len(pairs[i][1]))
        if cur and longest * (len(cur) + 1) > max_tokens:
            out.append(cur)
            cur, longest = [], max(len(pairs[i][0]), len(pairs[i][1]))
        cur.append(i)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(pairs: list[tuple[list[int], list[int]]], idx: list[int], pad: int,
            device: torch.device) -> dict[str, torch.Tensor]:
    """Padded input ids, attention mask and labels (-100 where padded) of one batch."""
    src = [pairs[i][0] for i in idx]
    tgt = [pairs[i][1] for i in idx]
    s_len, t_len = max(map(len, src)), max(map(len, tgt))
    ids = torch.full((len(idx), s_len), pad, dtype=torch.long)
    labels = torch.full((len(idx), t_len), -100, dtype=torch.long)
    for row, (s, t) in enumerate(zip(src, tgt, strict=True)):
        ids[row, : len(s)] = torch.tensor(s)
        labels[row, : len(t)] = torch.tensor(t)
    dec = torch.full((len(idx), t_len), pad, dtype=torch.long)
    dec[:, 1:] = labels[:, :-1].clamp(min=0)
    dec[:, 1:][labels[:, :-1] == -100] = pad
    return {"input_ids": ids.to(device), "attention_mask": (ids != pad).to(device),
            "decoder_input_ids": dec.to(device), "labels": labels.to(device)}


def smoothed_loss(logits: torch.Tensor, labels: torch.Tensor, eps: float) -> torch.Tensor:
    """Label-smoothed cross entropy over the non-padded positions."""
    return torch.nn.functional.cross_entropy(
        logits.float().view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100,
        label_smoothing=eps)


@torch.no_grad()
def dev_loss(model: MarianMTModel, pairs: list[tuple[list[int], list[int]]],
             groups: list[list[int]], pad: int, device: torch.device) -> float:
    """Mean token cross entropy (no smoothing) on the dev pairs."""
    model.eval()
    total, count = 0.0, 0
    for idx in groups:
        b = collate(pairs, idx, pad, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                           decoder_input_ids=b["decoder_input_ids"]).logits
        n = int((b["labels"] != -100).sum())
        total += float(smoothed_loss(logits, b["labels"], 0.0)) * n
        count += n
    model.train()
    return total / max(count, 1)


def main() -> None:
    """Train, keep the best dev-loss weights, save the checkpoint and a JSON log."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("training/data"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--enc", type=int, default=6)
    ap.add_argument("--dec", type=int, default=3)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--smoothing", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=1500)
    ap.add_argument("--max-tokens", type=int, default=12000)
    ap.add_argument("--max-len", type=int, default=160)
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--max-steps", type=int, default=0, help="0: until --minutes")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init", type=Path, help="continue from this checkpoint's weights")
    ap.add_argument("--step-offset", type=int, default=0,
                    help="steps already trained (the learning-rate schedule resumes there)")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    start = time.monotonic()
    deadline = start + args.minutes * 60
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    enc = Encoder(args.data / "tok")
    train = load_pairs(args.data / "train_aug.tsv.gz", enc, args.max_len)
    dev = load_pairs(args.data / "dev.tsv", enc, args.max_len)
    dev_groups = batches(dev, args.max_tokens, random.Random(0))
    size = len(enc.vocab)
    config = MarianConfig(
        vocab_size=size, pad_token_id=enc.pad, eos_token_id=EOS, decoder_start_token_id=enc.pad,
        d_model=args.d_model, encoder_layers=args.enc, decoder_layers=args.dec,
        encoder_attention_heads=args.heads, decoder_attention_heads=args.heads,
        encoder_ffn_dim=args.ffn, decoder_ffn_dim=args.ffn, max_position_embeddings=512,
        activation_function="swish", dropout=args.dropout, attention_dropout=0.1,
        activation_dropout=0.0, scale_embedding=True, share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True, max_length=256, num_beams=1)
    model = (MarianMTModel.from_pretrained(str(args.init), dtype=torch.float32) if args.init
             else MarianMTModel(config)).to(device)
    with torch.no_grad():  # <pad> (the decoder's start) is a zero vector, as CTranslate2 has it
        model.get_input_embeddings().weight[enc.pad].zero_()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9,
                            weight_decay=0.0, fused=device.type == "cuda")
    rewarm = 200 if args.init else args.warmup

    def lr_at(s: int) -> float:
        done = s + 1 + args.step_offset
        return min((s + 1) / rewarm, 1.0) * min(done / args.warmup, math.sqrt(args.warmup / done))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    log: list[dict[str, float]] = []
    best = (float("inf"), -1)
    best_state: dict[str, torch.Tensor] = {}
    step, epoch, tokens = 0, 0, 0
    done = False
    model.train()
    while not done:
        epoch += 1
        for idx in batches(train, args.max_tokens, rng):
            b = collate(train, idx, enc.pad, device)
            with torch.autocast(device.type, dtype=torch.bfloat16,
                                enabled=device.type == "cuda"):
                logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"],
                               decoder_input_ids=b["decoder_input_ids"]).logits
            loss = smoothed_loss(logits, b["labels"], args.smoothing)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            tokens += int((b["labels"] != -100).sum())
            over = time.monotonic() > deadline or (args.max_steps and step >= args.max_steps)
            if step % args.eval_every == 0 or over:
                dl = dev_loss(model, dev, dev_groups, enc.pad, device)
                entry = {"step": step, "epoch": epoch, "train_loss": float(loss),
                         "dev_loss": dl, "minutes": (time.monotonic() - start) / 60}
                log.append(entry)
                print(json.dumps(entry), flush=True)
                if dl < best[0]:
                    best = (dl, step)
                    best_state = copy.deepcopy({k: v.detach() for k, v in
                                                model.state_dict().items()})
            if over:
                done = True
                break
    model.load_state_dict(best_state)
    with torch.no_grad():  # the decoder starts from <pad>; Marian engines (CTranslate2)
        model.get_input_embeddings().weight[enc.pad].zero_()  # start from a zero vector
    model = model.to("cpu", dtype=getattr(torch, args.dtype)).eval()
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out), max_shard_size="15MB")
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        shutil.copy(args.data / "tok" / name, args.out / name)
    summary = {"args": {k: str(v) for k, v in vars(args).items()}, "params": params,
               "steps": step + args.step_offset, "epochs": epoch, "target_tokens": tokens,
               "best_dev_loss": best[0], "best_step": best[1],
               "train_minutes": (time.monotonic() - start) / 60,
               "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
               "torch": torch.__version__, "log": log}
    (args.out / "train_log.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "log"}), flush=True)


if __name__ == "__main__":
    main()
