"""Random-weight CTranslate2 Marian models built without PyTorch or Transformers.

The pipeline benchmark times translation on a model of the real shape when no model is
installed (bench/random_models.py builds one through Transformers and CTranslate2's
converter, which needs the ``convert`` extra). On the runtime install (``./setup.sh``)
neither is there, so this module writes the same kind of model directly through
CTranslate2's model specification: the variables the converter would produce from a
``MarianMTModel`` (post-norm Transformer, Swish feed-forward, sinusoidal positions, the
decoder starting from a zero embedding, tied embeddings and projection), filled with
seeded random numbers, plus the SentencePiece and vocabulary files the engine reads.
Figures from it are "random weights, real shape", like those of the converted model.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from yomiage.bench.random_models import SHAPES, Shape, train_spm, write_marian_tokenizer

log = logging.getLogger(__name__)


def torch_available() -> bool:
    """True when PyTorch and Transformers import (the converter route can run)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def _sinusoids(positions: int, dim: int) -> np.ndarray:
    """Marian's sinusoidal position table, (positions, dim): sines then cosines."""
    half = dim // 2
    scale = math.log(10000.0) / max(1, half - 1)
    freqs = np.exp(-scale * np.arange(half, dtype=np.float64))
    angles = np.arange(positions, dtype=np.float64)[:, None] * freqs[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


def marian_spec(shape: Shape, vocab_size: int, seed: int = 0) -> object:
    """A filled ``ctranslate2.specs.TransformerSpec`` of ``shape`` (family marian) with
    ``vocab_size`` tokens; weights ~ N(0, 0.02²), layer norms identity."""
    from ctranslate2.specs import common_spec, transformer_spec

    if shape.family != "marian":
        raise ValueError(f"only Marian shapes build without PyTorch, not {shape.family!r}")
    rng = np.random.default_rng(seed)
    d, ffn = shape.d_model, shape.ffn

    def rand(*dims: int) -> np.ndarray:
        return (rng.standard_normal(dims, dtype=np.float32) * 0.02).astype(np.float32)

    def linear(spec: object, out_dim: int, in_dim: int) -> None:
        spec.weight = rand(out_dim, in_dim)  # type: ignore[attr-defined]
        spec.bias = np.zeros(out_dim, np.float32)  # type: ignore[attr-defined]

    def norm(spec: object) -> None:
        spec.gamma = np.ones(d, np.float32)  # type: ignore[attr-defined]
        spec.beta = np.zeros(d, np.float32)  # type: ignore[attr-defined]

    def attention(spec: object, fused: bool) -> None:
        lin = spec.linear  # type: ignore[attr-defined]
        if fused:
            linear(lin[0], 3 * d, d)
            linear(lin[1], d, d)
        else:
            linear(lin[0], d, d)
            linear(lin[1], 2 * d, d)
            linear(lin[2], d, d)
        norm(spec.layer_norm)  # type: ignore[attr-defined]

    def feed_forward(spec: object) -> None:
        linear(spec.linear_0, ffn, d)  # type: ignore[attr-defined]
        linear(spec.linear_1, d, ffn)  # type: ignore[attr-defined]
        norm(spec.layer_norm)  # type: ignore[attr-defined]

    spec = transformer_spec.TransformerSpec.from_config(
        (shape.encoder_layers, shape.decoder_layers), shape.heads, pre_norm=False,
        activation=common_spec.Activation.SWISH, layernorm_embedding=False)
    embedding = rand(vocab_size, d)
    positions = _sinusoids(shape.max_positions, d)
    enc, dec = spec.encoder, spec.decoder
    enc.embeddings[0].weight = embedding
    enc.position_encodings.encodings = positions
    for layer in enc.layer:
        attention(layer.self_attention, fused=True)
        feed_forward(layer.ffn)
    dec.embeddings.weight = embedding
    dec.position_encodings.encodings = positions
    dec.start_from_zero_embedding = True
    for layer in dec.layer:
        attention(layer.self_attention, fused=True)
        attention(layer.attention, fused=False)
        feed_forward(layer.ffn)
    dec.projection.weight = embedding  # no bias: Marian's final_logits_bias is zero
    scale = np.float32(math.sqrt(d))  # Marian (OPUS-MT, FuguMT) scales its embeddings
    enc.scale_embeddings = dec.scale_embeddings = scale
    return spec


def build_marian_ct2(shape: Shape | str, text: Iterable[str], out: Path, *, seed: int = 0,
                     spm_vocab: int = 400, quantization: str = "int8", bpe: bool = True,
                     ) -> Path:
    """Write a random-weight CTranslate2 Marian model of ``shape`` to ``out`` (its
    SentencePiece model trained on ``text``); returns ``out``. Needs only ctranslate2,
    sentencepiece and numpy."""
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    lines = [line for line in text if line.strip()]
    spm_model = train_spm(lines, out.parent / "spm" / "sp", spm_vocab, bpe=bpe)
    out.mkdir(parents=True, exist_ok=True)
    write_marian_tokenizer(out, spm_model, shape.vocab_size)
    vocab = json.loads((out / "vocab.json").read_text("utf-8"))
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    if tokens[-1] == "<pad>":  # as the converter: the decoder starts from a zero embedding
        tokens.pop()
    spec = marian_spec(shape, len(tokens), seed)
    spec.register_source_vocabulary(tokens)  # type: ignore[attr-defined]
    spec.register_target_vocabulary(tokens)  # type: ignore[attr-defined]
    cfg = spec.config  # type: ignore[attr-defined]
    cfg.bos_token, cfg.eos_token, cfg.unk_token = "<s>", "</s>", "<unk>"
    cfg.decoder_start_token = "</s>"
    spec.validate()  # type: ignore[attr-defined]
    spec.optimize(quantization=quantization)  # type: ignore[attr-defined]
    spec.save(str(out))  # type: ignore[attr-defined]
    log.info("random-weight %s model written to %s (without PyTorch)", shape.family, out)
    return out


def torchless_model(shape: str, cache_dir: Path) -> Path:
    """The CTranslate2 directory of a random-weight ``shape`` model built without PyTorch
    (once, under ``cache_dir``/bench-models/``shape``-direct); ImportError with the install
    command for shapes that need the converter."""
    spec = SHAPES.get(shape)
    if spec is None or spec.family != "marian":
        raise ImportError(f"a random-weight {shape} model needs PyTorch and Transformers "
                          "(pip install 'yomiage[convert]'); without them only Marian "
                          "shapes are built")
    ct2 = cache_dir / "bench-models" / f"{shape}-direct" / "ct2"
    if not (ct2 / "model.bin").is_file():
        from yomiage.bench.translate import SPM_VOCAB, load_sentences

        log.warning("building a random-weight %s model without PyTorch in %s (once)",
                    shape, ct2)
        build_marian_ct2(spec, load_sentences(), ct2, spm_vocab=SPM_VOCAB)
    return ct2
