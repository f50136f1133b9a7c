"""The CTranslate2 engine for Marian/OPUS-MT, M2M-100 and NLLB-200 models.

int8 on CPU; float16/int8_float16 on CUDA. CTranslate2's wheels need CUDA 12's cuBLAS at
run time, which a machine may lack even when it has a GPU: the first GPU translation is
tried at load, and on failure the engine falls back to the CPU and says so once.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ctranslate2

from yomiage.ja_words import japanese_analyser
from yomiage.translate.streaming import stream_pieces
from yomiage.translate.tokenizer import SpmTokenizer, read_vocabulary
from yomiage.translate.vmap import ensure_vmap

log = logging.getLogger(__name__)

WARMUP_TEXT = "The tests pass now, and the build takes two minutes less."


class GpuUnavailable(RuntimeError):
    """CTranslate2 cannot run on the GPU here (no device, or no CUDA 12 cuBLAS)."""


@dataclass(frozen=True)
class DecodeOptions:
    """How output is produced.

    Attributes:
        beam_size: 1 = greedy (fastest).
        max_ratio, max_extra: at most ``ceil(input tokens × max_ratio) + max_extra`` output
            tokens, so a degenerate model cannot loop for long.
        forced_ratio: benchmarks only: emit exactly ``round(input tokens × forced_ratio)``
            tokens (random weights would otherwise stop at once or never).
        use_vmap: restrict output to the target language's tokens where a map exists.
    """

    beam_size: int = 1
    max_ratio: float = 2.0
    max_extra: int = 10
    forced_ratio: float | None = None
    use_vmap: bool = True


def default_threads() -> int:
    """Intra-op threads for one sentence at a time: half the cores this process may use.

    The voice synthesizes on the other half while the next sentence is translated. On a
    2-core machine (OMP_WAIT_POLICY=PASSIVE, as the narrator sets it) one thread is also
    the faster choice for translation alone, for both model sizes, though two threads
    could read memory twice as fast (28 vs 14.5 GB/s measured): `python -m
    yomiage.bench_translate`, 2026-11-25 15:52-15:56 UTC, Sapphire Rapids, load ~1.3,
    random weights, real shape, 1 vs 2 threads in the same run, decoder step / sentence P50:
    NLLB-600M with a 32k vmap 21.8 vs 24.5 ms / 666 vs 763 ms; Marian with a 16k vmap
    2.6 vs 3.0 ms / 93 vs 121 ms. Each step is ~100 small matrix products, and waking
    or spinning the second worker for each costs more than it saves. Also tried, no
    measurable gain on one thread under the shared machine's load: a spin count
    (GOMP_SPINCOUNT=20000), int16 (2x slower), CT2_FORCE_CPU_ISA=AVX512, MKL without
    AMX; huge pages for the weights ~3-5% (docs/models.md).
    """
    return max(1, available_cores() // 2)


def available_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


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


class TokenEngine:
    """What the token-level engines share: limits, whole and streamed translations, the
    warm-up. Subclasses set ``tokenizer``, ``family``, ``options`` and ``pair`` and
    implement ``generate`` (token strings per text), ``stream_tokens`` (one text, as
    decoded) and ``describe``."""

    tokenizer: SpmTokenizer
    family: str
    options: DecodeOptions
    pair: tuple[str, str]

    def _setup(self, model_dir: Path, name: str | None, options: DecodeOptions | None,
               threads: int, pair: tuple[str, str]) -> None:
        """What every engine over a converted model directory sets first."""
        self.model_dir = Path(model_dir)
        self.name = name or self.model_dir.name
        self.options = options or DecodeOptions()
        self.tokenizer = SpmTokenizer.load(self.model_dir)
        self.family = self.tokenizer.family
        self.threads = threads or default_threads()
        self.pair = pair

    def describe(self) -> dict[str, object]:
        raise NotImplementedError

    def generate(self, texts: Sequence[str], src: str, tgt: str) -> list[list[str]]:
        raise NotImplementedError

    def stream_tokens(self, text: str, src: str, tgt: str) -> Iterator[str]:
        raise NotImplementedError

    def _limits(self, n_in: int) -> dict[str, Any]:
        opts = self.options
        if opts.forced_ratio is not None:
            n_out = max(1, round(n_in * opts.forced_ratio))
            return {"min_decoding_length": n_out, "max_decoding_length": n_out}
        return {"max_decoding_length": math.ceil(n_in * opts.max_ratio) + opts.max_extra}

    def translate(self, text: str, src: str, tgt: str) -> str:
        """Translate one sentence (no passthrough or protection here: see guard.py)."""
        if src == tgt or not text.strip():
            return text
        return self.tokenizer.decode(self.generate([text], src, tgt)[0])

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """Translate one sentence, yielding pieces that end at phrase boundaries as soon as
        the greedy decoder has written them (joined: :meth:`translate`'s result). With
        beam search the translation comes whole, as one piece."""
        if src == tgt or not text.strip() or not self.streams():
            yield self.translate(text, src, tgt)
            return
        yield from stream_pieces(self.stream_tokens(text, src, tgt), self.tokenizer.decode)

    def streams(self) -> bool:
        """True when translations stream (greedy decoding)."""
        return self.options.beam_size <= 1

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate several sentences in one call, in order."""
        if src == tgt or not texts:
            return list(texts)
        return [self.tokenizer.decode(toks) for toks in self.generate(texts, src, tgt)]

    def warmup(self) -> None:
        """Translate a throwaway sentence so buffers and caches are ready."""
        src, tgt = self.pair
        self.generate([WARMUP_TEXT], src, tgt)
        if tgt == "ja" and self.streams():
            japanese_analyser()  # streamed first pieces end at its phrase boundaries


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
            if ensure_vmap(self.model_dir, vocab, vmap_target,
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
        steps = self._model.generate_tokens(
            source, target_prefix=prefix, use_vmap=self.vmap_target == tgt, **limits)
        return (step.token for step in steps)

    def describe(self) -> dict[str, object]:
        """Engine, model, device, precision and settings, for logs and benchmarks."""
        return {
            "engine": "ctranslate2", "ctranslate2": ctranslate2.__version__,
            "model": self.name, "family": self.family, "device": self.device,
            "compute_type": self.compute_type, "threads": self.threads,
            "beam_size": self.options.beam_size, "vmap": self.vmap_target,
            "load_s": round(self.load_seconds, 3),
        }
