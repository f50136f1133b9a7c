"""Kokoro-82M over right-padded inputs, so that one CUDA graph serves every length in a bucket.

The same weights and arithmetic as ``KokoroModel.forward``, restated so that padding
changes no real sample: token and frame counts live in device tensors (no host sync
inside a stage); instance norms take their statistics over the real frames only; every
convolution input is zero past the real length (as the unpadded model's zero padding
is); bidirectional LSTMs run their backward half over the real part reversed; the
excitation's phase stops growing past the end; the STFT sees the unpadded reflection at
the end; the inverse STFT is an overlap-add normalized by the real frames' window.

Two stages: ``tokens`` (ALBERT, durations, text encoder; bucket of token count) and
``frames`` (prosody, decoder, vocoder; bucket of frame count). Between them the host
reads the frame count (one sync) to pick the frame bucket.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from yomiage.tts.kokoro.torch_blocks import (
    SnakeResBlock,
    StyleInstanceNorm,
    StyleResBlock,
)
from yomiage.tts.kokoro.torch_model import KokoroModel

_SQRT_HALF = 1.0 / math.sqrt(2.0)
SAMPLES_PER_FRAME = 600  # 2 (decoder upsample) x 300 (vocoder)
STFT_PER_FRAME = 120  # STFT frames (hop 5) per duration frame


class SplitLstm(nn.Module):
    """A bidirectional LSTM as two one-way LSTMs: the backward one reads the real part of
    the sequence reversed (``rev``), so right padding never reaches a real position."""

    def __init__(self, lstm: nn.LSTM) -> None:
        super().__init__()
        n_in, hid = lstm.input_size, lstm.hidden_size
        self.fwd = nn.LSTM(n_in, hid, 1, batch_first=True)
        self.bwd = nn.LSTM(n_in, hid, 1, batch_first=True)
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(self.fwd, name).copy_(getattr(lstm, name))
                getattr(self.bwd, name).copy_(getattr(lstm, name + "_reverse"))

    def forward(self, x: torch.Tensor, rev: torch.Tensor) -> torch.Tensor:
        """x (1, L, C); rev (L,): index reversing the real part, identity on padding."""
        ahead = self.fwd(x)[0]
        back = self.bwd(x.index_select(1, rev))[0].index_select(1, rev)
        return torch.cat([ahead, back], dim=-1)


def reversal(length: int, n: torch.Tensor) -> torch.Tensor:
    """Index (length,) that reverses positions < n and keeps the rest in place."""
    i = torch.arange(length, device=n.device)
    return torch.where(i < n, n - 1 - i, i)


def length_mask(length: int, n: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(1, 1, length): 1 at positions < n, 0 after."""
    return (torch.arange(length, device=n.device) < n).to(dtype).view(1, 1, length)


def norm_core(x: torch.Tensor, m: torch.Tensor, n: torch.Tensor, w: torch.Tensor,
              b: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Instance norm over the real frames, affine (w, b), style (scale, shift), zero past
    the end: the arithmetic of a masked StyleInstanceNorm (a torch.compile target)."""
    mean = (x * m).sum(-1, keepdim=True) / n
    xc = (x - mean) * m
    y = xc * torch.rsqrt((xc * xc).sum(-1, keepdim=True) / n + 1e-5)
    return ((y * w + b) * scale + shift) * m


def snake_core(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Snake activation, as SnakeResBlock._snake (a torch.compile target)."""
    return x + torch.sin(a * x).pow(2) / a


Core = Callable[..., torch.Tensor]


def inorm(norm: StyleInstanceNorm, x: torch.Tensor, s: torch.Tensor, m: torch.Tensor,
          n: torch.Tensor, core: Core = norm_core) -> torch.Tensor:
    """StyleInstanceNorm over the real frames (mask ``m``, count ``n``); zero past them."""
    inst = norm.norm
    if inst.eps != 1e-5:
        raise ValueError("masked instance norm assumes eps 1e-5")
    gamma, beta = norm.fc(s).unsqueeze(-1).chunk(2, dim=1)
    c = x.shape[1]
    w = inst.weight.view(1, c, 1) if inst.weight is not None else torch.ones_like(gamma)
    b = inst.bias.view(1, c, 1) if inst.bias is not None else torch.zeros_like(gamma)
    return core(x, m, n, w, b, 1 + gamma, beta)


def style_res(blk: StyleResBlock | Any, x: torch.Tensor, s: torch.Tensor, m_in: torch.Tensor,
              n_in: torch.Tensor, m_out: torch.Tensor, n_out: torch.Tensor,
              core: Core = norm_core) -> torch.Tensor:
    """StyleResBlock.forward with masked norms (``m_out``/``n_out``: after upsampling)."""
    up = blk.upsample_type != "none"
    h = F.leaky_relu(inorm(blk.norm1, x, s, m_in, n_in, core), 0.2)
    if up:
        h = blk.pool(h) * m_out
    h = blk.conv1(h)
    h = blk.conv2(F.leaky_relu(inorm(blk.norm2, h, s, m_out, n_out, core), 0.2))
    short = F.interpolate(x, scale_factor=2.0, mode="nearest") if up else x
    if blk.learned_sc:
        short = blk.conv1x1(short)
    return (h + short) * _SQRT_HALF


def snake_res(blk: SnakeResBlock | Any, x: torch.Tensor, s: torch.Tensor, m: torch.Tensor,
              n: torch.Tensor, core: Core = norm_core, snake: Core = snake_core) -> torch.Tensor:
    """SnakeResBlock.forward with masked norms (Snake keeps the zeros past the end)."""
    for c1, c2, n1, n2, a1, a2 in zip(
        blk.convs1, blk.convs2, blk.adain1, blk.adain2, blk.alpha1, blk.alpha2, strict=True
    ):
        h = c1(snake(inorm(n1, x, s, m, n, core), a1))
        x = x + c2(snake(inorm(n2, h, s, m, n, core), a2))
    return x


def _reflect_end(x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """x (1, L) with the samples after the first ``n`` replaced by their reflection about
    sample n-1 (what a centred STFT pads the unpadded signal with)."""
    i = torch.arange(x.shape[-1], device=x.device)
    mirror = (2 * (n - 1) - i).clamp(0, x.shape[-1] - 1)
    return torch.where(i < n, x, x.gather(-1, mirror.view(1, -1)))


def _istft(mag: torch.Tensor, phase: torch.Tensor, window: torch.Tensor, hop: int,
           frames_mask: torch.Tensor) -> torch.Tensor:
    """torch.istft(center=True) by overlap-add, normalized by the real frames' squared
    window (torch.istft's host-side check would break a CUDA graph)."""
    n_fft = window.shape[0]
    spec = torch.polar(mag.float(), phase.float())
    frames = torch.fft.irfft(spec, n=n_fft, dim=1) * window.view(1, -1, 1)  # (1, n_fft, K)
    k = frames.shape[-1]
    size = (1, n_fft + hop * (k - 1))
    y = F.fold(frames, size, (1, n_fft), stride=(1, hop)).view(1, -1)
    env = F.fold((window * window).view(1, -1, 1) * frames_mask.view(1, 1, -1), size,
                 (1, n_fft), stride=(1, hop)).view(1, -1)
    half = n_fft // 2
    return y[:, half : half + hop * (k - 1)] / env[:, half : half + hop * (k - 1)].clamp(min=1e-11)


class PaddedKokoro(nn.Module):
    """The two padded stages over one KokoroModel's weights (batch size 1)."""

    def __init__(self, model: KokoroModel, fuse: bool = False) -> None:
        """``fuse``: torch.compile the masked norm and Snake (dynamic shapes), a few
        kernels each instead of a dozen."""
        super().__init__()
        self.model = model
        self.norm_core: Core = norm_core
        self.snake_core: Core = snake_core
        if fuse:
            self.norm_core = torch.compile(norm_core, dynamic=True)
            self.snake_core = torch.compile(snake_core, dynamic=True)
        pred = model.predictor
        self.dur_lstms = nn.ModuleList(
            SplitLstm(b) for b in pred.text_encoder.lstms if isinstance(b, nn.LSTM)
        )
        self.dur_lstm = SplitLstm(pred.lstm)
        self.shared = SplitLstm(pred.shared)
        self.text_lstm = SplitLstm(model.text_encoder.lstm)

    def _albert(self, ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        bert = self.model.bert
        emb = bert.embeddings
        n = ids.shape[1]
        x = (
            emb.word_embeddings(ids)
            + emb.token_type_embeddings.weight[0]
            + emb.position_embeddings.weight[:n]
        )
        x = bert.encoder.embedding_hidden_mapping_in(emb.LayerNorm(x))
        mask = torch.where(keep, 0.0, float("-inf")).to(x.dtype).view(1, 1, 1, n)
        cfg = bert.config
        heads, hd = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
        groups: Any = bert.encoder.albert_layer_groups
        per_group = cfg.num_hidden_layers // cfg.num_hidden_groups
        for i in range(cfg.num_hidden_layers):
            for layer in groups[i // per_group].albert_layers:
                att = layer.attention
                q, k, v = (
                    p(x).view(1, n, heads, hd).transpose(1, 2)
                    for p in (att.query, att.key, att.value)
                )
                a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=hd**-0.5)
                a = att.LayerNorm(x + att.dense(a.transpose(1, 2).reshape(1, n, -1)))
                x = layer.full_layer_layer_norm(
                    layer.ffn_output(layer.activation(layer.ffn(a))) + a
                )
        return x

    def tokens(self, ids: torch.Tensor, style: torch.Tensor, n_tok: torch.Tensor,
               speed: torch.Tensor, caps: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids (1, Tb) padded; n_tok, speed: 0-d tensors; caps (Tb,) →
        (d (1, Tb, 640), text features (1, 512, Tb), frames per token (Tb,), 0 on padding)."""
        m = self.model
        sh = m.shape
        tb = ids.shape[1]
        keep = torch.arange(tb, device=ids.device) < n_tok
        rev = reversal(tb, n_tok)
        mtok = keep.to(style.dtype).view(1, 1, tb)
        s_pros = style[:, sh.style :]
        bert = self._albert(ids, keep)
        x = m.bert_encoder(bert).transpose(1, 2)
        # duration encoder
        st = s_pros.unsqueeze(1).expand(-1, tb, -1)
        h = torch.cat([x.transpose(1, 2), st], dim=-1)
        lstms = iter(self.dur_lstms)
        for block in m.predictor.text_encoder.lstms:
            if isinstance(block, nn.LSTM):
                h = next(lstms)(h, rev)
            else:
                h = torch.cat([block(h, s_pros), st], dim=-1)
        logits = m.predictor.duration_proj.linear_layer(self.dur_lstm(h, rev))
        dur = torch.round(torch.sigmoid(logits).sum(-1)[0] / speed).clamp(min=1)
        dur = (torch.minimum(dur, caps) * keep).long()
        # text encoder
        te = m.text_encoder
        t = te.embedding(ids).transpose(1, 2) * mtok
        for block in te.cnn:
            t = block(t) * mtok
        t = self.text_lstm(t.transpose(1, 2), rev).transpose(1, 2)
        return h, t, dur

    def frames(self, d: torch.Tensor, t: torch.Tensor, dur: torch.Tensor, style: torch.Tensor,
               fb: int) -> torch.Tensor:
        """Stage two for a bucket of ``fb`` frames: the ``tokens`` outputs (any token
        padding, frames 0 past the real tokens) → audio (fb * 600,), real up to
        sum(dur) * 600."""
        m = self.model
        sh = m.shape
        dt = style.dtype
        s_pros, s_dec = style[:, sh.style :], style[:, : sh.style]
        end = torch.cumsum(dur, 0)
        total = end[-1]
        f = torch.arange(fb, device=dur.device)
        align = ((f.view(1, -1) >= (end - dur).view(-1, 1)) & (f.view(1, -1) < end.view(-1, 1)))
        align_f = align.to(dt).unsqueeze(0)  # (1, T, fb)
        en = d.transpose(1, 2) @ align_f
        asr = t @ align_f
        n1, n2 = total.to(dt), (2 * total).to(dt)
        m1, m2 = length_mask(fb, total, dt), length_mask(2 * fb, 2 * total, dt)
        # prosody: F0 and energy at twice the frame rate
        pred = m.predictor
        x = self.shared(en.transpose(1, 2), reversal(fb, total)).transpose(1, 2)
        curves = []
        for blocks, proj in ((pred.F0, pred.F0_proj), (pred.N, pred.N_proj)):
            y = style_res(blocks[0], x, s_pros, m1, n1, m1, n1, self.norm_core)
            y = style_res(blocks[1], y, s_pros, m1, n1, m2, n2, self.norm_core)
            y = style_res(blocks[2], y, s_pros, m2, n2, m2, n2, self.norm_core)
            curves.append(proj(y).squeeze(1))
        f0, energy = curves
        # decoder
        dec = m.decoder
        f0_d = dec.F0_conv((f0 * m2.view(1, -1)).unsqueeze(1))
        n_d = dec.N_conv((energy * m2.view(1, -1)).unsqueeze(1))
        y = style_res(dec.encode, torch.cat([asr, f0_d, n_d], dim=1), s_dec, m1, n1, m1, n1,
                      self.norm_core)
        res = dec.asr_res(asr)
        for i, block in enumerate(dec.decode):
            mo, no = (m2, n2) if i == len(dec.decode) - 1 else (m1, n1)
            y = style_res(block, torch.cat([y, res, f0_d, n_d], dim=1), s_dec, m1, n1, mo, no,
                          self.norm_core)
        return self._vocoder(y, s_dec, f0, total, m2)

    def _vocoder(self, x: torch.Tensor, s: torch.Tensor, f0: torch.Tensor, total: torch.Tensor,
                 m2: torch.Tensor) -> torch.Tensor:
        gen = self.model.decoder.generator
        dt = x.dtype
        f0_up = F.interpolate(f0.unsqueeze(1), scale_factor=float(gen.f0_scale), mode="nearest")
        source = gen.m_source(f0_up.transpose(1, 2), m2).transpose(1, 2).squeeze(1)
        source = _reflect_end(source.float(), total * SAMPLES_PER_FRAME)
        mag, phase = gen.stft.transform(source)
        k_real = total * STFT_PER_FRAME + 1
        m_h = length_mask(mag.shape[-1], k_real, dt)
        har = torch.cat([mag, phase], dim=1).to(dt) * m_h
        n_h = k_real.to(dt)
        rates = [(m2, (2 * total).to(dt))]
        last = len(gen.ups) - 1
        up: Any
        for i, up in enumerate(gen.ups):
            m_in = rates[-1][0]
            x = F.leaky_relu(x, 0.1) * m_in
            if i == last:
                m_o, n_o = m_h, n_h
            else:
                step = math.prod(self.model.shape.up_rates[: i + 1]) * 2
                m_o = length_mask(x.shape[-1] * up.stride[0], total * step, dt)
                n_o = (total * step).to(dt)
            src = snake_res(gen.noise_res[i], gen.noise_convs[i](har), s, m_o, n_o,
                            self.norm_core, self.snake_core)
            x = up(x)
            if i == last:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + src
            blocks = gen.resblocks[i * gen.n_kernels : (i + 1) * gen.n_kernels]
            x = sum((snake_res(b, x, s, m_o, n_o, self.norm_core, self.snake_core) for b in blocks),
                    torch.zeros_like(x))
            x = x / gen.n_kernels
            rates.append((m_o, n_o))
        x = gen.conv_post(F.leaky_relu(x, 0.01) * m_h)
        mag = torch.exp(x[:, : gen.n_mag]) * m_h
        window: torch.Tensor = gen.stft.window  # type: ignore[assignment]
        return _istft(mag, torch.sin(x[:, gen.n_mag :]), window, gen.stft.hop, m_h).view(-1)
