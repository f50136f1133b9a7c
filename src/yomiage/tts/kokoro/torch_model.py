"""Kokoro-82M as a PyTorch module: phoneme ids + a 256-wide style vector → 24 kHz audio.

Module and parameter names follow the ``kokoro`` package (``bert``, ``bert_encoder``,
``predictor``, ``text_encoder``, ``decoder``) so that its state dicts load; batch size 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from yomiage.tts.kokoro.torch_blocks import (
    ChannelNorm,
    HarmonicSource,
    SnakeResBlock,
    Stft,
    StyleLayerNorm,
    StyleResBlock,
)


@dataclass(frozen=True)
class KokoroShape:
    """Kokoro-82M v1.0's hyper-parameters."""

    n_token: int = 178
    hidden: int = 512
    style: int = 128
    n_layer: int = 3
    max_dur: int = 50
    text_kernel: int = 5
    bert_hidden: int = 768
    bert_heads: int = 12
    bert_ffn: int = 2048
    bert_layers: int = 12
    bert_positions: int = 512
    up_rates: tuple[int, ...] = (10, 6)
    up_kernels: tuple[int, ...] = (20, 12)
    up_channels: int = 512
    res_kernels: tuple[int, ...] = (3, 7, 11)
    res_dilations: tuple[tuple[int, ...], ...] = field(default=((1, 3, 5), (1, 3, 5), (1, 3, 5)))
    n_fft: int = 20
    hop: int = 5
    sample_rate: int = 24000


def _lstm(n_in: int, hidden: int) -> nn.LSTM:
    return nn.LSTM(n_in, hidden // 2, 1, batch_first=True, bidirectional=True)


class TextEncoder(nn.Module):
    """Phoneme embeddings → three conv layers → a bidirectional LSTM: (B, hidden, T)."""

    def __init__(self, sh: KokoroShape) -> None:
        super().__init__()
        self.embedding = nn.Embedding(sh.n_token, sh.hidden)
        pad = (sh.text_kernel - 1) // 2
        self.cnn = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(sh.hidden, sh.hidden, sh.text_kernel, padding=pad),
                ChannelNorm(sh.hidden),
                nn.LeakyReLU(0.2),
            )
            for _ in range(sh.n_layer)
        )
        self.lstm = _lstm(sh.hidden, sh.hidden)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        for block in self.cnn:
            x = block(x)
        return self.lstm(x.transpose(1, 2))[0].transpose(1, 2)


class DurationEncoder(nn.Module):
    """LSTMs alternating with style layer norms, the style appended to every frame."""

    def __init__(self, sh: KokoroShape) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(sh.n_layer):
            layers += [_lstm(sh.hidden + sh.style, sh.hidden), StyleLayerNorm(sh.style, sh.hidden)]
        self.lstms = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """x: (B, hidden, T), s: (B, style) → (B, T, hidden + style)."""
        style = s.unsqueeze(1).expand(-1, x.shape[2], -1)
        h = torch.cat([x.transpose(1, 2), style], dim=-1)
        for block in self.lstms:
            if isinstance(block, StyleLayerNorm):
                h = torch.cat([block(h, s), style], dim=-1)
            else:
                h = block(h)[0]
        return h


class _LinearNorm(nn.Module):
    """A linear layer under the name the checkpoints use (``linear_layer``)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.linear_layer = nn.Linear(n_in, n_out)


class ProsodyPredictor(nn.Module):
    """Durations per phoneme, then pitch (F0) and energy (N) curves per frame."""

    def __init__(self, sh: KokoroShape) -> None:
        super().__init__()
        d, st = sh.hidden, sh.style
        self.text_encoder = DurationEncoder(sh)
        self.lstm = _lstm(d + st, d)
        self.duration_proj = _LinearNorm(d, sh.max_dur)
        self.shared = _lstm(d + st, d)
        self.F0 = nn.ModuleList(
            [
                StyleResBlock(d, d, st),
                StyleResBlock(d, d // 2, st, upsample=True),
                StyleResBlock(d // 2, d // 2, st),
            ]
        )
        self.N = nn.ModuleList(
            [
                StyleResBlock(d, d, st),
                StyleResBlock(d, d // 2, st, upsample=True),
                StyleResBlock(d // 2, d // 2, st),
            ]
        )
        self.F0_proj = nn.Conv1d(d // 2, 1, 1)
        self.N_proj = nn.Conv1d(d // 2, 1, 1)

    def durations(self, d: torch.Tensor, speed: float) -> torch.Tensor:
        """Frames per phoneme (at least 1) from the duration encoder's output (B, T, C)."""
        x = self.lstm(d)[0]
        logits = self.duration_proj.linear_layer(x)
        dur = torch.sigmoid(logits).sum(-1) / speed
        return torch.round(dur).clamp(min=1).long()

    def f0_energy(self, en: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, frames) aligned features → F0 and N curves at twice the frame rate."""
        x = self.shared(en.transpose(1, 2))[0].transpose(1, 2)
        f0, n = x, x
        for block in self.F0:
            f0 = block(f0, s)
        for block in self.N:
            n = block(n, s)
        return self.F0_proj(f0).squeeze(1), self.N_proj(n).squeeze(1)


class Generator(nn.Module):
    """iSTFTNet vocoder: features + F0 → magnitude and phase → waveform."""

    def __init__(self, sh: KokoroShape) -> None:
        super().__init__()
        st = sh.style
        total_up = math.prod(sh.up_rates) * sh.hop
        self.m_source = HarmonicSource(sh.sample_rate, total_up)
        self.f0_scale = total_up
        self.ups = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.noise_res = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = sh.up_channels
        for i, (u, k) in enumerate(zip(sh.up_rates, sh.up_kernels, strict=True)):
            ch_in, ch = ch, sh.up_channels // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(ch_in, ch, k, u, padding=(k - u) // 2))
            for rk, rd in zip(sh.res_kernels, sh.res_dilations, strict=True):
                self.resblocks.append(SnakeResBlock(ch, rk, rd, st))
            if i + 1 < len(sh.up_rates):
                stride = math.prod(sh.up_rates[i + 1 :])
                self.noise_convs.append(
                    nn.Conv1d(sh.n_fft + 2, ch, stride * 2, stride, (stride + 1) // 2)
                )
                self.noise_res.append(SnakeResBlock(ch, 7, (1, 3, 5), st))
            else:
                self.noise_convs.append(nn.Conv1d(sh.n_fft + 2, ch, 1))
                self.noise_res.append(SnakeResBlock(ch, 11, (1, 3, 5), st))
        self.n_kernels = len(sh.res_kernels)
        self.conv_post = nn.Conv1d(ch, sh.n_fft + 2, 7, 1, padding=3)
        self.stft = Stft(sh.n_fft, sh.hop)
        self.n_mag = sh.n_fft // 2 + 1

    def forward(self, x: torch.Tensor, s: torch.Tensor, f0: torch.Tensor) -> torch.Tensor:
        f0_up = F.interpolate(f0.unsqueeze(1), scale_factor=float(self.f0_scale), mode="nearest")
        source = self.m_source(f0_up.transpose(1, 2)).transpose(1, 2).squeeze(1)
        mag, phase = self.stft.transform(source.float())
        har = torch.cat([mag, phase], dim=1).to(x.dtype)
        last = len(self.ups) - 1
        for i, up in enumerate(self.ups):
            x = F.leaky_relu(x, 0.1)
            src = self.noise_res[i](self.noise_convs[i](har), s)
            x = up(x)
            if i == last:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + src
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            x = sum((b(x, s) for b in blocks), torch.zeros_like(x)) / self.n_kernels
        x = self.conv_post(F.leaky_relu(x, 0.01))
        return self.stft.inverse(torch.exp(x[:, : self.n_mag]), torch.sin(x[:, self.n_mag :]))


class Decoder(nn.Module):
    """Aligned text features + F0 + energy → features for the vocoder → waveform."""

    def __init__(self, sh: KokoroShape) -> None:
        super().__init__()
        d, st = sh.hidden, sh.style
        self.encode = StyleResBlock(d + 2, 1024, st)
        self.decode = nn.ModuleList(
            [StyleResBlock(1024 + 2 + 64, 1024, st) for _ in range(3)]
            + [StyleResBlock(1024 + 2 + 64, 512, st, upsample=True)]
        )
        self.F0_conv = nn.Conv1d(1, 1, 3, 2, 1)
        self.N_conv = nn.Conv1d(1, 1, 3, 2, 1)
        self.asr_res = nn.Sequential(nn.Conv1d(d, 64, 1))
        self.generator = Generator(sh)

    def forward(
        self, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, s: torch.Tensor
    ) -> torch.Tensor:
        f0_d = self.F0_conv(f0.unsqueeze(1))
        n_d = self.N_conv(n.unsqueeze(1))
        x = self.encode(torch.cat([asr, f0_d, n_d], dim=1), s)
        res = self.asr_res(asr)
        for block in self.decode:  # the last block doubles the frame rate
            x = block(torch.cat([x, res, f0_d, n_d], dim=1), s)
        return self.generator(x, s, f0)


class KokoroModel(nn.Module):
    """The whole model; ``forward(ids, style, speed)`` returns (audio, frames per phoneme)."""

    def __init__(self, sh: KokoroShape | None = None) -> None:
        super().__init__()
        from transformers import AlbertConfig, AlbertModel

        sh = sh or KokoroShape()
        self.shape = sh
        self.bert = AlbertModel(
            AlbertConfig(
                vocab_size=sh.n_token,
                hidden_size=sh.bert_hidden,
                num_attention_heads=sh.bert_heads,
                intermediate_size=sh.bert_ffn,
                max_position_embeddings=sh.bert_positions,
                num_hidden_layers=sh.bert_layers,
                hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0,
            ),
            add_pooling_layer=False,
        )
        self.bert_encoder = nn.Linear(sh.bert_hidden, sh.hidden)
        self.predictor = ProsodyPredictor(sh)
        self.text_encoder = TextEncoder(sh)
        self.decoder = Decoder(sh)

    @torch.inference_mode()
    def forward(
        self,
        ids: torch.Tensor,
        style: torch.Tensor,
        speed: float = 1.0,
        max_frames: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ids: (1, T) with 0 at both ends; style: (1, 256); ``max_frames`` (1, T) caps each
        token's duration → (samples,), (T,) frames per token."""
        s_pros, s_dec = style[:, self.shape.style :], style[:, : self.shape.style]
        bert = self.bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
        d = self.predictor.text_encoder(self.bert_encoder(bert).transpose(1, 2), s_pros)
        dur = self.predictor.durations(d, speed)[0]
        if max_frames is not None:
            dur = torch.minimum(dur, max_frames[0].to(dur.device).long())
        # alignment: phoneme i covers dur[i] frames
        frame_of = torch.repeat_interleave(torch.arange(ids.shape[1], device=ids.device), dur)
        align = F.one_hot(frame_of, ids.shape[1]).to(d.dtype).T.unsqueeze(0)  # (1, T, frames)
        en = d.transpose(1, 2) @ align
        f0, n = self.predictor.f0_energy(en, s_pros)
        asr = self.text_encoder(ids) @ align
        audio = self.decoder(asr, f0, n, s_dec)
        return audio.squeeze(0).float(), dur
