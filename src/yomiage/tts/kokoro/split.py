"""Kokoro cut in three so that its vocoder can run in bfloat16 on CPUs that have it.

Where the time goes (float32 graph, onnxruntime, 2-core Sapphire Rapids): most of a
phrase is convolutions at the frame and sample rates (the decoder's blocks and the
generator's upsampling and residual blocks, ~1300 of 2500 nodes). Those lose nothing
audible in bfloat16; the rest does: the whole graph in bfloat16 moves phoneme durations
by a frame and puts the audio 5 dB (log-mel) from float32, because the duration
predictor and the harmonic source (a phase accumulated over every sample) need the
mantissa. So the graph is cut where the decoder starts and where the spectrum comes out:

* **front** (float32, onnxruntime): text encoder, duration/pitch/energy predictors,
  alignment, and the harmonic source (a sine from the pitch curve) with its STFT;
* **vocoder** (bfloat16, OpenVINO, which runs convolutions on AMX / AVX512-BF16): the
  decoder's encode/decode blocks and the generator, from the aligned text features, the
  pitch and energy curves and the source spectrum to ``conv_post``; its Snake sines are
  rewritten as polynomials (kokoro/rewrites.py), which OpenVINO fuses and vectorises,
  and its time axis carried in 4-D (the same file), so that every convolution runs 2-D;
* **tail** (float32, onnxruntime): magnitude/phase and the inverse STFT.

The three files are built once from the float32 copy (kokoro/dequant.py) into the cache,
and a probe checks at build time that front → vocoder → tail, all float32, gives the whole
graph's samples (the cut itself changes nothing; bfloat16 is the only difference).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yomiage.tts.kokoro import int8_vocoder
from yomiage.tts.kokoro.dequant import CAP_INPUT
from yomiage.tts.kokoro.prepared_files import remove_stale_temps, write_atomically
from yomiage.tts.kokoro.rewrites import squared_sin_as_polynomial, time_axis_in_4d

log = logging.getLogger(__name__)


def _save_onnx(model: Any, path: Path) -> None:
    import onnx

    onnx.save(model, str(path))

FORMAT_VERSION = "4"  # 1: the decoder's blocks were in the front; 2: Sin in the vocoder;
# 3: Snake sines as polynomials; 4: the vocoder's time axis in 4-D
_DEC = "/decoder/decoder/"
_GEN = _DEC + "generator/"
PARTS = ("front", "vocoder", "tail")
OPENVINO_CACHE = "openvino"  # the folder, beside the parts, where OpenVINO keeps them compiled
PROBE_TOLERANCE = 1e-3  # max abs sample difference of the float32 split vs the whole graph
RUNTIME_CACHE = 64
"""Prepared kernels OpenVINO keeps for the bfloat16 vocoder: entries per node and input
length, not lengths (measured later: 30 lengths run twice were no faster the second time,
438 ms per 80 frames, against 297 ms at 1000 entries and 2.3 GB resident)."""
RUNTIME_CACHE_INT8 = 500
"""The same for the int8 vocoder (kokoro/int8_vocoder.py), whose int8 convolutions are
slow to prepare: at 64, every phrase of another length than the last one prepared them
again (a first phrase's vocoder 300 vs 120 ms once prepared). 30 lengths run twice, 2-core
Sapphire Rapids: at 500, 175 ms per 80 frames the second time and 1.75 GB resident; at
64, 396 ms and 1.55 GB; the bfloat16 vocoder at its 64, 438 ms and 1.72 GB."""
FRAME_BUCKET = 8
"""The vocoder runs on a multiple of this many frames (200 ms), the phrase's end padded
with its closing silence. OpenVINO prepares kernels per input length, and a length's first
run took 1.5× a later one (median of 8 phrases, 2-core CPU); in buckets, a session meets
~20 lengths instead of one per phrase: pipeline first audio P50 −18 %, RTF −20 %. Cost:
from the float32 graph the audio is 1.33 dB (log-mel over loud frames, 10 phrases) instead
of 0.90, 2.8 % louder on average; the recognizer's kana error rate is unchanged (4.1–4.3 %
vs 4.6 %; docs/voices.md)."""
FIRST_PHRASE_FRAMES = (72, 88, 80, 64, 96, 56, 48, 104, 112, 120)
"""The vocoder lengths (frames, after bucketing) of first phrases, most common first: 82
Japanese benchmark sentences' first phrases (≤ 10 characters) fell in 48–120, 55 of them
in 72–88. A length's first run costs ~1.9× a later one (+210 ms on average, 2-core CPU),
so an idle voice runs these once ahead (:meth:`SplitGraph.prepare_next`)."""
SAMPLES_PER_FRAME = 600  # 24 kHz, 25 ms frames
SOURCE_PER_FRAME = 120  # the harmonic source's STFT hops in a frame
# Fuse every elementwise chain (the Snake activations) into one vectorised pass; the
# default heuristics leave most of them op by op. With the polynomial sines: vocoder RTF
# 0.097 vs 0.159 without this option (docs/voices.md).
FUSE_ELEMENTWISE = {"SNIPPETS_MODE": "IGNORE_CALLBACK"}


class SplitUnavailable(RuntimeError):
    """The graph does not have the layout this cut expects (another export)."""


@dataclass(frozen=True)
class SplitFiles:
    """The three ONNX files of a cut Kokoro graph."""

    front: Path
    vocoder: Path
    tail: Path


@dataclass(frozen=True)
class Cut:
    """Tensor names where the graph is cut."""

    aligned: str  # text features aligned to frames, the decoder's input (1, 512, frames)
    f0: str  # pitch curve (1, 2 × frames)
    energy: str  # energy curve (1, 2 × frames)
    style: str  # the decoder's half of the style vector (1, 128)
    source: str  # the harmonic source's STFT (1, 22, frames × 120 + 1)
    spectrum: str  # conv_post's output: log-magnitude and phase (1, 22, frames × 120 + 1)

    @property
    def vocoder_inputs(self) -> list[str]:
        """What the vocoder part takes, in order."""
        return [self.aligned, self.f0, self.energy, self.style, self.source]


def find_cut(model: Any) -> Cut:
    """Locate the vocoder's inputs and output in a Kokoro ONNX graph (SplitUnavailable if not)."""
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    consts = {i.name for i in model.graph.initializer}
    consts |= {o for n in nodes if n.op_type == "Constant" for o in n.output}

    def outside(name: str, prefix: str) -> bool:
        p = producer.get(name)
        return name not in consts and p is not None and not p.name.startswith(prefix)

    def unwrapped(name: str) -> str:
        """Through the Unsqueeze that kokoro_dequant puts before a 1-D conv made 2-D."""
        p = producer.get(name)
        return unwrapped(p.input[0]) if p is not None and p.op_type == "Unsqueeze" else name

    def squeezed(name: str) -> str:
        """Through the Squeeze that kokoro_dequant puts after a 1-D conv made 2-D."""
        users = [n for n in nodes if name in n.input]
        return users[0].output[0] if len(users) == 1 and users[0].op_type == "Squeeze" else name

    by_name = {n.name: n for n in nodes}
    f0, energy = (by_name.get(_DEC + name) for name in ("Unsqueeze", "Unsqueeze_1"))
    concat = by_name.get(_DEC + "Concat")  # torch.cat([aligned, F0_conv(f0), N_conv(n)])
    aligned = {concat.input[0]} if concat is not None and outside(concat.input[0],
                                                                 "/decoder/") else set()
    noise = [n for n in nodes if n.name.startswith(_GEN + "noise_convs.0")]
    sources = {unwrapped(i) for n in noise for i in n.input if outside(i, _GEN + "noise_convs.0")}
    posts = [n for n in nodes if n.name.startswith(_GEN + "conv_post")]
    spectra = {squeezed(o) for n in posts for o in n.output
               if any(o in m.input and not m.name.startswith(_GEN + "conv_post") for m in nodes)}
    styles = {o for n in nodes if "style" in n.input for o in n.output
              if any(o in m.input and m.name.startswith(_GEN) for m in nodes)}
    if (f0 is None or energy is None or len(aligned) != 1 or len(sources) != 1
            or len(spectra) != 1 or len(styles) != 1):
        raise SplitUnavailable("Kokoro graph: vocoder boundary not found")
    return Cut(aligned.pop(), f0.input[0], energy.input[0], styles.pop(), sources.pop(),
               spectra.pop())


def split_path(src: Path, out_dir: Path, part: str) -> Path:
    """Where one part of ``src``'s cut lives (a name tied to its size and this format)."""
    tag = hashlib.sha256(f"{src.name}:{src.stat().st_size}:{FORMAT_VERSION}".encode()).hexdigest()
    return out_dir / f"{src.stem}.{part}-{tag[:12]}.onnx"


def ensure_split(
    src: Path, out_dir: Path, probe: dict[str, npt.NDArray[Any]] | None = None
) -> SplitFiles:
    """The three parts of the float32 Kokoro graph ``src``, built once in ``out_dir``.

    ``probe`` (tokens, style and speed of one phrase) is run through the whole graph and
    the float32 parts; SplitUnavailable when they differ by more than PROBE_TOLERANCE or
    the graph has another layout. ImportError without the ``onnx`` package.
    """
    files = SplitFiles(*(split_path(src, out_dir, p) for p in PARTS))
    if all(f.is_file() and f.stat().st_size > 0 for f in (files.front, files.vocoder, files.tail)):
        return files
    import onnx
    import onnx.utils

    model = onnx.load(str(src))
    cut = find_cut(model)
    outputs = [o.name for o in model.graph.output]
    inputs = [i.name for i in model.graph.input]
    extractor = onnx.utils.Extractor(model)
    try:
        parts = {
            "front": extractor.extract_model(inputs, cut.vocoder_inputs),
            "vocoder": extractor.extract_model(cut.vocoder_inputs, [cut.spectrum]),
            "tail": extractor.extract_model([cut.spectrum], outputs),
        }
    except ValueError as exc:  # a name the extractor cannot type
        raise SplitUnavailable(f"Kokoro graph: {exc}") from None
    got = {i.name for i in parts["vocoder"].graph.input}
    if got != set(cut.vocoder_inputs):
        raise SplitUnavailable(f"Kokoro graph: the vocoder needs other inputs too ({got})")
    _type_inputs(parts["vocoder"], cut)
    squared_sin_as_polynomial(parts["vocoder"])
    try:
        time_axis_in_4d(parts["vocoder"])
    except ValueError as exc:  # another export's ops: the 3-D vocoder runs as before
        log.info("Kokoro's vocoder stays 3-D (%s)", exc)
    if probe is not None:
        _check(src, parts, probe)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    for name, part in parts.items():
        out = getattr(files, name)
        write_atomically(out, functools.partial(_save_onnx, part))
        for old in out_dir.glob(f"{src.stem}.{name}-*.onnx"):
            if old != out:
                old.unlink(missing_ok=True)  # a cut made by an older version
    for blob in (out_dir / OPENVINO_CACHE).glob("*.blob"):
        blob.unlink(missing_ok=True)  # compiled from a vocoder file replaced now (~200 MB)
    log.info("cut %s into front, vocoder and tail (once)", src.name)
    return files


def _type_inputs(vocoder: Any, cut: Cut) -> None:
    """Give the vocoder's inputs their element type and rank (the cut leaves them untyped,
    which OpenVINO's importer rejects)."""
    from onnx import TensorProto

    shapes: dict[str, tuple[int | str, ...]] = {
        cut.aligned: (1, 512, "frames"), cut.f0: (1, "frames2"), cut.energy: (1, "frames2"),
        cut.style: (1, 128), cut.source: (1, 22, "samples")}
    for inp in vocoder.graph.input:
        t = inp.type.tensor_type
        t.elem_type = TensorProto.FLOAT
        del t.shape.dim[:]
        for d in shapes[inp.name]:
            dim = t.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d


def _check(src: Path, parts: dict[str, Any], probe: dict[str, npt.NDArray[Any]]) -> None:
    """SplitUnavailable unless the float32 parts reproduce the whole graph on ``probe``."""
    import onnxruntime as ort

    ort.set_default_logger_severity(3)  # the cut leaves unused initializers: a warning a part

    def session(model: Any) -> Any:
        return ort.InferenceSession(model, providers=["CPUExecutionProvider"])

    names = {i.name for i in parts["front"].graph.input}
    feed = {("tokens" if "tokens" in names else "input_ids"): probe["tokens"],
            "style": probe["style"], "speed": probe["speed"]}
    if CAP_INPUT in names:
        feed[CAP_INPUT] = np.full(probe["tokens"].shape, 1e4, np.float32)  # no caps
    whole = session(str(src)).run(None, feed)[0]
    front, vocoder, tail = (session(parts[p].SerializeToString()) for p in PARTS)
    feats = dict(zip([o.name for o in front.get_outputs()], front.run(None, feed), strict=True))
    spectrum = vocoder.run(None, {i.name: feats[i.name] for i in vocoder.get_inputs()})[0]
    audio = tail.run(None, {tail.get_inputs()[0].name: spectrum})[0]
    if audio.shape != whole.shape or float(np.max(np.abs(audio - whole))) > PROBE_TOLERANCE:
        raise SplitUnavailable("Kokoro graph: the cut parts do not reproduce the whole graph")


def bf16_cpu() -> bool:
    """True when OpenVINO is installed and this CPU computes in bfloat16 natively."""
    try:
        import openvino as ov
    except ImportError:
        return False
    try:
        caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:
        return False
    return "BF16" in caps


class SplitGraph:
    """Runs a cut Kokoro graph: front and tail on onnxruntime, the vocoder on OpenVINO.

    ``run(feed)`` takes and returns what the whole graph's session would (the audio).
    ``threads`` = threads for each engine (0 = every core; they run one after the other).
    ``cache_dir``: where OpenVINO keeps the compiled vocoder (its ``CACHE_DIR``), so that
    later loads read it instead of compiling again (2.0 → 0.7 s on a 2-core CPU; ~200 MB
    for the bfloat16 vocoder); None compiles every time. The onnxruntime sessions are
    built while OpenVINO compiles (both leave the GIL).
    """

    def __init__(self, files: SplitFiles, *, threads: int = 0, precision: str = "bf16",
                 cache_dir: Path | None = None) -> None:
        import threading

        import onnxruntime as ort
        import openvino as ov

        from yomiage.tts.onnx_options import session_options

        def session(path: Path) -> Any:
            return ort.InferenceSession(str(path), sess_options=session_options(threads),
                                        providers=["CPUExecutionProvider"])

        sessions: dict[str, Any] = {}

        def build_sessions() -> None:
            try:
                sessions["front"] = session(files.front)
                sessions["tail"] = session(files.tail)
            except BaseException as exc:  # raised again below, in the caller's thread
                sessions["error"] = exc

        builder = threading.Thread(target=build_sessions, name="kokoro-front", daemon=True)
        builder.start()
        try:
            compiled = self._compile_vocoder(ov, files.vocoder, threads, precision, cache_dir)
        finally:
            builder.join()
        if "error" in sessions:
            raise sessions["error"]
        self.front, self.tail = sessions["front"], sessions["tail"]
        self.vocoder_file = files.vocoder
        self.input_names = [i.name for i in self.front.get_inputs()]
        self._front_out = [o.name for o in self.front.get_outputs()]
        self._tail_in = self.tail.get_inputs()[0].name
        self._vocoder_in = [p.any_name for p in compiled.inputs]
        self._request = compiled.create_infer_request()
        self._lengths_run: set[int] = set()  # vocoder lengths whose kernels are prepared
        self._template: list[npt.NDArray[Any]] | None = None  # a phrase's vocoder inputs

    @staticmethod
    def _compile_vocoder(ov: Any, vocoder: Path, threads: int, precision: str,
                         cache_dir: Path | None) -> Any:
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": precision,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            "INFERENCE_NUM_THREADS": threads if threads > 0 else max(1, os.cpu_count() or 1),
            # The translator shares the cores: pinning would fight it for them.
            "ENABLE_CPU_PINNING": False,
            # Kernels are prepared per node and input length and kept; phrases come in
            # hundreds of lengths, and the default cache (5000) grew the process without
            # bound (1270 MB after 60 sentences; 1010 MB at 16 entries, ~6% slower, as a
            # first run of a length costs ~25% more).
            "CPU_RUNTIME_CACHE_CAPACITY": RUNTIME_CACHE_INT8 if int8_vocoder.MARK in vocoder.name
            else RUNTIME_CACHE,
        }
        core = ov.Core()
        if cache_dir is not None:
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                core.set_property({"CACHE_DIR": str(cache_dir)})
            except (OSError, RuntimeError) as exc:  # compiles as before, only slower
                log.warning("OpenVINO cannot cache Kokoro's vocoder in %s (%s)", cache_dir, exc)
        try:
            return core.compile_model(str(vocoder), "CPU", config | FUSE_ELEMENTWISE)
        except RuntimeError as exc:  # an OpenVINO that does not know the (unlisted) option
            log.info("OpenVINO without %s (%s); Kokoro's vocoder runs unfused",
                     ", ".join(FUSE_ELEMENTWISE), str(exc).splitlines()[0] if str(exc) else "")
            return core.compile_model(str(vocoder), "CPU", config)

    def run(self, feed: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.float32]:
        """The audio for one phrase's inputs (the vocoder's length rounded up to
        FRAME_BUCKET frames, the padding's samples cut off again)."""
        outs = self.front.run(None, feed)
        if self._template is None:
            self._template = outs
        padded, frames = pad_frames(outs, FRAME_BUCKET)
        spectrum = self._vocode(padded)
        audio = np.asarray(self.tail.run(None, {self._tail_in: spectrum})[0], np.float32)
        return audio[..., : frames * SAMPLES_PER_FRAME]

    def _vocode(self, feats: list[npt.NDArray[Any]]) -> npt.NDArray[np.float32]:
        by_name = dict(zip(self._front_out, feats, strict=True))
        result = self._request.infer({name: by_name[name] for name in self._vocoder_in})
        self._lengths_run.add(int(feats[0].shape[-1]))
        return np.asarray(result[0], dtype=np.float32)

    def prepare_next(self, lengths: tuple[int, ...] = FIRST_PHRASE_FRAMES) -> bool:
        """Run the vocoder once on the next of ``lengths`` (frames) it has not run yet, on
        a phrase's inputs cut or lengthened to it (:func:`fit_frames`), so that OpenVINO prepares
        that length's kernels before a phrase needs them (~0.2–0.5 s on a 2-core CPU).
        False, doing nothing, when every length has run or no phrase has been made yet."""
        if self._template is None:
            return False
        for n in lengths:
            if n not in self._lengths_run:
                self._vocode(fit_frames(self._template, n))
                self._lengths_run.add(n)  # even if the inputs' layout kept their length
                return True
        return False


def fit_frames(feats: list[npt.NDArray[Any]], frames: int) -> list[npt.NDArray[Any]]:
    """The vocoder's inputs (as :func:`pad_frames` takes them) cut or lengthened to
    ``frames`` frames: inputs of that length for preparing kernels, not for listening."""
    aligned, f0, energy, style, source = feats
    if aligned.shape[-1] < frames:
        return pad_frames(feats, frames, exact=True)[0]
    return [aligned[..., :frames], f0[..., : 2 * frames], energy[..., : 2 * frames], style,
            source[..., : SOURCE_PER_FRAME * frames + 1]]


def pad_frames(
    feats: list[npt.NDArray[Any]], bucket: int, *, exact: bool = False
) -> tuple[list[npt.NDArray[Any]], int]:
    """The vocoder's inputs (aligned, f0, energy, style, source: Cut.vocoder_inputs'
    order) lengthened to a multiple of ``bucket`` frames (``exact``: to ``bucket`` frames,
    if longer) by repeating each one's last frame (the closing pad: silence), and the
    frames there were. Inputs of other shapes come back as they are."""
    aligned, f0, energy, style, source = feats
    frames = aligned.shape[-1]
    pad = max(0, bucket - frames) if exact else -frames % bucket
    if pad == 0 or f0.shape[-1] != 2 * frames or energy.shape[-1] != 2 * frames or \
            source.shape[-1] != SOURCE_PER_FRAME * frames + 1:
        return feats, frames

    def longer(x: npt.NDArray[Any], n: int) -> npt.NDArray[Any]:
        return np.concatenate([x, np.repeat(x[..., -1:], n, axis=-1)], axis=-1)

    return [longer(aligned, pad), longer(f0, 2 * pad), longer(energy, 2 * pad), style,
            longer(source, SOURCE_PER_FRAME * pad)], frames
