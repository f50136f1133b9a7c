"""Greedy decoding over a StaticDecoder: one encoder pass, then one (graphed) step per token.

On CUDA the encoder runs as a CUDA graph per source-length bucket (input right-padded,
padding masked) that also fills the decoder's cross-attention buffers, the step runs as
a CUDA graph (optionally ``torch.compile``d first, falling back to eager if compiling
fails), and all work goes to the decoder's own CUDA stream so that another engine's
work and host reads in another thread do not queue behind it or wait for it.

Graphs are captured on the decoder's own capture stream (graphs captured on one stream
share a cuBLAS workspace: two engines' graphs running at once would race on it), and
every stretch of GPU work holds ``GPU_LOCK``, which the Kokoro GPU voice holds too: the
engines' graph captures and replays never overlap (a capture must not see another
thread's CUDA work; a voice phrase waits at most one short decoding stretch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import nn

from yomiage.gpu import gpu_section
from yomiage.translate.torch.decoder import DecoderShape, GraphedStep, StaticDecoder, StaticEncoder

log = logging.getLogger(__name__)

SRC_BUCKETS = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def src_buckets(max_src: int) -> tuple[int, ...]:
    """Padded source lengths that get a CUDA graph (the last one is ``max_src``)."""
    return (*(b for b in SRC_BUCKETS if b < max_src), max_src)


class _EncoderGraphs:
    """One CUDA graph per source bucket: encoder over the padded ids, then the decoder's
    ``prepare`` (cross-attention K/V and mask), reading the static ``ids``/``keep``."""

    def __init__(self, encoder: StaticEncoder, dec: StaticDecoder, pad: int,
                 capture_stream: torch.cuda.Stream) -> None:
        self.encoder, self.dec, self.pad = encoder, dec, pad
        self.capture_stream = capture_stream
        n, dev = dec.shape.max_src, dec.tok.device
        self.ids = torch.full((1, n), pad, dtype=torch.long, device=dev)
        self.keep = torch.zeros(1, n, dtype=torch.bool, device=dev)
        self.buckets = src_buckets(n)
        self.graphs: dict[int, torch.cuda.CUDAGraph] = {}
        self.pool = torch.cuda.graph_pool_handle()

    def _run(self, b: int) -> None:
        out = self.encoder(self.ids[:, :b], self.keep[:, :b])
        self.dec.prepare(out, self.keep[:, :b])

    def capture(self, b: int) -> torch.cuda.CUDAGraph:
        if b not in self.graphs:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    self._run(b)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self.pool, stream=self.capture_stream):
                self._run(b)
            self.graphs[b] = graph
        return self.graphs[b]

    def encode(self, src: Sequence[int]) -> None:
        n = len(src)
        b = next(x for x in self.buckets if x >= n)
        self.ids[0, :n].copy_(torch.tensor(src, dtype=torch.long), non_blocking=True)
        self.ids[0, n:b].fill_(self.pad)
        self.keep[0, :n] = True
        self.keep[0, n:b] = False
        self.capture(b).replay()


class GreedyDecoder:
    """Greedy search for one HF encoder-decoder model, batch size 1.

    Keeps one StaticDecoder (and, on CUDA with ``graphs``, one captured step and the
    encoder graphs) per output vocabulary, so that a target language's restricted
    projection is built once.
    """

    def __init__(
        self,
        model: nn.Module,
        family: str,
        *,
        max_src: int = 256,
        max_tgt: int = 256,
        graphs: bool = True,
        check_every: int | None = None,
        extra_slots: int = 0,
        compile_step: bool = False,
        encoder_graphs: bool = True,
    ) -> None:
        self.model = model.eval()
        self.family = family
        self.device = next(model.parameters()).device
        self.shape = DecoderShape(batch=1, max_tgt=max_tgt, max_src=max_src)
        self.graphs = graphs and self.device.type == "cuda"
        self.encoder_graphs = encoder_graphs and self.graphs
        # how often the host reads generated ids to look for EOS (each read is a sync)
        self.check_every = check_every or (4 if self.device.type == "cuda" else 1)
        cfg: Any = model.config
        self.eos = int(cfg.eos_token_id)
        self.pad = int(cfg.pad_token_id)
        self.extra_slots = extra_slots
        self.compile_step = compile_step
        self.compiled = False
        self.encoder = StaticEncoder(model, family, max_src)
        cuda = self.device.type == "cuda"
        self.stream = torch.cuda.Stream(self.device) if cuda else None
        self.capture_stream = torch.cuda.Stream(self.device) if cuda else None
        self._decoders: dict[
            object, tuple[StaticDecoder, GraphedStep | None, _EncoderGraphs | None]
        ] = {}

    def _graph_step(self, dec: StaticDecoder) -> GraphedStep:
        """The step's CUDA graph; a compiled step that fails falls back to eager once."""
        if self.compile_step:
            try:
                dec.step = torch.compile(dec.step, dynamic=False)  # type: ignore[method-assign]
                graph = GraphedStep(dec, self.capture_stream)
                self.compiled = True
                return graph
            except Exception as exc:  # any compiler failure means: run eager
                log.warning("torch.compile of the decoder step failed (%s: %s); running eager",
                            type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
                del dec.step  # back to the class's eager method
                self.compile_step = False
        return GraphedStep(dec, self.capture_stream)

    def _decoder(
        self, key: object, vocab_ids: torch.Tensor | None
    ) -> tuple[StaticDecoder, GraphedStep | None, _EncoderGraphs | None]:
        if key not in self._decoders:
            dec = StaticDecoder(self.model, self.family, self.shape, vocab_ids, self.extra_slots)
            graph = enc_graphs = None
            if self.graphs:
                if self.encoder_graphs:
                    assert self.capture_stream is not None
                    enc_graphs = _EncoderGraphs(self.encoder, dec, self.pad, self.capture_stream)
                    enc_graphs.encode([self.eos])
                else:
                    dec.prepare(*self._encode([self.eos]))
                graph = self._graph_step(dec)
            self._decoders[key] = (dec, graph, enc_graphs)
            log.debug("built decoder for vocabulary %s (%d rows)", key, dec.out_w.shape[0])
        return self._decoders[key]

    def warm(self, key: object, vocab_ids: torch.Tensor | None) -> None:
        """Build the decoder for ``key`` and capture every encoder bucket's graph now."""
        with gpu_section(self.stream, self.device):
            _, _, enc_graphs = self._decoder(key, vocab_ids)
            if enc_graphs is not None:
                for b in enc_graphs.buckets:
                    enc_graphs.capture(b)
        if self.stream is not None:
            self.stream.synchronize()

    @torch.no_grad()
    def _encode(self, src_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.tensor([list(src_ids)], dtype=torch.long, device=self.device)
        mask = torch.ones_like(ids)
        return self.encoder(ids, mask), mask

    def generate(
        self,
        src_ids: Sequence[int],
        prefix: Sequence[int],
        max_new: int,
        *,
        vocab_key: object = None,
        vocab_ids: torch.Tensor | None = None,
        extra_ids: Sequence[int] = (),
        ignore_eos: bool = False,
    ) -> list[int]:
        """Token ids after ``prefix``: greedy, up to ``max_new`` new tokens counting forced ones.

        ``prefix`` starts with the decoder start token; later entries are forced (e.g. the
        target-language token). ``vocab_ids`` (built once per ``vocab_key``) restricts the
        output; ``extra_ids`` are allowed for this call only (at most ``extra_slots``).
        Generation stops after EOS (included) unless ``ignore_eos``.
        """
        every = 0 if ignore_eos else self.check_every  # ids read back once, or every few steps
        chunks = self._decode(src_ids, prefix, max_new, vocab_key, vocab_ids, extra_ids,
                              ignore_eos, every)
        return [i for chunk in chunks for i in chunk]

    def stream_ids(
        self,
        src_ids: Sequence[int],
        prefix: Sequence[int],
        max_new: int,
        *,
        vocab_key: object = None,
        vocab_ids: torch.Tensor | None = None,
        extra_ids: Sequence[int] = (),
        ignore_eos: bool = False,
        every: int | None = None,
    ) -> Iterator[list[int]]:
        """:meth:`generate`'s ids in chunks, each as soon as it is read back from the device
        (every ``every`` steps; 2 on CUDA, 1 on the CPU). Joined: ``generate``'s result.
        Closing the iterator stops decoding."""
        step = every or (2 if self.device.type == "cuda" else 1)
        return self._decode(src_ids, prefix, max_new, vocab_key, vocab_ids, extra_ids,
                            ignore_eos, step)

    @torch.no_grad()
    def _decode(
        self,
        src_ids: Sequence[int],
        prefix: Sequence[int],
        max_new: int,
        vocab_key: object,
        vocab_ids: torch.Tensor | None,
        extra_ids: Sequence[int],
        ignore_eos: bool,
        every: int,
    ) -> Iterator[list[int]]:
        """Ids in chunks: the forced ``prefix[1:]`` first, then what the device wrote, read
        back every ``every`` steps (0: once at the end); stops after EOS unless
        ``ignore_eos``. GPU work is enqueued on the decoder's stream between reads only."""
        if not prefix:
            raise ValueError("prefix must hold at least the decoder start token")
        src = list(src_ids)[: self.shape.max_src]
        if len(src) < len(src_ids):
            log.warning("source cut to %d tokens", self.shape.max_src)
        with gpu_section(self.stream, self.device):
            dec, graph, enc_graphs = self._decoder(vocab_key, vocab_ids)
            if enc_graphs is not None:
                enc_graphs.encode(src)
            else:
                dec.prepare(*self._encode(src))
            if self.extra_slots:
                dec.set_extra(list(extra_ids))
            dec.tok.fill_(int(prefix[0]))
            dec.pos.zero_()
        run: Callable[[], None] = graph.replay if graph is not None else dec.step
        total = min(max_new, self.shape.max_tgt)
        yield list(prefix[1:])
        # out_buf[t] holds step t's argmax; the forced steps' argmaxes are not output
        read, t = len(prefix) - 1, 0
        while t < total:
            with gpu_section(self.stream, self.device):
                while t < total:
                    run()
                    if t + 1 < len(prefix):
                        dec.tok.fill_(int(prefix[t + 1]))
                    t += 1
                    if every and t - read >= every:
                        break
                got = dec.out_buf[0, read:t].tolist() if t > read else []
            read = max(read, t)
            if not ignore_eos and self.eos in got:
                yield got[: got.index(self.eos) + 1]
                return
            yield got
