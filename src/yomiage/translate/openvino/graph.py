"""OpenVINO graphs of a CTranslate2 Transformer (Marian, M2M-100, NLLB-200), built from its
``model.bin``: the encoder (which also computes every decoder layer's cross-attention keys
and values) and one decoder step.

Weights stay int8 with a float multiplier per output row, as CTranslate2 stores them; the
CPU plugin runs such a product as one pass over the int8 bytes, which is what bounds a
decoder step of batch 1. The step keeps its self-attention keys and values in the
request's state (ReadValue/Assign), so a step appends one position instead of copying the
cache in and out. Token and position embeddings are added by the caller (a row lookup).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yomiage.translate.ct2.weights import Ct2Weights

LN_EPS = 1e-5  # CTranslate2's LayerNorm epsilon
# CTranslate2's Activation enum (python/ctranslate2/specs/common_spec.py): the values that
# NLLB/M2M-100 (ReLU), OPUS-MT (swish) and Transformers' Marian default (GELU) use.
RELU, SWISH, GELU = 0, 2, 3


@dataclass(frozen=True)
class Architecture:
    """What the graphs need to know of a model, read from its variables."""

    d_model: int
    heads: int
    encoder_layers: int
    decoder_layers: int
    pre_norm: bool
    activation: int
    vocab_rows: int

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads


def architecture(w: Ct2Weights) -> Architecture:
    """The architecture of a CTranslate2 ``TransformerSpec`` model; ValueError for others."""
    if w.spec != "TransformerSpec":
        raise ValueError(f"{w.path}: {w.spec} is not an encoder-decoder Transformer")
    for flag in ("decoder/alibi", "encoder/embeddings_merge", "encoder/multi_query_attention"):
        if w.scalar(flag):
            raise ValueError(f"{w.path}: {flag} is not supported by the OpenVINO engine")
    if "encoder/layer_0/self_attention/linear_0/weight" not in w:
        raise ValueError(f"{w.path}: no encoder layers")
    rows, d = w.array("decoder/embeddings/weight").shape
    return Architecture(
        d_model=int(d),
        heads=int(w.scalar("decoder/num_heads")),
        encoder_layers=_count(w, "encoder"),
        decoder_layers=_count(w, "decoder"),
        pre_norm=bool(w.scalar("decoder/pre_norm", 1.0)),
        activation=int(w.scalar("decoder/activation", RELU)),
        vocab_rows=int(rows),
    )


def _count(w: Ct2Weights, side: str) -> int:
    n = 0
    while f"{side}/layer_{n}/ffn/linear_0/weight" in w:
        n += 1
    return n


class _Ops:
    """Graph pieces over one model's weights."""

    def __init__(self, w: Ct2Weights, arch: Architecture) -> None:
        import openvino.opset13 as ops

        self.ops, self.w, self.arch = ops, w, arch

    def const(self, value: np.ndarray | np.generic) -> Any:
        """A constant over ``value``'s memory (weights stay in the model file's map)."""
        arr = np.asarray(value)
        arr = arr if arr.flags.c_contiguous else arr.copy()
        return self.ops.constant(arr, shared_memory=arr.size >= 4096)

    def int8_matmul(self, x: Any, rows: np.ndarray, mult: np.ndarray,
                    bias: np.ndarray | None = None) -> Any:
        """``x @ (rows × mult).T (+ bias)``, the weight kept as int8 in the graph."""
        ops = self.ops
        weight = ops.multiply(ops.convert(self.const(rows), np.float32), self.const(mult))
        out = ops.matmul(x, weight, False, True)
        return out if bias is None else ops.add(out, self.const(bias.astype(np.float32)))

    def linear(self, x: Any, name: str, scale: float = 1.0) -> Any:
        """``name``'s layer on ``x``, its output times ``scale`` (folded into the weights)."""
        rows, mult = self.w.int8_rows(name)
        bias = self.w.array(f"{name}/bias") if f"{name}/bias" in self.w else None
        if scale != 1.0:
            mult = mult * np.float32(scale)
            bias = None if bias is None else bias * np.float32(scale)
        return self.int8_matmul(x, rows, mult, bias)

    def norm(self, x: Any, name: str) -> Any:
        ops = self.ops
        y = ops.mvn(x, self.const(np.array([-1], np.int64)), True, LN_EPS, "inside_sqrt")
        y = ops.multiply(y, self.const(self.w.array(f"{name}/gamma").astype(np.float32)))
        return ops.add(y, self.const(self.w.array(f"{name}/beta").astype(np.float32)))

    def activation(self, x: Any) -> Any:
        ops, act = self.ops, self.arch.activation
        if act == RELU:
            return ops.relu(x)
        if act == GELU:
            return ops.gelu(x, "erf")
        if act == SWISH:
            return ops.swish(x)
        # the others (GELU with tanh or sigmoid, …) are used by no model family here
        raise ValueError(f"activation {act} is not supported by the OpenVINO engine")

    def heads(self, x: Any) -> Any:
        """[1, T, d] → [1, H, T, dh]."""
        a = self.arch
        shaped = self.ops.reshape(x, self.const(np.array([1, -1, a.heads, a.head_dim])), False)
        return self.ops.transpose(shaped, self.const(np.array([0, 2, 1, 3])))

    def merge(self, x: Any) -> Any:
        """[1, H, T, dh] → [1, T, d]."""
        moved = self.ops.transpose(x, self.const(np.array([0, 2, 1, 3])))
        return self.ops.reshape(moved, self.const(np.array([1, -1, self.arch.d_model])), False)

    def one_token_heads(self, x: Any) -> Any:
        """[1, 1, d] → [1, H, 1, dh]: a reshape, since one position needs no transpose."""
        a = self.arch
        return self.ops.reshape(x, self.const(np.array([1, a.heads, 1, a.head_dim])), False)

    def one_token_merge(self, x: Any) -> Any:
        """[1, H, 1, dh] → [1, 1, d]."""
        return self.ops.reshape(x, self.const(np.array([1, 1, self.arch.d_model])), False)

    def split(self, x: Any, parts: int) -> list[Any]:
        return list(self.ops.split(x, self.const(np.int64(-1)), parts).outputs())

    def sublayer(self, x: Any, name: str, body: Any) -> Any:
        """Residual sublayer: pre-norm ``x + body(LN(x))`` or post-norm ``LN(x + body(x))``."""
        ops = self.ops
        if self.arch.pre_norm:
            return ops.add(x, body(self.norm(x, f"{name}/layer_norm")))
        return self.norm(ops.add(x, body(x)), f"{name}/layer_norm")

    def ffn(self, x: Any, name: str) -> Any:
        return self.sublayer(x, name, lambda h: self.linear(
            self.activation(self.linear(h, f"{name}/linear_0")), f"{name}/linear_1"))

    def final_norm(self, x: Any, side: str) -> Any:
        return self.norm(x, f"{side}/layer_norm") if f"{side}/layer_norm/gamma" in self.w else x


def build_encoder(w: Ct2Weights, arch: Architecture) -> Any:
    """ov.Model: ``x`` [1, S, d] (embedded source) → ``cross_k_i`` [1, H, dh, S] (keys,
    transposed for the step's product) and ``cross_v_i`` [1, H, S, dh] for each decoder
    layer i."""
    import openvino as ov

    g = _Ops(w, arch)
    ops = g.ops
    x_in = ops.parameter([1, -1, arch.d_model], np.float32, name="x")
    x: Any = x_in

    def attend(name: str) -> Any:
        def body(h: Any) -> Any:
            q, k, v = (g.heads(p) for p in g.split(g.linear(h, f"{name}/linear_0"), 3))
            out = ops.scaled_dot_product_attention(q, k, v, causal=False)
            return g.linear(g.merge(out), f"{name}/linear_1")
        return body

    for i in range(arch.encoder_layers):
        x = g.sublayer(x, f"encoder/layer_{i}/self_attention",
                       attend(f"encoder/layer_{i}/self_attention"))
        x = g.ffn(x, f"encoder/layer_{i}/ffn")
    memory = g.final_norm(x, "encoder")
    results = []
    for i in range(arch.decoder_layers):
        k, v = g.split(g.linear(memory, f"decoder/layer_{i}/attention/linear_1"), 2)
        keys = ops.transpose(g.heads(k), g.const(np.array([0, 1, 3, 2])))  # [1, H, dh, S]
        for kind, node in (("k", keys), ("v", g.heads(v))):
            node.get_output_tensor(0).set_names({f"cross_{kind}_{i}"})
            results.append(ops.result(node))
    return ov.Model(results, [x_in], "encoder")


def build_step(w: Ct2Weights, arch: Architecture, vocab_ids: Sequence[int] | None) -> Any:
    """ov.Model of one decoder step.

    Inputs: ``x`` [1, 1, d] (embedded token + position), ``beam_idx`` [1] (zero),
    ``cross_k_i``/``cross_v_i`` from the encoder, ``extra_w`` [E, d] and ``extra_b`` [E]
    (E ≥ 1: output rows allowed for this sentence only). Output ``top`` [1, 2]: the
    indices of the two best scores over ``vocab_ids`` (all rows when None) followed by the
    extra rows. Self-attention keys and values live in the state (``reset_state`` before
    each sentence).
    """
    import openvino as ov
    from openvino.op.util import Variable, VariableInfo

    g = _Ops(w, arch)
    ops = g.ops
    d, heads, dh = arch.d_model, arch.heads, arch.head_dim
    x_in = ops.parameter([1, 1, d], np.float32, name="x")
    beam_idx = ops.parameter([-1], np.int32, name="beam_idx")
    params = [x_in, beam_idx]
    sinks = []
    x: Any = x_in
    for i in range(arch.decoder_layers):
        base = f"decoder/layer_{i}"
        cross = {}
        cross["k"] = ops.parameter([1, heads, dh, -1], np.float32, name=f"cross_k_{i}")
        cross["v"] = ops.parameter([1, heads, -1, dh], np.float32, name=f"cross_v_{i}")
        params += [cross["k"], cross["v"]]

        def self_attn(h: Any, i: int = i, base: str = base) -> Any:
            q, k, v = (g.one_token_heads(p)
                       for p in g.split(g.linear(h, f"{base}/self_attention/linear_0"), 3))
            full = []
            for kind, new in (("k", k), ("v", v)):
                info = VariableInfo()
                info.variable_id = f"past_{kind}_{i}"
                info.data_shape = ov.PartialShape([-1, heads, -1, dh])
                info.data_type = ov.Type.f32
                var = Variable(info)
                # ReadValue → Gather(beam_idx) → Concat → SDPA, Concat → Assign: the CPU
                # plugin's pattern for a KV cache that grows in place
                empty = g.const(np.zeros((1, heads, 0, dh), np.float32))
                past = ops.gather(ops.read_value(empty, var), beam_idx, g.const(np.int64(0)))
                joined = ops.concat([past, new], 2)
                sinks.append(ops.assign(joined, var))
                full.append(joined)
            out = ops.scaled_dot_product_attention(q, full[0], full[1], causal=False)
            return g.linear(g.one_token_merge(out), f"{base}/self_attention/linear_1")

        def cross_attn(h: Any, base: str = base, cross: dict[str, Any] = cross) -> Any:
            # one query: plain products over keys the encoder stored transposed, the
            # 1/sqrt(dh) folded into the query's weights (the plugin does not fuse this
            # attention; as SDPA it added a transpose and a scaling per layer)
            q = g.one_token_heads(g.linear(h, f"{base}/attention/linear_0", dh ** -0.5))
            weights = ops.softmax(ops.matmul(q, cross["k"], False, False), -1)
            out = ops.matmul(weights, cross["v"], False, False)
            return g.linear(g.one_token_merge(out), f"{base}/attention/linear_2")

        x = g.sublayer(x, f"{base}/self_attention", self_attn)
        x = g.sublayer(x, f"{base}/attention", cross_attn)
        x = g.ffn(x, f"{base}/ffn")
    h = ops.reshape(g.final_norm(x, "decoder"), g.const(np.array([1, d])), False)
    rows, mult = w.int8_rows("decoder/projection")
    bias = w.array("decoder/projection/bias") if "decoder/projection/bias" in w else None
    if vocab_ids is not None:
        ids = np.asarray(vocab_ids, dtype=np.int64)
        rows, mult = rows[ids], mult[ids]
        bias = bias[ids] if bias is not None else None
    fixed = g.int8_matmul(h, rows, mult, bias)
    extra_w = ops.parameter([-1, d], np.float32, name="extra_w")
    extra_b = ops.parameter([-1], np.float32, name="extra_b")
    params += [extra_w, extra_b]
    extra = ops.add(ops.matmul(h, extra_w, False, True), extra_b)
    scores = ops.concat([fixed, extra], 1)
    top = ops.topk(scores, g.const(np.int64(2)), 1, "max", "value", "i64")
    top.output(1).get_tensor().set_names({"top"})
    return ov.Model([ops.result(top.output(1))], sinks, params, "decoder_step")
