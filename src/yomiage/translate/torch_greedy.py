"""Greedy decoding over a StaticDecoder: one encoder pass, then one (graphed) step per token."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from yomiage.translate.torch_decoder import DecoderShape, GraphedStep, StaticDecoder

log = logging.getLogger(__name__)


class GreedyDecoder:
    """Greedy search for one HF encoder-decoder model, batch size 1.

    Keeps one StaticDecoder (and, on CUDA with ``graphs``, one captured step) per output
    vocabulary, so that a target language's restricted projection is built once.
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
    ) -> None:
        self.model = model.eval()
        self.family = family
        self.device = next(model.parameters()).device
        self.shape = DecoderShape(batch=1, max_tgt=max_tgt, max_src=max_src)
        self.graphs = graphs and self.device.type == "cuda"
        # how often the host reads generated ids to look for EOS (each read is a sync)
        self.check_every = check_every or (4 if self.device.type == "cuda" else 1)
        cfg: Any = model.config
        self.eos = int(cfg.eos_token_id)
        self.extra_slots = extra_slots
        self.compile_step = compile_step
        self._decoders: dict[object, tuple[StaticDecoder, GraphedStep | None]] = {}

    def _decoder(
        self, key: object, vocab_ids: torch.Tensor | None
    ) -> tuple[StaticDecoder, GraphedStep | None]:
        if key not in self._decoders:
            dec = StaticDecoder(self.model, self.family, self.shape, vocab_ids, self.extra_slots)
            if self.compile_step:  # fuse the step's small kernels (Triton on CUDA)
                dec.step = torch.compile(dec.step, dynamic=False)  # type: ignore[method-assign]
            graph = None
            if self.graphs:
                dec.prepare(*self._encode([self.eos]))
                graph = GraphedStep(dec)
            self._decoders[key] = (dec, graph)
            log.debug("built decoder for vocabulary %s (%d rows)", key, dec.out_w.shape[0])
        return self._decoders[key]

    @torch.no_grad()
    def _encode(self, src_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.tensor([list(src_ids)], dtype=torch.long, device=self.device)
        mask = torch.ones_like(ids)
        enc = self.model.get_encoder()  # type: ignore[operator]
        return enc(input_ids=ids, attention_mask=mask).last_hidden_state, mask

    @torch.no_grad()
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
        if not prefix:
            raise ValueError("prefix must hold at least the decoder start token")
        src = list(src_ids)[: self.shape.max_src]
        if len(src) < len(src_ids):
            log.warning("source cut to %d tokens", self.shape.max_src)
        total = min(max_new, self.shape.max_tgt)
        dec, graph = self._decoder(vocab_key, vocab_ids)
        dec.prepare(*self._encode(src))
        if self.extra_slots:
            dec.set_extra(list(extra_ids))
        dec.tok.fill_(int(prefix[0]))
        dec.pos.zero_()
        run = graph.replay if graph is not None else dec.step
        checked = 0
        for t in range(total):
            run()
            if t + 1 < len(prefix):
                dec.tok.fill_(int(prefix[t + 1]))
                checked = t + 1
                continue
            if ignore_eos or (t + 1 - checked < self.check_every and t + 1 < total):
                continue
            got = dec.out_buf[0, checked : t + 1].tolist()
            if self.eos in got:
                return (
                    list(prefix[1:])
                    + dec.out_buf[0, len(prefix) - 1 : checked + got.index(self.eos) + 1].tolist()
                )
            checked = t + 1
        return list(prefix[1:]) + dec.out_buf[0, len(prefix) - 1 : total].tolist()
