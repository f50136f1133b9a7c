"""What the token-level translation engines share: decoding options, thread counts, and
the ``TokenEngine`` base (limits, whole and streamed translations, warm-up)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yomiage.text.ja_words import japanese_analyser
from yomiage.translate.streaming import stream_pieces
from yomiage.translate.tokenizer import SpmTokenizer

WARMUP_TEXT = "The tests pass now, and the build takes two minutes less."


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
    yomiage.bench.translate`, 2026-11-25 15:52-15:56 UTC, Sapphire Rapids, load ~1.3,
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
