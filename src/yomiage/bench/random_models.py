"""Random-weight Marian, M2M-100 and NLLB-200 models with real tokenizers, for tests and
benchmarks (figures from them are "random weights, real shape").

A SentencePiece model is trained on the given text; the Transformers checkpoint gets
tokenizer files a real model of its family would have, and is converted with
CTranslate2's own converter, so it loads through the same code as a downloaded model.
Needs the `convert` extra (transformers, torch).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sentencepiece as spm

from yomiage.translate.convert import convert_checkpoint
from yomiage.translate.languages import M2M_CODES, NLLB_CODES


@dataclass(frozen=True)
class Shape:
    """Architecture sizes of a model family."""

    family: str  # marian | m2m | nllb
    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int = 512


SHAPES: dict[str, Shape] = {
    # FuguMT / OPUS-MT: transformer-base, 32k SentencePiece vocabulary (+ <pad>).
    "marian": Shape("marian", 512, 6, 6, 8, 2048, 32001),
    "m2m-418m": Shape("m2m", 1024, 12, 12, 16, 4096, 128112, 1024),
    "nllb-600m": Shape("nllb", 1024, 12, 12, 16, 4096, 256206, 1024),
    "tiny-marian": Shape("marian", 32, 2, 2, 2, 64, 0, 256),
    "tiny-m2m": Shape("m2m", 32, 2, 2, 2, 64, 0, 256),
    "tiny-nllb": Shape("nllb", 32, 2, 2, 2, 64, 0, 256),
}


def train_spm(lines: Iterable[str], prefix: Path, vocab_size: int, bpe: bool) -> Path:
    """Train a SentencePiece model on ``lines``; returns the ``.model`` path."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(lines)), model_prefix=str(prefix), vocab_size=vocab_size,
        model_type="bpe" if bpe else "unigram", character_coverage=1.0,
        hard_vocab_limit=False, minloglevel=2, num_threads=1,
    )
    return prefix.with_suffix(".model")


def _pieces(model: Path) -> list[str]:
    proc = spm.SentencePieceProcessor(model_file=str(model))
    return [proc.id_to_piece(i) for i in range(proc.get_piece_size())]


def write_marian_tokenizer(out: Path, model: Path, vocab_size: int = 0) -> int:
    """Write a Marian tokenizer folder (vocab.json, source/target.spm, tokenizer_config.json)
    in FuguMT's layout for the shared SentencePiece ``model``, the vocabulary padded with
    filler pieces to ``vocab_size``; returns the vocabulary size."""
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in _pieces(model):
        vocab.setdefault(piece, len(vocab))
    target = max(vocab_size, len(vocab) + 1)
    for i in range(target - 1 - len(vocab)):
        vocab[f"▁filler{i}"] = len(vocab)
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(model, out / "source.spm")
    shutil.copy(model, out / "target.spm")
    (out / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "ja",
         "separate_vocab": False, "model_max_length": 512}))
    return len(vocab)


def _m2m_files(out: Path, model: Path, vocab_size: int) -> int:
    vocab: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in _pieces(model):
        vocab.setdefault(piece, len(vocab))
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    shutil.copy(model, out / "sentencepiece.bpe.model")
    # M2M-100's tokenizer appends its 100 language tokens, then "made-up words" to pad.
    base = len(vocab) + 100
    size = max(vocab_size, base + 8)
    (out / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "M2M100Tokenizer", "src_lang": "en", "tgt_lang": "ja",
         "language_codes": "m2m100", "num_madeup_words": size - base}))
    return size


def _nllb_files(out: Path, model: Path, vocab_size: int) -> int:
    shutil.copy(model, out / "sentencepiece.bpe.model")
    codes = sorted(set(NLLB_CODES.values()))
    (out / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "NllbTokenizer", "src_lang": "eng_Latn", "tgt_lang": "jpn_Jpan",
         "additional_special_tokens": codes}))
    return max(vocab_size, len(_pieces(model)) + 5 + len(codes) + 8)


def build_checkpoint(shape: Shape, spm_model: Path, out: Path, seed: int = 0) -> Path:
    """Save a random-weight Transformers checkpoint with tokenizer files to ``out``."""
    import torch
    from transformers import (
        M2M100Config,
        M2M100ForConditionalGeneration,
        MarianConfig,
        MarianMTModel,
    )

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    common: dict[str, Any] = dict(
        d_model=shape.d_model, encoder_layers=shape.encoder_layers,
        decoder_layers=shape.decoder_layers, encoder_attention_heads=shape.heads,
        decoder_attention_heads=shape.heads, encoder_ffn_dim=shape.ffn,
        decoder_ffn_dim=shape.ffn, max_position_embeddings=shape.max_positions,
    )
    model: torch.nn.Module
    config: Any
    if shape.family == "marian":
        size = write_marian_tokenizer(out, spm_model, shape.vocab_size)
        config = MarianConfig(vocab_size=size, pad_token_id=size - 1, eos_token_id=0,
                              decoder_start_token_id=size - 1,
                              share_encoder_decoder_embeddings=True, **common)
        model = MarianMTModel(config)
    else:
        write = _m2m_files if shape.family == "m2m" else _nllb_files
        size = write(out, spm_model, shape.vocab_size)
        config = M2M100Config(
            vocab_size=size, pad_token_id=1, bos_token_id=0, eos_token_id=2,
            decoder_start_token_id=2, scale_embedding=True,
            **common)
        config.tokenizer_class = "NllbTokenizer" if shape.family == "nllb" \
            else "M2M100Tokenizer"
        model = M2M100ForConditionalGeneration(config)
    model.eval()
    model.save_pretrained(str(out))
    return out


def build_model(shape: Shape | str, text: Iterable[str], out: Path, *, seed: int = 0,
                spm_vocab: int = 400, quantization: str = "int8",
                bpe: bool | None = None) -> tuple[Path, Path]:
    """Build ``out/hf`` (Transformers checkpoint) and ``out/ct2`` (converted); returns both.

    The SentencePiece model is BPE for NLLB/M2M and unigram for Marian unless ``bpe`` says.
    """
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    lines = [line for line in text if line.strip()]
    use_bpe = shape.family != "marian" if bpe is None else bpe
    spm_model = train_spm(lines, out / "spm" / "sp", spm_vocab, bpe=use_bpe)
    hf = build_checkpoint(shape, spm_model, out / "hf", seed)
    ct2 = convert_checkpoint(hf, out / "ct2", quantization)
    return hf, ct2


__all__ = ["M2M_CODES", "SHAPES", "Shape", "build_checkpoint", "build_model", "train_spm"]
