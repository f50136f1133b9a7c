"""NLLB-200-distilled-600M-shaped model with random weights (real shape), and source lengths.

Shared by the GPU benchmarks. No tokenizer is on the GPU machine, so a sentence's source
length is estimated from its words (NLLB's SentencePiece gives about 1.35 tokens a word
on English prose) plus the language token and </s>; token ids are random.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ROOT / "src" / "yomiage" / "data" / "bench_sentences_en.txt"
TOKENS_PER_WORD = 1.35
OUT_RATIO = 1.3  # forced output length = source tokens × this
JA_VOCAB_ROWS = 32000  # assumed size of a Japanese output vocabulary map (see README note)
FALLBACK = [
    "I updated the configuration file and restarted the development server on port 3000.",
    "The tests pass now.",
    "Let me check the logs to see why the build failed on the CI machine this morning.",
    "I found the bug: the parser skipped the last line when the file had no trailing newline.",
    "Next, I will refactor the database module so that every query goes through one helper.",
]


def sentences() -> list[str]:
    """The benchmark's English sentences (the shared set if present, else a fallback)."""
    if SENTENCES.is_file():
        lines = [ln.strip() for ln in SENTENCES.read_text(encoding="utf-8").splitlines()]
        return [ln for ln in lines if ln and not ln.startswith("#")]
    return FALLBACK


def src_len(sentence: str) -> int:
    """Estimated NLLB source length in tokens (language token and </s> included)."""
    return round(len(sentence.split()) * TOKENS_PER_WORD) + 2


def build_model(
    device: str = "cuda", dtype: torch.dtype = torch.float16, tiny: bool = False
) -> torch.nn.Module:
    """M2M100ForConditionalGeneration with NLLB-600M's configuration and random weights
    (``tiny``: 2+2 layers of width 64, for a dry run on the CPU)."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    cfg = M2M100Config(
        vocab_size=256206,
        d_model=1024,
        encoder_layers=12,
        decoder_layers=12,
        encoder_attention_heads=16,
        decoder_attention_heads=16,
        encoder_ffn_dim=4096,
        decoder_ffn_dim=4096,
        max_position_embeddings=1024,
        scale_embedding=True,
        activation_function="relu",
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )
    if tiny:
        cfg.update(
            dict(
                d_model=64,
                encoder_layers=2,
                decoder_layers=2,
                encoder_ffn_dim=128,
                decoder_ffn_dim=128,
                encoder_attention_heads=4,
                decoder_attention_heads=4,
            )
        )
    started = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(device):
        model = M2M100ForConditionalGeneration(cfg)
    model = model.to(dtype).eval()
    print(f"built NLLB-600M shape (random weights) in {time.perf_counter() - started:.1f} s")
    return model


def percentiles(values: list[float]) -> dict[str, float]:
    """P50/P95/mean/min/max in milliseconds of values given in seconds."""
    t = torch.tensor(values, dtype=torch.float64) * 1000.0
    return {
        "p50_ms": round(float(t.quantile(0.5)), 3),
        "p95_ms": round(float(t.quantile(0.95)), 3),
        "mean_ms": round(float(t.mean()), 3),
        "min_ms": round(float(t.min()), 3),
        "max_ms": round(float(t.max()), 3),
        "n": len(values),
    }
