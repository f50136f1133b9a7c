"""The OpenVINO CPU engine: a CTranslate2 model directory run by OpenVINO's CPU plugin.

Same models, files and tokens as the CTranslate2 engine (it reads ``model.bin`` itself:
ct2/weights.py); greedy decoding in a Python loop over two compiled graphs (openvino/graph.py).
Why a second CPU engine: a decoder step of batch 1 is bound by reading the int8 weights,
and CTranslate2 reads them no faster with two threads than with one, while OpenVINO's
int8-weight products scale with the threads given (docs/models.md has the figures).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yomiage.cpu_share import let_first_sound_through
from yomiage.translate.ct2.weights import Ct2Weights
from yomiage.translate.openvino.graph import Architecture, architecture, build_encoder, build_step
from yomiage.translate.token_engine import DecodeOptions, TokenEngine
from yomiage.translate.tokenizer import (
    read_source_vocabulary,
    read_vocabulary,
)
from yomiage.translate.vmap import (
    VMAP_FILE,
    copyable_ids,
    ensure_vmap,
    map_pays,
    vmap_tokens,
)

log = logging.getLogger(__name__)

EXTRA_SLOTS = 64  # source tokens outside the target's vocabulary that the output may copy
# Activations are quantized to int8 in groups of this many values before each int8 product
# (0: products in float32, exactly CTranslate2's float32 results; CTranslate2's own int8
# mode quantizes a whole row with one scale). 128 was the fastest of 32/128/1024 in an
# interleaved NLLB-step run (docs/models.md).
ACTIVATION_GROUP = 128


class _Embedder:
    """Token row × multiplier × scale + position row, for one side."""

    def __init__(self, w: Ct2Weights, side: str, table: str, d: int) -> None:
        self.rows, self.mult = w.int8_rows(table)
        scale_var = f"{side}/scale_embeddings"
        if scale_var in w and w.array(scale_var).dtype == np.int8:  # a flag: sqrt(d) if set
            self.scale = math.sqrt(d) if w.scalar(scale_var) else 1.0
        else:
            self.scale = w.scalar(scale_var, 1.0)
        pos_var = f"{side}/position_encodings/encodings"
        if pos_var not in w:  # every Transformers converter stores the table
            raise ValueError(f"{w.path}: no {pos_var}; the OpenVINO engine needs the table")
        self.positions = w.array(pos_var).astype(np.float32)
        if f"{side}/layernorm_embedding/gamma" in w:  # mBART-style: not Marian, M2M, NLLB
            raise ValueError(f"{w.path}: embedding layer norms are not supported by the "
                             "OpenVINO engine")
        self.zero_start = bool(w.scalar(f"{side}/start_from_zero_embedding"))

    def __call__(self, ids: Sequence[int], start: int = 0) -> np.ndarray:
        """[1, len(ids), d] embeddings of ``ids`` at positions ``start``…"""
        idx = np.asarray(ids, dtype=np.int64)
        out = self.rows[idx].astype(np.float32) * (self.mult[idx] * self.scale)
        if self.zero_start and start == 0:
            out[0] = 0.0
        end = start + len(idx)
        if end > len(self.positions):
            raise ValueError(f"sequence of {end} tokens is longer than the model's "
                             f"{len(self.positions)} positions")
        out += self.positions[start:end]
        return out[None]


class OVTranslator(TokenEngine):
    """A Translator over a CTranslate2 model directory, run by OpenVINO on the CPU.

    ``threads``: OpenVINO inference threads (0: half the cores, as CTranslate2 gets);
    ``extra_slots``: source tokens outside the target vocabulary the output may copy
    (names, identifiers) when the output vocabulary is restricted; ``activation_group``:
    see ACTIVATION_GROUP.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        name: str | None = None,
        threads: int = 0,
        options: DecodeOptions | None = None,
        pair: tuple[str, str] = ("en", "ja"),
        extra_slots: int = EXTRA_SLOTS,
        activation_group: int = ACTIVATION_GROUP,
    ) -> None:
        import openvino as ov

        started = time.perf_counter()
        self._setup(model_dir, name, options, threads, pair)
        self.extra_slots = extra_slots
        self.activation_group = activation_group
        config = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        self.target_vocab = read_vocabulary(self.model_dir)
        self._target_index = {t: i for i, t in enumerate(self.target_vocab)}
        self._source_index = {t: i for i, t in enumerate(read_source_vocabulary(self.model_dir))}
        self.unk = self._target_index.get(config.get("unk_token") or "<unk>", 0)
        self.eos = self._target_index[config.get("eos_token") or "</s>"]
        self.start = self._target_index[config.get("decoder_start_token") or "<s>"]
        self.weights = Ct2Weights(self.model_dir / "model.bin")
        self.arch: Architecture = architecture(self.weights)
        d = self.arch.d_model
        self._source_embed = _Embedder(self.weights, "encoder", "encoder/embeddings_0", d)
        self._target_embed = _Embedder(self.weights, "decoder", "decoder/embeddings", d)
        self._proj_rows, self._proj_mult = self.weights.int8_rows("decoder/projection")
        self._proj_bias = (self.weights.array("decoder/projection/bias").astype(np.float32)
                           if "decoder/projection/bias" in self.weights else None)
        self._core = ov.Core()
        self._config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                        "INFERENCE_NUM_THREADS": self.threads, "ENABLE_CPU_PINNING": False,
                        "INFERENCE_PRECISION_HINT": "f32", "KV_CACHE_PRECISION": "f32",
                        "DYNAMIC_QUANTIZATION_GROUP_SIZE": activation_group}
        self._encoder = self._compile(build_encoder(self.weights, self.arch))
        self._encoder_request = self._encoder.create_infer_request()
        self._steps: dict[str, tuple[Any, np.ndarray]] = {}
        self._lock = threading.Lock()
        self.load_seconds = time.perf_counter() - started
        self.warmup_seconds = 0.0

    def _compile(self, model: Any) -> Any:
        try:
            return self._core.compile_model(model, "CPU", self._config)
        except RuntimeError as exc:  # an OpenVINO without one of the newer options
            log.info("OpenVINO rejected the latency options (%s); compiling with defaults",
                     str(exc).splitlines()[0] if str(exc) else "")
            return self._core.compile_model(model, "CPU", {
                "INFERENCE_NUM_THREADS": self.threads, "INFERENCE_PRECISION_HINT": "f32"})

    def output_ids(self, tgt: str) -> np.ndarray | None:
        """Target ids the decoder scores for ``tgt`` (None: every row): the vocabulary
        map's tokens, the same ``vmap.txt`` the CTranslate2 engine uses (built here if
        missing), when the map is on."""
        if not self.options.use_vmap or not map_pays(self.model_dir):
            return None
        lang_token = self.tokenizer.lang_token(tgt)
        if ensure_vmap(self.model_dir, self.target_vocab, tgt, lang_token):
            line = (self.model_dir / VMAP_FILE).read_text(encoding="utf-8").split("\n", 1)[0]
            keep = set(line.split("\t", 1)[-1].split())
        else:
            keep = set(vmap_tokens(self.target_vocab, tgt, lang_token))
        ids = [i for i, t in enumerate(self.target_vocab[: self.arch.vocab_rows]) if t in keep]
        return np.asarray(ids, dtype=np.int64)

    def _step(self, tgt: str) -> tuple[Any, np.ndarray]:
        """The compiled step for ``tgt``'s output vocabulary and its row → id map."""
        if tgt not in self._steps:
            ids = self.output_ids(tgt)
            model = build_step(self.weights, self.arch, None if ids is None else ids.tolist())
            request = self._compile(model).create_infer_request()
            id_map = np.arange(self.arch.vocab_rows, dtype=np.int64) if ids is None else ids
            self._steps[tgt] = (request, id_map)
            log.debug("OpenVINO step for %s: %d output rows", tgt, len(id_map))
        return self._steps[tgt]

    def _extra(self, source_ids: Sequence[int], fixed: np.ndarray,
               restricted: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, biases, ids) of source tokens the output may copy this sentence; one
        row that can never win when there are none (the graph wants at least one)."""
        d = self.arch.d_model
        ids: list[int] = []
        if restricted and self.extra_slots:
            ids = copyable_ids(source_ids, set(fixed.tolist()), self.arch.vocab_rows,
                               self.target_vocab.__getitem__)[: self.extra_slots]
        if not ids:
            return (np.zeros((1, d), np.float32), np.full(1, -np.inf, np.float32),
                    np.array([self.unk], np.int64))
        idx = np.asarray(ids, dtype=np.int64)
        rows = self._proj_rows[idx].astype(np.float32) * self._proj_mult[idx]
        bias = self._proj_bias[idx] if self._proj_bias is not None \
            else np.zeros(len(idx), np.float32)
        return rows, bias.astype(np.float32), idx

    def _target_ids(self, source: list[str]) -> list[int]:
        """The source tokens as target-vocabulary ids (for copying)."""
        return [self._target_index[t] for t in source if t in self._target_index]

    def decode_ids(self, source: list[str], prefix: list[str], tgt: str, max_len: int,
                   min_len: int = 0) -> Iterator[int]:
        """Greedy output ids after the decoder start: ``prefix`` forced first; at most
        ``max_len`` ids (prefix included); EOS ends it (not yielded) once ``min_len``
        ids are out. Closing the iterator stops decoding. A source longer than the model's
        positions is cut (its last token, EOS, kept), with a warning."""
        src_ids = [self._source_index.get(t, self.unk) for t in source]
        limit = len(self._source_embed.positions)
        if len(src_ids) > limit:
            log.warning("source of %d tokens cut to the model's %d positions",
                        len(src_ids), limit)
            src_ids = [*src_ids[: limit - 1], src_ids[-1]]
        max_len = min(max_len, len(self._target_embed.positions))
        with self._lock:
            request, id_map = self._step(tgt)
            restricted = len(id_map) < self.arch.vocab_rows
            extra_w, extra_b, extra_ids = self._extra(self._target_ids(source), id_map,
                                                      restricted)
            full_map = np.concatenate([id_map, extra_ids])
            self._encoder_request.infer({"x": self._source_embed(src_ids)})
            for i in range(self.arch.decoder_layers):
                for kind in ("k", "v"):
                    request.set_tensor(f"cross_{kind}_{i}",
                                       self._encoder_request.get_tensor(f"cross_{kind}_{i}"))
            request.reset_state()
            forced = [self._target_index.get(t, self.unk) for t in prefix]
            token, produced = self.start, 0
            extra_inputs = {"extra_w": extra_w, "extra_b": extra_b,
                            "beam_idx": np.zeros(1, np.int32)}
            while produced < max_len:
                request.infer({"x": self._target_embed([token], produced), **extra_inputs})
                if produced < len(forced):
                    token = forced[produced]
                else:
                    best, second = request.get_tensor("top").data[0]
                    token = int(full_map[best])
                    if token == self.eos:
                        if produced >= min_len:
                            return
                        token = int(full_map[second])
                produced += 1
                yield token

    def generate(self, texts: Sequence[str], src: str, tgt: str) -> list[list[str]]:
        """Output token strings for each text (language token included, EOS not)."""
        out = []
        for text in texts:
            out.append(list(self._tokens(text, src, tgt)))
        return out

    def stream_tokens(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """The output tokens of one greedy translation, each as soon as it is decoded
        (closing the iterator stops the decoder)."""
        return self._tokens(text, src, tgt)

    def _tokens(self, text: str, src: str, tgt: str) -> Iterator[str]:
        source = self.tokenizer.encode(text, src, tgt)
        prefix = self.tokenizer.target_prefix(tgt) or []
        limits = self._limits(len(source))
        extra = len(prefix)
        max_len = limits["max_decoding_length"] + extra
        min_len = limits["min_decoding_length"] + extra if "min_decoding_length" in limits else 0
        for token_id in self.decode_ids(source, prefix, tgt, max_len, min_len):
            yield self.target_vocab[token_id]
            let_first_sound_through()  # before the next step (cpu_share.py)

    def warmup(self) -> None:
        """Compile the step for the configured target and translate a throwaway sentence."""
        started = time.perf_counter()
        super().warmup()
        self.warmup_seconds = time.perf_counter() - started

    def describe(self) -> dict[str, object]:
        """Engine, model, device, precision and settings, for logs and benchmarks."""
        import openvino as ov

        rows = {tgt: len(ids) for tgt, (_, ids) in self._steps.items()}
        return {
            "engine": "openvino", "openvino": ov.get_version(), "model": self.name,
            "family": self.family, "device": "cpu",
            "compute_type": "int8" if self.activation_group else "int8 weights, float32",
            "activation_group": self.activation_group,
            "threads": self.threads, "beam_size": 1, "output_rows": rows,
            "load_s": round(self.load_seconds, 3),
            "warmup_s": round(self.warmup_seconds, 3),
        }
