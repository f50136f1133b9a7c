"""A one-token decoder step for Marian / M2M-100 / NLLB-200 with static buffers.

The step reads and writes only preallocated tensors (token, position, self-attention
KV cache, precomputed cross-attention K/V), so on CUDA one step can be captured in a
CUDA graph and replayed per token. Weights are taken from a loaded Transformers model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True, slots=True)
class DecoderShape:
    """Sizes of the static buffers: batch, max output positions, max source length."""

    batch: int
    max_tgt: int
    max_src: int


def _sinusoids(stack: Any, family: str, rows: int, dim: int, pad: int) -> torch.Tensor:
    """The position table of an encoder or decoder ``stack``, indexed by position (the
    family's offset already applied)."""
    dec = stack
    if family == "marian":
        table: torch.Tensor = dec.embed_positions.weight
        if table.shape[0] < rows:
            raise ValueError(f"Marian model allows {table.shape[0]} positions, {rows} requested")
        return table[:rows].detach()
    # M2M-100 / NLLB: positions start at padding_idx + 1.
    table = dec.embed_positions.weights
    if table.shape[0] < rows + pad + 1:
        table = type(dec.embed_positions).get_embedding(rows + pad + 1, dim, pad)
    return table[pad + 1 : pad + 1 + rows].detach()


class StaticDecoder(nn.Module):
    """Decoder of an HF seq2seq translation model, restructured for static single-token steps.

    ``family`` is "marian" (post-norm, no final norm, logits bias) or "m2m" (pre-norm with
    a final layer norm; also NLLB-200). ``vocab_ids`` restricts the output projection to
    those rows (sorted token ids); argmax results are mapped back to full-vocabulary ids.
    """

    def __init__(
        self,
        model: nn.Module,
        family: str,
        shape: DecoderShape,
        vocab_ids: torch.Tensor | None = None,
        extra_slots: int = 0,
    ) -> None:
        super().__init__()
        cfg: Any = model.config
        dec = model.get_decoder()  # type: ignore[operator]
        p = next(model.parameters())
        dev, dt = p.device, p.dtype
        self.family = family
        self.pre_norm = family != "marian"
        self.shape = shape
        self.d_model: int = cfg.d_model
        self.n_heads: int = cfg.decoder_attention_heads
        self.head_dim = self.d_model // self.n_heads
        self.n_layers = len(dec.layers)
        self.act = _activation(cfg.activation_function)
        scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        self.embed = dec.embed_tokens.weight  # shared with the model, not copied
        self.embed_scale = scale
        pad = int(cfg.pad_token_id)
        pos = _sinusoids(dec, family, shape.max_tgt, self.d_model, pad)
        self.pos_table = pos.to(dev, dt)
        self.layers = dec.layers
        self.final_norm = getattr(dec, "layer_norm", None) if self.pre_norm else None
        # fused self-attention QKV projection per layer
        self.qkv_w = [
            torch.cat(
                [ly.self_attn.q_proj.weight, ly.self_attn.k_proj.weight, ly.self_attn.v_proj.weight]
            )
            for ly in dec.layers
        ]
        self.qkv_b = [
            torch.cat(
                [ly.self_attn.q_proj.bias, ly.self_attn.k_proj.bias, ly.self_attn.v_proj.bias]
            )
            for ly in dec.layers
        ]
        head = model.get_output_embeddings()  # type: ignore[operator]
        bias = getattr(model, "final_logits_bias", None)
        full_w = head.weight
        full_b = (
            bias.reshape(-1)
            if bias is not None
            else torch.zeros(full_w.shape[0], device=dev, dtype=dt)
        )
        vocab = int(full_w.shape[0])
        if vocab_ids is None:
            vocab_ids = torch.arange(vocab)
        vocab_ids = vocab_ids.to(dev, torch.long)
        self.n_fixed = int(vocab_ids.numel())
        self.extra_slots = extra_slots
        self.full_w, self.full_b = full_w, full_b.to(dt)
        pad_ids = torch.full((extra_slots,), int(vocab_ids[0]), dtype=torch.long, device=dev)
        self.vocab_ids = torch.cat([vocab_ids, pad_ids])
        self.out_w = full_w.index_select(0, self.vocab_ids).contiguous()
        self.out_b = self.full_b.index_select(0, self.vocab_ids).contiguous()
        self.out_b[self.n_fixed :] = float("-inf")
        b, t, s, h, hd = shape.batch, shape.max_tgt, shape.max_src, self.n_heads, self.head_dim
        self.k_cache = torch.zeros(self.n_layers, b, h, t, hd, device=dev, dtype=dt)
        self.v_cache = torch.zeros(self.n_layers, b, h, t, hd, device=dev, dtype=dt)
        self.cross_k = torch.zeros(self.n_layers, b, h, s, hd, device=dev, dtype=dt)
        self.cross_v = torch.zeros(self.n_layers, b, h, s, hd, device=dev, dtype=dt)
        self.cross_mask = torch.zeros(b, 1, 1, s, device=dev, dtype=dt)
        self.tok = torch.zeros(b, dtype=torch.long, device=dev)
        self.pos = torch.zeros(1, dtype=torch.long, device=dev)
        self.next_tok = torch.zeros(b, dtype=torch.long, device=dev)
        self.out_buf = torch.zeros(b, t, dtype=torch.long, device=dev)
        self.steps = torch.arange(t, device=dev)

    @torch.no_grad()
    def set_extra(self, ids: list[int]) -> None:
        """Allow these token ids too (up to ``extra_slots``), until the next call."""
        ids = ids[: self.extra_slots]
        n, lo = len(ids), self.n_fixed
        self.out_b[lo:] = float("-inf")
        if n:
            idx = torch.tensor(ids, dtype=torch.long, device=self.vocab_ids.device)
            self.vocab_ids[lo : lo + n] = idx
            self.out_w[lo : lo + n] = self.full_w.index_select(0, idx)
            self.out_b[lo : lo + n] = self.full_b.index_select(0, idx)

    @torch.no_grad()
    def prepare(self, enc_out: torch.Tensor, enc_mask: torch.Tensor) -> None:
        """Load the encoder output (B, S, d) and its 0/1 mask (B, S) into the cross-attention
        buffers, and clear the self-attention cache."""
        bsz, s, _ = enc_out.shape
        if bsz != self.shape.batch or s > self.shape.max_src:
            raise ValueError(f"encoder output {tuple(enc_out.shape)} does not fit {self.shape}")
        for i, ly in enumerate(self.layers):
            att = ly.encoder_attn
            k = F.linear(enc_out, att.k_proj.weight, att.k_proj.bias)
            v = F.linear(enc_out, att.v_proj.weight, att.v_proj.bias)
            self.cross_k[i, :, :, :s] = k.view(bsz, s, self.n_heads, self.head_dim).transpose(1, 2)
            self.cross_v[i, :, :, :s] = v.view(bsz, s, self.n_heads, self.head_dim).transpose(1, 2)
        self.cross_k[:, :, :, s:] = 0
        self.cross_v[:, :, :, s:] = 0
        self.cross_mask.fill_(float("-inf"))
        keep = enc_mask.to(torch.bool).view(bsz, 1, 1, s)
        self.cross_mask[..., :s] = torch.where(keep, 0.0, float("-inf")).to(self.cross_mask.dtype)
        self.k_cache.zero_()
        self.v_cache.zero_()

    def _attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.head_dim**-0.5)
        return out.transpose(1, 2).reshape(q.shape[0], 1, self.d_model)

    @torch.no_grad()
    def step(self) -> None:
        """One decoder step: reads ``tok`` at ``pos``; writes the argmax to ``next_tok``,
        ``out_buf[:, pos]`` and ``tok``, then advances ``pos``."""
        bsz, h, hd = self.shape.batch, self.n_heads, self.head_dim
        x = F.embedding(self.tok.view(bsz, 1), self.embed) * self.embed_scale
        x = x + self.pos_table.index_select(0, self.pos).view(1, 1, -1)
        self_mask = (
            torch.where(self.steps <= self.pos, 0.0, float("-inf")).to(x.dtype).view(1, 1, 1, -1)
        )
        for i, ly in enumerate(self.layers):
            # self-attention
            res = x
            hid = ly.self_attn_layer_norm(x) if self.pre_norm else x
            qkv = F.linear(hid, self.qkv_w[i], self.qkv_b[i]).view(bsz, 1, 3, h, hd)
            q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))
            self.k_cache[i].index_copy_(2, self.pos, k)
            self.v_cache[i].index_copy_(2, self.pos, v)
            a = self._attend(q, self.k_cache[i], self.v_cache[i], self_mask)
            x = res + ly.self_attn.out_proj(a)
            if not self.pre_norm:
                x = ly.self_attn_layer_norm(x)
            # cross-attention
            res = x
            hid = ly.encoder_attn_layer_norm(x) if self.pre_norm else x
            ca = ly.encoder_attn
            q = ca.q_proj(hid).view(bsz, 1, h, hd).transpose(1, 2)
            a = self._attend(q, self.cross_k[i], self.cross_v[i], self.cross_mask)
            x = res + ca.out_proj(a)
            if not self.pre_norm:
                x = ly.encoder_attn_layer_norm(x)
            x = _feed_forward(ly, x, self.act, self.pre_norm)
        if self.final_norm is not None:
            x = self.final_norm(x)
        logits = F.linear(x.view(bsz, -1), self.out_w, self.out_b)
        self.next_tok.copy_(self.vocab_ids.index_select(0, logits.argmax(-1)))
        self.out_buf.index_copy_(1, self.pos, self.next_tok.view(bsz, 1))
        self.tok.copy_(self.next_tok)
        self.pos.add_(1)


def _feed_forward(ly: Any, x: torch.Tensor, act: nn.Module, pre_norm: bool) -> torch.Tensor:
    """One layer's residual feed-forward block, its layer norm before (NLLB, M2M) or
    after (Marian) it."""
    hid = ly.final_layer_norm(x) if pre_norm else x
    x = x + ly.fc2(act(ly.fc1(hid)))
    return x if pre_norm else ly.final_layer_norm(x)


def _activation(name: str) -> nn.Module:
    acts: dict[str, nn.Module] = {
        "relu": nn.ReLU(),
        "swish": nn.SiLU(),
        "silu": nn.SiLU(),
        "gelu": nn.GELU(),
    }
    if name not in acts:
        raise ValueError(f"unsupported activation {name!r}")
    return acts[name]


class GraphedStep:
    """A CUDA graph of one ``StaticDecoder.step``; replay() runs it with the current buffers."""

    def __init__(self, dec: StaticDecoder, capture_stream: torch.cuda.Stream | None = None) -> None:
        """``capture_stream``: the stream to capture on. Graphs captured on one stream share
        its cuBLAS workspace, so engines whose graphs may run at the same time must
        capture on different streams (pytorch/pytorch#193402)."""
        self.dec = dec
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # warm up kernels and cuBLAS handles off the graph
            for _ in range(3):
                dec.step()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, stream=capture_stream):
            dec.step()

    def replay(self) -> None:
        """Run one captured step."""
        self.graph.replay()


class StaticEncoder(nn.Module):
    """Encoder of an HF seq2seq translation model without Transformers' mask helpers, so
    that a right-padded input runs under a CUDA graph: ``keep`` masks the padded keys out
    of attention, and every real position gets the same output as an unpadded run."""

    def __init__(self, model: nn.Module, family: str, max_src: int) -> None:
        super().__init__()
        cfg: Any = model.config
        enc = model.get_encoder()  # type: ignore[operator]
        p = next(model.parameters())
        self.pre_norm = family != "marian"
        self.d_model: int = cfg.d_model
        self.n_heads: int = cfg.encoder_attention_heads
        self.head_dim = self.d_model // self.n_heads
        self.act = _activation(cfg.activation_function)
        self.embed = enc.embed_tokens.weight
        self.embed_scale = math.sqrt(cfg.d_model) if cfg.scale_embedding else 1.0
        pad = int(cfg.pad_token_id)
        self.pos_table = _sinusoids(enc, family, max_src, self.d_model, pad).to(p.device, p.dtype)
        self.layers = enc.layers
        self.final_norm = getattr(enc, "layer_norm", None) if self.pre_norm else None
        self.qkv_w = [
            torch.cat([ly.self_attn.q_proj.weight, ly.self_attn.k_proj.weight,
                       ly.self_attn.v_proj.weight])
            for ly in enc.layers
        ]
        self.qkv_b = [
            torch.cat([ly.self_attn.q_proj.bias, ly.self_attn.k_proj.bias,
                       ly.self_attn.v_proj.bias])
            for ly in enc.layers
        ]
        self.clamp = torch.finfo(p.dtype).max - 1000 if p.dtype == torch.float16 else None

    @torch.no_grad()
    def forward(self, ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """ids (B, L) and keep (B, L), true at real tokens → hidden states (B, L, d)."""
        bsz, n = ids.shape
        h, hd = self.n_heads, self.head_dim
        x = F.embedding(ids, self.embed) * self.embed_scale + self.pos_table[:n]
        mask = torch.where(keep.to(torch.bool), 0.0, float("-inf")).to(x.dtype)
        mask = mask.view(bsz, 1, 1, n)
        for i, ly in enumerate(self.layers):
            res = x
            hid = ly.self_attn_layer_norm(x) if self.pre_norm else x
            qkv = F.linear(hid, self.qkv_w[i], self.qkv_b[i]).view(bsz, n, 3, h, hd)
            q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=hd**-0.5)
            x = res + ly.self_attn.out_proj(a.transpose(1, 2).reshape(bsz, n, self.d_model))
            if not self.pre_norm:
                x = ly.self_attn_layer_norm(x)
            x = _feed_forward(ly, x, self.act, self.pre_norm)
            if self.clamp is not None:  # as Transformers does in float16 (a no-op if finite)
                x = x.clamp(-self.clamp, self.clamp)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x
