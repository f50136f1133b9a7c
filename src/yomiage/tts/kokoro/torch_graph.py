"""Kokoro-82M on a CUDA GPU as two CUDA graph replays per phrase.

Stage one (tokens → frames per token) is captured once per token-count bucket, stage two
(frames → audio) once per frame-count bucket, both over right-padded static buffers (see
kokoro/torch_padded.py for why padding changes no real sample). Between them the host
reads the frame count: the only sync besides fetching the audio. All of it runs on the
voice's own CUDA stream and under ``GPU_LOCK`` (shared with the PyTorch translator, so
the two engines' captures and replays never overlap); graphs are captured on the voice's
own capture stream (graphs captured on one stream share a cuBLAS workspace) and share one
memory pool (they never run at the same time).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import torch

from yomiage.gpu import GPU_LOCK, gpu_section
from yomiage.tts.kokoro.torch_model import KokoroModel
from yomiage.tts.kokoro.torch_padded import SAMPLES_PER_FRAME, PaddedKokoro

log = logging.getLogger(__name__)

TOKEN_BUCKETS = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
FRAME_BUCKETS = (16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
                 448, 512, 640, 768, 896, 1024)
STYLE = 256


def bucket(n: int, buckets: Sequence[int]) -> int | None:
    """The smallest bucket holding ``n``, or None past the largest."""
    return next((b for b in buckets if b >= n), None)


class GraphedKokoro:
    """Padded two-stage Kokoro with one CUDA graph per bucket (``graphs=False``: the same
    padded stages run eagerly, e.g. on the CPU for tests)."""

    def __init__(
        self,
        model: KokoroModel,
        *,
        token_buckets: Sequence[int] = TOKEN_BUCKETS,
        frame_buckets: Sequence[int] = FRAME_BUCKETS,
        graphs: bool = True,
        compile_stages: bool = False,
        fuse: bool = False,
    ) -> None:
        self.device = next(model.parameters()).device
        self.padded = PaddedKokoro(model, fuse=fuse).to(self.device).eval()
        self.token_buckets = tuple(token_buckets)
        self.frame_buckets = tuple(frame_buckets)
        self.graphs = graphs and self.device.type == "cuda"
        self.hidden = model.shape.hidden + model.shape.style
        tmax = self.tmax = self.token_buckets[-1]
        cuda = self.device.type == "cuda"
        # one host → device copy per phrase: [ids (tmax), caps (tmax), style, n_tok, speed]
        self.host_in = torch.zeros(2 * tmax + STYLE + 2, pin_memory=cuda)
        self.dev_in = torch.zeros(2 * tmax + STYLE + 2, device=self.device)
        self.d_buf = torch.zeros(1, tmax, self.hidden, device=self.device)
        self.t_buf = torch.zeros(1, model.shape.hidden, tmax, device=self.device)
        self.dur_buf = torch.zeros(tmax, dtype=torch.long, device=self.device)
        self.total = torch.zeros((), dtype=torch.long, device=self.device)
        self.total_host = torch.zeros((), dtype=torch.long, pin_memory=cuda)
        fmax = self.frame_buckets[-1] * SAMPLES_PER_FRAME
        self.audio = torch.zeros(fmax, device=self.device)
        self.audio_host = torch.zeros(fmax, pin_memory=cuda)
        self.stream = torch.cuda.Stream(self.device) if cuda else None
        self.capture_stream = torch.cuda.Stream(self.device) if self.graphs else None
        self.pool = torch.cuda.graph_pool_handle() if self.graphs else None
        self._graphs: dict[tuple[str, int], torch.cuda.CUDAGraph] = {}
        self._frames: Callable[..., torch.Tensor] = self.padded.frames
        self._tokens: Callable[..., tuple[torch.Tensor, ...]] = self.padded.tokens
        if compile_stages:
            self._frames = torch.compile(self.padded.frames, dynamic=True)
            self._tokens = torch.compile(self.padded.tokens, dynamic=True)

    # -- stages over the static buffers ------------------------------------------------
    def _stage_tokens(self, tb: int) -> None:
        buf, tmax = self.dev_in, self.tmax
        ids = buf[:tb].long().view(1, tb)
        caps = buf[tmax : tmax + tb]
        style = buf[2 * tmax : 2 * tmax + STYLE].view(1, STYLE)
        n_tok = buf[2 * tmax + STYLE].long()
        speed = buf[2 * tmax + STYLE + 1]
        d, t, dur = self._tokens(ids, style, n_tok, speed, caps)
        self.d_buf[:, :tb].copy_(d)
        self.t_buf[:, :, :tb].copy_(t)
        self.dur_buf[:tb].copy_(dur)
        self.dur_buf[tb:].zero_()
        self.total.copy_(dur.sum())

    def _stage_frames(self, fb: int) -> torch.Tensor:
        style = self.dev_in[2 * self.tmax : 2 * self.tmax + STYLE].view(1, STYLE)
        audio = self._frames(self.d_buf, self.t_buf, self.dur_buf, style, fb)
        if fb <= self.frame_buckets[-1]:
            self.audio[: fb * SAMPLES_PER_FRAME].copy_(audio)
        return audio

    def _capture(self, key: tuple[str, int], run: Callable[[], object]) -> torch.cuda.CUDAGraph:
        if key not in self._graphs:
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                for _ in range(2):
                    run()
            torch.cuda.current_stream(self.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self.pool, stream=self.capture_stream):
                run()
            self._graphs[key] = graph
        return self._graphs[key]

    def _run_tokens(self, tb: int) -> None:
        if self.graphs:
            self._capture(("tokens", tb), lambda: self._stage_tokens(tb)).replay()
        else:
            self._stage_tokens(tb)

    def _run_frames(self, fb: int, frames: int) -> torch.Tensor:
        if self.graphs and fb <= self.frame_buckets[-1]:
            self._capture(("frames", fb), lambda: self._stage_frames(fb)).replay()
            return self.audio[: frames * SAMPLES_PER_FRAME]
        return self._stage_frames(fb)[: frames * SAMPLES_PER_FRAME]

    # -- public --------------------------------------------------------------------------
    @torch.inference_mode()
    def __call__(
        self,
        tokens: npt.NDArray[np.int64],
        style: npt.NDArray[np.float32],
        speed: float = 1.0,
        caps: npt.NDArray[np.float32] | None = None,
    ) -> tuple[npt.NDArray[np.float32], int]:
        """Audio (24 kHz) and frame count for (1, T) tokens with 0 at both ends, a (1, 256)
        style and optional per-token caps in frames."""
        n = tokens.shape[1]
        tb = bucket(n, self.token_buckets)
        if tb is None:
            raise ValueError(f"phrase of {n} tokens is longer than Kokoro's {self.tmax}")
        host, tmax = self.host_in.numpy(), self.tmax
        host[:n] = tokens[0]
        host[n:tb] = 0
        host[tmax : tmax + n] = caps[0] if caps is not None else 1e4
        host[tmax + n : tmax + tb] = 1e4
        host[2 * tmax : 2 * tmax + STYLE] = style[0]
        host[2 * tmax + STYLE] = n
        host[2 * tmax + STYLE + 1] = speed
        with gpu_section(self.stream, self.device):
            self.dev_in.copy_(self.host_in, non_blocking=True)
            self._run_tokens(tb)
            self.total_host.copy_(self.total, non_blocking=True)
            self._sync()
            frames = int(self.total_host)
            fb = bucket(frames, self.frame_buckets) or frames
            audio = self._run_frames(fb, frames)
            if audio.shape[0] > self.audio_host.shape[0]:  # past the largest bucket
                return audio.cpu().numpy(), frames
            out = self.audio_host[: audio.shape[0]]
            out.copy_(audio, non_blocking=True)
            self._sync()
        return out.numpy().copy(), frames

    def _sync(self) -> None:
        if self.stream is not None:
            self.stream.synchronize()

    def capture_all(self, style: npt.NDArray[np.float32]) -> float:
        """Capture every bucket's graphs now (seconds taken); a no-op without graphs."""
        if not self.graphs:
            return 0.0
        started = time.perf_counter()
        assert self.stream is not None
        with GPU_LOCK, torch.inference_mode(), torch.cuda.stream(self.stream):
            host = self.host_in.numpy()
            host[:] = 0
            host[self.tmax : 2 * self.tmax] = 1e4
            host[2 * self.tmax : 2 * self.tmax + STYLE] = style[0]
            host[2 * self.tmax + STYLE] = 3
            host[2 * self.tmax + STYLE + 1] = 1.0
            self.dev_in.copy_(self.host_in)
            for tb in self.token_buckets:
                self._run_tokens(tb)
            for fb in self.frame_buckets:
                # any durations that fit the bucket: the graph depends on shapes only
                self.dur_buf.zero_()
                self.dur_buf[0] = fb
                self._run_frames(fb, fb)
            self._sync()
        return time.perf_counter() - started

