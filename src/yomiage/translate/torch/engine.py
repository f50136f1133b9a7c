"""The PyTorch engine for Marian/OPUS-MT, M2M-100 and NLLB-200 Transformers checkpoints.

For GPUs that CTranslate2 cannot use (its wheels need CUDA 12's cuBLAS): float16 or
bfloat16 on CUDA with CUDA-graphed encoder (per length bucket) and decoder step (the step
``torch.compile``d unless ``compile=False``), float32 on the CPU. Tokenization is
the CTranslate2 engine's (SentencePiece pieces); ids come from the checkpoint's vocabulary.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from yomiage.translate.token_engine import WARMUP_TEXT, DecodeOptions, TokenEngine
from yomiage.translate.tokenizer import SpmTokenizer
from yomiage.translate.torch.greedy import GreedyDecoder
from yomiage.translate.vmap import copyable_ids, vmap_tokens

log = logging.getLogger(__name__)

_SHARED_SPM = ("sentencepiece.bpe.model", "spm.128k.model", "sentencepiece.model")
_FAMILIES = {"marian": "marian", "m2m_100": "m2m"}
EXTRA_SLOTS = 64  # source words (names, identifiers) a non-Latin output may copy


def checkpoint_dir(model_dir: Path) -> Path:
    """The folder holding the Transformers checkpoint: ``model_dir/hf`` or ``model_dir``."""
    for folder in (model_dir / "hf", model_dir):
        if (folder / "config.json").is_file():
            return folder
    raise FileNotFoundError(
        f"{model_dir} holds no Transformers checkpoint (config.json); the PyTorch engine "
        "needs one: fetch a model whose hub repository is a Transformers checkpoint"
    )


def pick_torch_device(device: str) -> torch.device:
    """CUDA when asked (or auto) and available, else the CPU."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("PyTorch sees no CUDA device")
    if device in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def pick_dtype(device: torch.device, compute_type: str) -> torch.dtype:
    """float16 on CUDA unless bfloat16/float32 is asked; float32 on the CPU."""
    if device.type != "cuda":
        return torch.float32
    if compute_type == "bfloat16":
        return torch.bfloat16
    if compute_type == "float32":
        return torch.float32
    return torch.float16


def _read_vocab(ckpt: Path) -> dict[str, int]:
    """Token → id of the checkpoint, language tokens included."""
    if (ckpt / "tokenizer.json").is_file():  # NLLB and most recent checkpoints
        from tokenizers import Tokenizer

        return dict(
            Tokenizer.from_file(str(ckpt / "tokenizer.json")).get_vocab(with_added_tokens=True)
        )
    from transformers import AutoTokenizer  # Marian, M2M-100: vocab.json + added language tokens

    return dict(AutoTokenizer.from_pretrained(str(ckpt)).get_vocab())


def _load_tokenizer(ckpt: Path, family: str, vocab: dict[str, int]) -> SpmTokenizer:
    import sentencepiece as spm

    if family == "marian":
        src = spm.SentencePieceProcessor(model_file=str(ckpt / "source.spm"))
        tgt_path = ckpt / "target.spm"
        tgt = spm.SentencePieceProcessor(model_file=str(tgt_path)) if tgt_path.is_file() else src
        return SpmTokenizer("marian", src, tgt, frozenset(vocab))
    for name in _SHARED_SPM:
        if (ckpt / name).is_file():
            proc = spm.SentencePieceProcessor(model_file=str(ckpt / name))
            kind = "nllb" if "eng_Latn" in vocab else "m2m"
            return SpmTokenizer(kind, proc, proc, frozenset(vocab))
    raise FileNotFoundError(f"{ckpt} has no SentencePiece model ({', '.join(_SHARED_SPM)})")


class TorchTranslator(TokenEngine):
    """A Translator over one Transformers checkpoint, greedy decoding in PyTorch."""

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str | None = None,
        device: str = "auto",
        compute_type: str = "auto",
        options: DecodeOptions | None = None,
        pair: tuple[str, str] = ("en", "ja"),
        graphs: bool = True,
        compile: bool = True,
        max_len: int = 256,
    ) -> None:
        from transformers import AutoModelForSeq2SeqLM

        started = time.perf_counter()
        ckpt = checkpoint_dir(Path(model_dir))
        model_type = json.loads((ckpt / "config.json").read_text(encoding="utf-8")).get(
            "model_type"
        )
        if model_type not in _FAMILIES:
            raise ValueError(f"{ckpt}: model type {model_type!r} is not Marian or M2M-100/NLLB")
        self.name = name or Path(model_dir).name
        self.options = options or DecodeOptions()
        self.pair = pair
        self.device = pick_torch_device(device)
        self.dtype = pick_dtype(self.device, compute_type)
        self.vocab = _read_vocab(ckpt)
        self.tokenizer = _load_tokenizer(ckpt, _FAMILIES[model_type], self.vocab)
        self.family = self.tokenizer.family
        self._by_id = {i: t for t, i in self.vocab.items()}
        model = AutoModelForSeq2SeqLM.from_pretrained(str(ckpt), dtype=self.dtype)
        model = model.to(self.device).eval()
        cfg = model.config
        self.pad = int(cfg.pad_token_id)
        self.start = int(
            cfg.decoder_start_token_id
            if cfg.decoder_start_token_id is not None
            else cfg.eos_token_id
        )
        self.n_vocab = int(model.get_output_embeddings().weight.shape[0])
        restrict = self.options.use_vmap and self.family != "marian"
        self.decoder = GreedyDecoder(
            model,
            _FAMILIES[model_type],
            max_src=max_len,
            max_tgt=max_len,
            graphs=graphs,
            extra_slots=EXTRA_SLOTS if restrict else 0,
            compile_step=compile and graphs and self.device.type == "cuda",
        )
        self._restrict = restrict
        self._vocab_ids: dict[str, torch.Tensor] = {}
        self.load_seconds = time.perf_counter() - started
        self.warmup_seconds = 0.0
        log.info(
            "loaded %s on %s (%s) in %.1f s", self.name, self.device, self.dtype, self.load_seconds
        )

    def _ids(self, tokens: Sequence[str]) -> list[int]:
        unk = self.vocab.get("<unk>", 3)
        return [self.vocab.get(t, unk) for t in tokens]

    def _target_vocab(self, tgt: str) -> torch.Tensor:
        """Sorted ids the decoder may emit for ``tgt`` (pad never)."""
        if tgt not in self._vocab_ids:
            if self._restrict:
                tokens = vmap_tokens(
                    [self._by_id.get(i, "") for i in range(self.n_vocab)],
                    tgt,
                    self.tokenizer.lang_token(tgt),
                )
                ids = sorted(
                    {
                        self.vocab[t]
                        for t in tokens
                        if t in self.vocab and self.vocab[t] < self.n_vocab
                    }
                )
            else:
                ids = list(range(self.n_vocab))
            ids = [i for i in ids if i != self.pad]
            self._vocab_ids[tgt] = torch.tensor(ids, dtype=torch.long)
            log.debug("output vocabulary for %s: %d of %d tokens", tgt, len(ids), self.n_vocab)
        return self._vocab_ids[tgt]

    def _copyable(self, src_ids: list[int], allowed: torch.Tensor) -> list[int]:
        """Source tokens outside the fixed vocabulary that the output may copy (names, code)."""
        return copyable_ids(src_ids, set(allowed.tolist()), self.n_vocab,
                            lambda i: self._by_id.get(i, ""), skip={self.pad})

    def _plan(self, text: str, src: str, tgt: str) -> dict[str, Any]:
        """GreedyDecoder arguments for one sentence."""
        src_ids = self._ids(self.tokenizer.encode(text, src, tgt))
        prefix = [self.start, *self._ids(self.tokenizer.target_prefix(tgt) or [])]
        limits = self._limits(len(src_ids))
        max_new = limits["max_decoding_length"] + len(prefix) - 1  # forced tokens count
        allowed = self._target_vocab(tgt)
        return {
            "src_ids": src_ids,
            "prefix": prefix,
            "max_new": max_new,
            "vocab_key": tgt,
            "vocab_ids": allowed,
            "extra_ids": self._copyable(src_ids, allowed) if self._restrict else [],
            "ignore_eos": "min_decoding_length" in limits,
        }

    def generate_ids(self, text: str, src: str, tgt: str) -> list[int]:
        """Output token ids for one sentence (target-language token first for NLLB/M2M)."""
        return self.decoder.generate(**self._plan(text, src, tgt))

    def stream_tokens(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """:meth:`generate_ids`'s tokens, each as soon as it is read back from the device
        (closing the iterator stops the decoder)."""
        for chunk in self.decoder.stream_ids(**self._plan(text, src, tgt)):
            yield from (self._by_id.get(i, "") for i in chunk)

    def generate(self, texts: Sequence[str], src: str, tgt: str) -> list[list[str]]:
        """Output token strings for each text (target-language token first for NLLB/M2M)."""
        return [[self._by_id.get(i, "") for i in self.generate_ids(t, src, tgt)]
                for t in texts]

    def streams(self) -> bool:
        """Whether the pipeline should stream this engine's translations: yes, on every
        device.

        On CUDA, measured on an H100 (2026-11-25, ``bench_e2e.py --quick``, two runs,
        translator and Kokoro graphs voice in two threads, a sentence every 0.25 s):
        first audio 23.9 / 25.2 ms P50 / P95 streamed vs 40.6 / 52.3 ms whole
        translations in the same call (NLLB-600M shape with random weights, an assumed
        8-token first piece; real Kokoro weights); no hang, and every sentence's ids and
        first-phrase frame count equal a sequential run's. Earlier streamed runs hung
        before the engines got their own capture streams and ``GPU_LOCK``; ``GPU_LOCK``
        is first-come-first-served, since with a plain lock the decoder re-took it
        between stretches and the voice waited (P95 45 ms).
        """
        return True

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate several sentences, one after the other (the graphs are batch-1)."""
        return [self.translate(t, src, tgt) for t in texts]

    def warmup(self) -> None:
        """Build the target's decoder (compiling its step and capturing the step's and every
        encoder bucket's CUDA graph on a GPU) and translate a throwaway sentence."""
        started = time.perf_counter()
        src, tgt = self.pair
        try:
            self.decoder.warm(tgt, self._target_vocab(tgt))
        except RuntimeError as exc:  # a CUDA graph that cannot be captured here
            if not self.decoder.graphs:
                raise
            log.warning("CUDA graphs for %s failed (%s); decoding without them", self.name,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            old = self.decoder
            self.decoder = GreedyDecoder(
                old.model, old.family, max_src=old.shape.max_src, max_tgt=old.shape.max_tgt,
                graphs=False, extra_slots=old.extra_slots,
            )
        self.translate(WARMUP_TEXT, src, tgt)
        self.warmup_seconds = time.perf_counter() - started
        log.info("warmed %s in %.1f s (compiled step: %s)", self.name, self.warmup_seconds,
                 self.decoder.compiled)

    def describe(self) -> dict[str, object]:
        """Engine, model, device, precision and settings, for logs and benchmarks."""
        return {
            "engine": "torch",
            "torch": torch.__version__,
            "model": self.name,
            "family": self.family,
            "device": str(self.device),
            "compute_type": str(self.dtype).removeprefix("torch."),
            "cuda_graphs": self.decoder.graphs,
            "compiled_step": self.decoder.compiled,
            "vocab_restricted": self._restrict,
            "load_seconds": round(self.load_seconds, 3),
            "warmup_seconds": round(self.warmup_seconds, 3),
        }


def load_torch_translator(model_dir: Path, spec: object, cfg: object) -> TorchTranslator:
    """A TorchTranslator for an installed model (``spec``: a models.ModelSpec or None;
    ``cfg``: a config.Config), warmed for the configured language pair."""
    pair = (getattr(cfg, "source_lang", "en"), getattr(cfg, "target_lang", "ja"))
    name = getattr(spec, "name", None)
    engine = TorchTranslator(
        Path(model_dir),
        name=name,
        device=getattr(cfg, "device", "auto"),
        compute_type=getattr(cfg, "compute_type", "auto"),
        pair=pair,
        compile=bool(getattr(cfg, "gpu_compile", True)),
    )
    engine.warmup()
    return engine
