"""A VITS voice cut into stages, so that its flow and waveform decoder run window by window.

A Piper voice is one ONNX graph: the text encoder and duration predictor (``enc_p``,
``dp``) turn phoneme ids into prior frames, the flow (``flow``) turns those into latent
frames and the HiFi-GAN decoder (``dec``) turns latent frames into samples (256 a frame
for the medium voices). The flow and the decoder take about two thirds of the time, and
both only look a few frames around each output frame (measured on the Joe voice: 10
frames of context make a decoder window exact, 16 more a flow window; windows then
differ from one run by < 3e-6, a tenth of a 16-bit step; 12 + 16 are used). So the
graph is cut in front of the flow and in front of the decoder: the encoder runs once
per phrase, the flow and the decoder on a short first window (with context frames past
its edges), then on the rest. The first audio comes out after a fraction of the work,
and the windows join into the same samples as one run of the whole graph with the same
random draws.

Example::

    >>> split = SplitVits.load(model_path, session_options())  # doctest: +SKIP
    >>> latent = split.encode(feed)                              # doctest: +SKIP
    >>> spans = split.windows(split.frames(latent), first=24)     # doctest: +SKIP
    >>> for samples in split.decode(latent, spans): ...          # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

# (node-name prefix where a stage starts, frames of context it reads past a window edge).
FLOW_AND_DECODER: tuple[tuple[str, int], ...] = (("/flow/", 16), ("/dec/", 12))
DECODER_ONLY: tuple[tuple[str, int], ...] = (("/dec/", 12),)


@dataclass(frozen=True)
class Stage:
    """One windowed part of the graph."""

    session: Any
    inputs: tuple[str, ...]
    context: int


@dataclass
class SplitVits:
    """The parts of a VITS graph as onnxruntime sessions."""

    encoder: Any
    """phoneme ids (the model's own inputs) → every tensor the first stage reads."""
    stages: list[Stage]
    """Windowed parts in order; the first one's first input carries the frames [1, C, T]
    and the last one gives the audio (the model's own first output)."""

    @classmethod
    def load(cls, model: Path, options: Any, *,
             cuts: Sequence[tuple[str, int]] = FLOW_AND_DECODER,
             providers: list[str] | None = None) -> SplitVits:
        """Cut ``model`` before the nodes named by each prefix of ``cuts``.

        A stage is every node that depends on its prefix's nodes, up to the next cut.
        ValueError when the graph cannot be cut so (no such nodes, or a stage would read
        a tensor that neither the cut before it nor the stage itself gives).
        """
        try:
            import onnx
            from onnx.utils import Extractor
        except ImportError as exc:
            raise ValueError("the onnx package is not installed") from exc
        import onnxruntime as ort

        graph_model = onnx.load(str(model))
        graph = graph_model.graph
        bounds = [[i.name for i in graph.input]]
        for prefix, _ in cuts:
            feeds = _cut_inputs(graph, prefix)
            if not feeds:
                raise ValueError(f"{model.name} has no {prefix} nodes")
            bounds.append(feeds)
        bounds.append([o.name for o in graph.output])
        extractor = Extractor(graph_model)
        parts = []
        for ins, outs in itertools.pairwise(bounds):
            try:
                part = extractor.extract_model(ins, outs)
            except Exception as exc:  # onnx raises plain Exceptions for unreachable tensors
                raise ValueError(f"{model.name} cannot be cut at {outs[0]}: {exc}") from exc
            if {i.name for i in part.graph.input} != set(ins):
                raise ValueError(f"{model.name}: a part after a cut reads more than it gives")
            parts.append(ort.InferenceSession(part.SerializeToString(), sess_options=options,
                                              providers=providers or ["CPUExecutionProvider"]))
        stages = [Stage(session, tuple(ins), context)
                  for session, ins, (_, context) in zip(parts[1:], bounds[1:-1], cuts,
                                                         strict=True)]
        return cls(encoder=parts[0], stages=stages)

    def agrees(self, feed: dict[str, np.ndarray], first: int = 8, tol: float = 1e-4) -> bool:
        """True when windows of ``first`` frames and up give the samples of one window."""
        latent = self.encode(feed)
        whole = np.concatenate(list(self.decode(latent)))
        parts = np.concatenate(list(self.decode(latent, self.windows(self.frames(latent),
                                                                     first))))
        return whole.shape == parts.shape and float(np.max(np.abs(whole - parts),
                                                            initial=0.0)) <= tol

    def encode(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The first stage's inputs for one utterance (the random draws of VITS happen here)."""
        names = [o.name for o in self.encoder.get_outputs()]
        return dict(zip(names, self.encoder.run(names, feed), strict=True))

    def frames(self, latent: dict[str, np.ndarray]) -> int:
        """Number of frames of an encoded utterance."""
        return int(latent[self.stages[0].inputs[0]].shape[-1])

    @staticmethod
    def windows(total: int, first: int = 0, grow: float = 2.0) -> list[tuple[int, int]]:
        """(start, end) frames of each window for ``total`` frames.

        The first window has ``first`` frames (0 = all at once), each next one ``grow``
        times more; a remainder shorter than the window before it joins that window.
        """
        out: list[tuple[int, int]] = []
        start, size = 0, first if first > 0 else total
        while start < total:
            end = min(total, start + max(1, size))
            if total - end < size:
                end = total
            out.append((start, end))
            start, size = end, int(size * grow)
        return out

    def decode(
        self, latent: dict[str, np.ndarray], windows: list[tuple[int, int]] | None = None
    ) -> Iterator[npt.NDArray[np.float32]]:
        """Audio of ``latent`` window by window (default: one window), each when made.

        The windows (from :meth:`windows`) concatenate to one run over all frames, up
        to float rounding.
        """
        total = self.frames(latent)
        for start, end in windows or [(0, total)]:
            spans = []  # frames each stage reads, widest (first stage) first
            lo, hi = start, end
            for stage in reversed(self.stages):
                lo, hi = max(0, lo - stage.context), min(total, hi + stage.context)
                spans.append((lo, hi))
            spans.reverse()
            # name → (array, first frame, frames it spans when framed)
            tensors = {k: (v, 0, total) for k, v in latent.items()}
            out: Any = None
            for stage, (lo, hi) in zip(self.stages, spans, strict=True):
                feed = {}
                for name in stage.inputs:
                    value, origin, length = tensors[name]
                    framed = value.ndim == 3 and value.shape[-1] == length
                    feed[name] = (np.ascontiguousarray(value[..., lo - origin : hi - origin])
                                  if framed else value)
                names = [o.name for o in stage.session.get_outputs()]
                out = stage.session.run(names, feed)
                tensors.update({k: (v, lo, hi - lo) for k, v in zip(names, out, strict=True)})
            lo, hi = spans[-1]
            audio = np.asarray(out[0], dtype=np.float32).ravel()
            hop = audio.size // (hi - lo)
            yield audio[(start - lo) * hop : (end - lo) * hop]


def _cut_inputs(graph: Any, cut: str) -> list[str]:
    """Tensors that the nodes named ``cut``… and everything depending on them read from
    the rest of the graph, the first cut node's first input first ([] = no such node)."""
    start = [n for n in graph.node if n.name.startswith(cut)]
    if not start:
        return []
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    seen = {id(n) for n in start}
    stack = list(start)
    while stack:
        for out in stack.pop().output:
            for reader in readers.get(out, []):
                if id(reader) not in seen:
                    seen.add(id(reader))
                    stack.append(reader)
    after = [n for n in graph.node if id(n) in seen]
    made = {o for n in after for o in n.output}
    constants = {i.name for i in graph.initializer}
    feeds = [start[0].input[0]]
    for node in after:
        for name in node.input:
            if name and name not in made and name not in constants and name not in feeds:
                feeds.append(name)
    return feeds
