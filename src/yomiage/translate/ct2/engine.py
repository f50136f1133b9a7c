"""The CTranslate2 engine for Marian/OPUS-MT, M2M-100 and NLLB-200 models.

int8 on CPU; float16/int8_float16 on CUDA. CTranslate2's wheels need CUDA 12's cuBLAS at
run time, which a machine may lack even when it has a GPU: the first GPU translation is
tried at load, and on failure the engine falls back to the CPU and says so once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ctranslate2

from yomiage.cpu_share import let_first_sound_through
from yomiage.translate.token_engine import DecodeOptions, TokenEngine
from yomiage.translate.tokenizer import read_vocabulary
from yomiage.translate.vmap import ensure_vmap, map_pays

log = logging.getLogger(__name__)

class GpuUnavailable(RuntimeError):
    """CTranslate2 cannot run on the GPU here (no device, or no CUDA 12 cuBLAS)."""


def pick_device(device: str) -> str:
    """``cuda`` when asked (or auto) and CTranslate2 sees a GPU, else ``cpu``."""
    if device == "cpu":
        return "cpu"
    try:
        count = ctranslate2.get_cuda_device_count()
    except Exception:  # any failure of the CUDA probe means "no GPU"
        count = 0
    if device == "cuda" and count == 0:
        raise GpuUnavailable("CTranslate2 sees no CUDA device")
    return "cuda" if count else "cpu"


def pick_compute_type(device: str, wanted: str) -> str:
    """The precision to run at: the requested one if supported, else int8 (CPU) / fp16 (GPU)."""
    supported = set(ctranslate2.get_supported_compute_types(device))
    if wanted != "auto":
        if wanted in supported:
            return wanted
        log.warning("compute type %s is not supported on %s (supported: %s); using auto",
                    wanted, device, ", ".join(sorted(supported)))
    order = ("int8_float16", "float16", "int8", "float32") if device == "cuda" \
        else ("int8", "int8_float32", "float32")
    return next(ct for ct in order if ct in supported)


class CT2Translator(TokenEngine):
    """A Translator over one converted CTranslate2 model directory.

    ``pair`` is the (src, tgt) the warm-up uses; ``vmap_target`` builds and uses a
    vocabulary map for that target. With ``cpu_fallback`` False a GPU
    failure raises GpuUnavailable instead of moving to the CPU.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str | None = None,
        device: str = "auto",
        compute_type: str = "auto",
        threads: int = 0,
        options: DecodeOptions | None = None,
        vmap_target: str | None = None,
        pair: tuple[str, str] = ("en", "ja"),
        cpu_fallback: bool = True,
    ) -> None:
        self._setup(model_dir, name, options, threads, pair)
        self.vmap_target: str | None = None
        if vmap_target and self.options.use_vmap:
            vocab = read_vocabulary(self.model_dir)
            if map_pays(self.model_dir) and ensure_vmap(self.model_dir, vocab, vmap_target,
                           self.tokenizer.lang_token(vmap_target)):
                self.vmap_target = vmap_target
        self.device = pick_device(device)
        self.compute_type = compute_type
        started = time.perf_counter()
        try:
            self.compute_type = pick_compute_type(self.device, compute_type)
            self._model = self._load(self.device, self.compute_type)
            if self.device == "cuda":
                self._probe()
        except (RuntimeError, OSError, ValueError) as exc:
            if self.device != "cuda":
                raise
            if not cpu_fallback:
                raise GpuUnavailable(str(exc)) from exc
            log.warning("CTranslate2 cannot use the GPU (%s); translating on the CPU", exc)
            self.device = "cpu"
            self.compute_type = pick_compute_type("cpu", "auto")
            self._model = self._load("cpu", self.compute_type)
        self.load_seconds = time.perf_counter() - started

    def _load(self, device: str, compute_type: str) -> ctranslate2.Translator:
        return ctranslate2.Translator(
            str(self.model_dir), device=device, compute_type=compute_type,
            intra_threads=self.threads if device == "cpu" else 1, inter_threads=1,
        )

    def _probe(self) -> None:
        """Run one GPU step now, so that a missing cuBLAS shows at load, not mid-speech."""
        tokens = self.tokenizer.source.encode("ok", out_type=str)
        src = self.tokenizer.encode(" ".join(tokens) or "ok", "en", "en")
        try:
            self._model.translate_batch([src], max_decoding_length=2)
        except RuntimeError as exc:
            raise GpuUnavailable(str(exc)) from exc

    def generate(self, texts: Sequence[str], src: str, tgt: str) -> list[list[str]]:
        """Output token strings for each text (language tokens included), in order.

        Texts whose length limits differ run as separate batches, so each text gets its
        own limit (CTranslate2 applies one limit to a whole batch).
        """
        batch = [self.tokenizer.encode(t, src, tgt) for t in texts]
        prefix = self.tokenizer.target_prefix(tgt)
        extra = 1 if prefix else 0  # the prefix token counts toward the limits
        groups: dict[tuple[tuple[str, int], ...], list[int]] = {}
        for i, tokens in enumerate(batch):
            limits = tuple(sorted((k, v + extra) for k, v in self._limits(len(tokens)).items()))
            groups.setdefault(limits, []).append(i)
        out: list[list[str]] = [[] for _ in batch]
        for limits, members in groups.items():
            results = self._model.translate_batch(
                [batch[i] for i in members],
                target_prefix=[prefix] * len(members) if prefix else None,
                beam_size=self.options.beam_size,
                use_vmap=self.vmap_target == tgt,
                **dict(limits),
            )
            for i, result in zip(members, results, strict=True):
                out[i] = result.hypotheses[0]
        return out

    def stream_tokens(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """The output tokens of one greedy translation, each as soon as it is decoded
        (closing the iterator stops the decoder)."""
        source = self.tokenizer.encode(text, src, tgt)
        prefix = self.tokenizer.target_prefix(tgt)
        extra = 1 if prefix else 0  # the prefix token counts toward the limits
        limits = {k: v + extra for k, v in self._limits(len(source)).items()}
        return greedy_tokens(self._model, source, prefix, use_vmap=self.vmap_target == tgt,
                             **limits)

    def describe(self) -> dict[str, object]:
        """Engine, model, device, precision and settings, for logs and benchmarks."""
        return {
            "engine": "ctranslate2", "ctranslate2": ctranslate2.__version__,
            "model": self.name, "family": self.family, "device": self.device,
            "compute_type": self.compute_type, "threads": self.threads,
            "beam_size": self.options.beam_size, "vmap": self.vmap_target,
            "load_s": round(self.load_seconds, 3),
        }


def greedy_tokens(model: ctranslate2.Translator, source: list[str], prefix: list[str] | None,
                  **options: Any) -> Iterator[str]:
    """The tokens of one greedy translation of ``source``, each as soon as the decoder
    writes it (what ``Translator.generate_tokens`` gives), except that the decoder waits
    between steps while a voice makes a first sound someone waits for (cpu_share.py):
    it decodes on CTranslate2's own thread, which the per-step callback can hold.
    Closing the iterator stops the decoder at its next step."""
    tokens: queue.Queue[Any] = queue.Queue()
    closed = threading.Event()

    def on_step(step: Any) -> bool:
        tokens.put(step.token)
        let_first_sound_through()
        return closed.is_set()  # True stops the decoding

    results = model.translate_batch([source], target_prefix=[prefix] if prefix else None,
                                    beam_size=1, callback=on_step, asynchronous=True,
                                    **options)

    def wait_for_the_end() -> None:
        try:
            for result in results:
                result.result()
        except Exception as exc:  # raised again in the consumer's thread
            tokens.put(exc)
        tokens.put(_END)

    waiter = threading.Thread(target=wait_for_the_end, name="ct2-stream", daemon=True)
    waiter.start()
    try:
        while (item := tokens.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        closed.set()
        waiter.join(timeout=5.0)


_END = object()
