"""Building blocks of Kokoro-82M (StyleTTS 2 with an iSTFTNet vocoder) in PyTorch.

Written for inference on GPUs (the architecture of the Apache-2.0 ``kokoro`` package, our
own code). Parameter names follow that package's state dict so its checkpoints load;
convolutions are plain (weight-norm already folded into ``weight``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

_SQRT_HALF = 1.0 / math.sqrt(2.0)


def _same_pad(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ChannelNorm(nn.Module):
    """Layer norm over the channel axis of (B, C, T) input (``gamma``/``beta``)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.transpose(1, 2), (x.shape[1],), self.gamma, self.beta, self.eps)
        return y.transpose(1, 2)


class StyleLayerNorm(nn.Module):
    """Layer norm whose scale and shift come from the style vector: (B, T, C) in and out."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.fc = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.fc(s).unsqueeze(1).chunk(2, dim=-1)
        return (1 + gamma) * F.layer_norm(x, (self.channels,), eps=1e-5) + beta


class StyleInstanceNorm(nn.Module):
    """Instance norm over time, scaled and shifted by the style (Kokoro's AdaIN1d)."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm1d(channels, affine=True)
        self.fc = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.fc(s).unsqueeze(-1).chunk(2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


class StyleResBlock(nn.Module):
    """Residual block of two 3-wide convolutions with style norms (Kokoro's AdainResBlk1d);
    ``upsample`` doubles the time axis."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample_type = "half" if upsample else "none"
        self.conv1 = nn.Conv1d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv1d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = StyleInstanceNorm(style_dim, dim_in)
        self.norm2 = StyleInstanceNorm(style_dim, dim_out)
        self.learned_sc = dim_in != dim_out
        if self.learned_sc:
            self.conv1x1 = nn.Conv1d(dim_in, dim_out, 1, 1, 0, bias=False)
        if upsample:
            self.pool = nn.ConvTranspose1d(dim_in, dim_in, 3, 2, 1, output_padding=1, groups=dim_in)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.norm1(x, s), 0.2)
        if self.upsample_type != "none":
            h = self.pool(h)
        h = self.conv1(h)
        h = self.conv2(F.leaky_relu(self.norm2(h, s), 0.2))
        short = (
            F.interpolate(x, scale_factor=2.0, mode="nearest")
            if self.upsample_type != "none"
            else x
        )
        if self.learned_sc:
            short = self.conv1x1(short)
        return (h + short) * _SQRT_HALF


class SnakeResBlock(nn.Module):
    """The vocoder's residual block: three dilated conv pairs with Snake activations."""

    def __init__(
        self, channels: int, kernel: int, dilations: tuple[int, ...], style_dim: int
    ) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, 1, _same_pad(kernel, d), dilation=d)
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, 1, _same_pad(kernel)) for _ in dilations
        )
        self.adain1 = nn.ModuleList(StyleInstanceNorm(style_dim, channels) for _ in dilations)
        self.adain2 = nn.ModuleList(StyleInstanceNorm(style_dim, channels) for _ in dilations)
        self.alpha1 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)
        self.alpha2 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)

    @staticmethod
    def _snake(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return x + torch.sin(a * x).pow(2) / a

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        for c1, c2, n1, n2, a1, a2 in zip(
            self.convs1,
            self.convs2,
            self.adain1,
            self.adain2,
            self.alpha1,
            self.alpha2,
            strict=True,
        ):
            h = c1(self._snake(n1(x, s), a1))
            x = x + c2(self._snake(n2(h, s), a2))
        return x


class HarmonicSource(nn.Module):
    """Excitation from F0: nine harmonics of a sine plus noise, merged to one channel
    (Kokoro's SourceModuleHnNSF with its SineGen)."""

    def __init__(self, sample_rate: int, upsample: int, harmonics: int = 8) -> None:
        super().__init__()
        self.sample_rate, self.upsample = sample_rate, upsample
        self.register_buffer(
            "orders", torch.arange(1, harmonics + 2, dtype=torch.float32), persistent=False
        )
        self.l_linear = nn.Linear(harmonics + 1, 1)
        self.sine_amp, self.noise_std, self.threshold = 0.1, 0.003, 10.0
        self.noise = True  # False: no random start phase and no noise (as in the ONNX export)

    def forward(self, f0: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """f0: (B, N, 1) at the audio rate → (B, N, 1) excitation. With ``frame_mask`` (1 on
        real frames, 0 on padding) the phase stops growing after the real frames, so that
        the last real samples interpolate as an unpadded run's clamped edge does."""
        orders: torch.Tensor = self.orders  # type: ignore[assignment]
        rad = (f0 * orders / self.sample_rate) % 1.0
        if self.noise:
            start = torch.rand(f0.shape[0], 1, rad.shape[2], device=f0.device, dtype=f0.dtype)
            start[..., 0] = 0
            rad = torch.cat([rad[:, :1] + start, rad[:, 1:]], dim=1)
        coarse = F.interpolate(rad.transpose(1, 2), scale_factor=1.0 / self.upsample, mode="linear")
        if frame_mask is not None:
            coarse = coarse * frame_mask
        phase = torch.cumsum(coarse, dim=-1) * (2 * math.pi * self.upsample)
        phase = F.interpolate(phase, scale_factor=float(self.upsample), mode="linear").transpose(
            1, 2
        )
        voiced = (f0 > self.threshold).to(f0.dtype)
        noise_amp = voiced * self.noise_std + (1 - voiced) * self.sine_amp / 3
        sines = torch.sin(phase) * self.sine_amp * voiced
        if self.noise:
            sines = sines + noise_amp * torch.randn_like(phase)
        return torch.tanh(self.l_linear(sines))


class Stft(nn.Module):
    """Short-time Fourier transform pair of the iSTFTNet head (Hann window)."""

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = torch.stft(
            x,
            self.n_fft,
            self.hop,
            self.n_fft,
            window=self.window,  # type: ignore[arg-type]
            return_complex=True,
        )
        return spec.abs(), spec.angle()

    def inverse(self, mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        spec = torch.polar(mag.float(), phase.float())
        return torch.istft(spec, self.n_fft, self.hop, self.n_fft, window=self.window)  # type: ignore[arg-type]
