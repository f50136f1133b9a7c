"""Kokoro's vocoder with its residual convolutions in int8, for OpenVINO.

The generator's residual blocks, at 20 and 120 times the frame rate, are ~95 % of the
vocoder's multiply-adds (counted from the layer shapes). With their weights in int8 (per
output channel) and their inputs quantized to int8 at fixed, calibrated ranges (one scale
a tensor), OpenVINO runs them on the CPU's integer units (AMX-INT8 / VNNI) while the rest
stays in bfloat16: the graph gets ``QuantizeLinear → DequantizeLinear`` pairs in front of
each such convolution and ``DequantizeLinear`` on its weights, which OpenVINO reads as
int8 convolutions.

Left in bfloat16, because int8 there moved the audio most (log-mel distance to float32,
each group alone, 8 first phrases): the decoder's frame-rate blocks (3.0 dB, 5 % of the
work), ``conv_post`` (3.5 dB) and the two convolutions that read the harmonic source's
spectrum (little work; +0.06 dB alone). Ranges: the 99.99th percentile of each input's
magnitude over the calibration phrases, chosen over the largest value and a
mean-squared-error choice by that distance (1.3 against 2.0 and 1.4 dB; bfloat16 alone 0.9;
docs/voices.md).

Calibration runs the float32 vocoder (onnxruntime) on :data:`CALIBRATION_JA`, said by
the installed voices in turn, once, when the file is built (~25 s on a 2-core CPU); none
of its sentences is a listening sentence (``bench --stage listen``, which measures what
int8 costs the ear), two short ones also open benchmark sentences.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yomiage.tts.kokoro.prepared_files import remove_stale_temps, write_atomically

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"  # bump when the rewrite or QUANTIZED change
_GEN = "/decoder/decoder/generator/"
QUANTIZED = (_GEN + "resblocks", _GEN + "noise_res")
"""Node-name prefixes of the convolutions made int8."""
PERCENTILE = 99.99
"""The calibrated range of an input: this percentile of its values, both signs."""
SAMPLES_PER_TENSOR = 200_000
"""Values of one input read per calibration phrase (an even stride through it)."""

CALIBRATION_JA = (
    "了解しました。",
    "まず、設定ファイルの構造を確認します。",
    "関数の引数が一つ足りなかったので、呼び出し側を直しました。",
    "ビルドは成功しましたが、警告が二件残っています。",
    "次は、データベースの接続処理を見ていきます。",
    "この変更で、起動時間がおよそ半分になりました。",
    "失敗していたテストは、日付の扱いが原因でした。",
    "ほかに気になる点があれば、教えてください。",
    "はい、",
    "ログの出力先を、標準エラーに変えておきました。",
)
"""Sentences the int8 ranges are calibrated on (coding-agent prose, short and long)."""
CALIBRATION = {"ja": CALIBRATION_JA}
"""Calibration sentences by language: a language without them keeps a bfloat16 vocoder."""


MARK = ".int8-"
"""In the name of every int8 vocoder file (and of no other)."""


def int8_path(vocoder: Path) -> Path:
    """Where the int8 copy of ``vocoder`` lives (a name tied to its size, this format, the
    percentile and the calibration sentences)."""
    tag = hashlib.sha256(
        f"{vocoder.name}:{vocoder.stat().st_size}:{FORMAT_VERSION}:{PERCENTILE}:"
        f"{sorted(CALIBRATION.items())}".encode()
    ).hexdigest()
    return vocoder.with_name(f"{vocoder.stem}{MARK}{tag[:12]}.onnx")


def quantized_convs(model: Any) -> list[Any]:
    """The convolutions :data:`QUANTIZED` names whose weights are constants."""
    inits = {i.name for i in model.graph.initializer}
    return [n for n in model.graph.node
            if n.op_type == "Conv" and n.name.startswith(QUANTIZED) and n.input[1] in inits]


def calibrate(model: Any, feeds: Iterable[dict[str, npt.NDArray[Any]]]) -> dict[str, float]:
    """Input name → calibrated magnitude (:data:`PERCENTILE` over ``feeds``, the
    vocoder's inputs for some phrases) for each convolution :func:`quantized_convs` finds,
    running ``model`` in float32 on onnxruntime."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    watched = list(dict.fromkeys(n.input[0] for n in quantized_convs(probe)))
    outputs = {o.name for o in probe.graph.output}
    for name in watched:
        if name not in outputs:
            probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    ort.set_default_logger_severity(3)  # no warnings about the cut's unused initializers
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    wanted = set(watched)
    ranges: dict[str, float] = {}
    for feed in feeds:
        for name, value in zip(names, session.run(None, feed), strict=True):
            if name not in wanted:
                continue
            flat = np.asarray(value).ravel()
            flat = flat[:: max(1, flat.size // SAMPLES_PER_TENSOR)]
            lo, hi = np.percentile(flat, [100.0 - PERCENTILE, PERCENTILE])
            ranges[name] = max(ranges.get(name, 0.0), float(-lo), float(hi))
    missing = wanted - ranges.keys()
    if missing:
        raise ValueError(f"no calibration data for {len(missing)} vocoder inputs")
    return ranges


def quantize(model: Any, ranges: dict[str, float]) -> int:
    """Rewrite ``model`` in place: each convolution of :func:`quantized_convs` gets its
    input quantized to int8 at ``ranges`` (symmetric, one scale) and its weights stored
    in int8 with one scale per output channel; the float32 weights go. Returns how many
    convolutions were rewritten."""
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    convs = {n.name for n in quantized_convs(model)}
    made: dict[str, str] = {}  # float name → its int8 round trip
    extra: list[Any] = []
    nodes: list[Any] = []
    for n in g.node:
        if n.name not in convs:
            nodes.append(n)
            continue
        x, w_name = n.input[0], n.input[1]
        if x not in made:
            scale = max(ranges[x], 1e-8) / 127.0
            extra += [numpy_helper.from_array(np.array(scale, np.float32), x + "/q_scale"),
                      numpy_helper.from_array(np.array(0, np.int8), x + "/q_zero")]
            q = [x + "/q_scale", x + "/q_zero"]
            nodes += [helper.make_node("QuantizeLinear", [x, *q], [x + "/q"]),
                      helper.make_node("DequantizeLinear", [x + "/q", *q], [x + "/dq"])]
            made[x] = x + "/dq"
        if w_name not in made:
            w = numpy_helper.to_array(inits[w_name]).astype(np.float32)
            per_out = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
            w_scale = np.maximum(per_out, 1e-12) / 127.0
            shape = (-1,) + (1,) * (w.ndim - 1)
            wq = np.clip(np.round(w / w_scale.reshape(shape)), -127, 127).astype(np.int8)
            p = w_name + "/int8"
            extra += [numpy_helper.from_array(wq, p),
                      numpy_helper.from_array(w_scale.astype(np.float32), p + "_scale"),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), p + "_zero")]
            nodes.append(helper.make_node("DequantizeLinear", [p, p + "_scale", p + "_zero"],
                                          [p + "/dq"], axis=0))
            made[w_name] = p + "/dq"
        n.input[0], n.input[1] = made[x], made[w_name]
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used] + extra
    del g.initializer[:]
    g.initializer.extend(keep)
    return len(convs)


def ensure_int8(vocoder: Path, feeds: Iterable[dict[str, npt.NDArray[Any]]]) -> Path:
    """The int8 copy of the vocoder file ``vocoder`` (:func:`int8_path`), built once from
    ``feeds`` (the vocoder's inputs for calibration phrases, read only when building).
    ValueError when the graph has nothing to quantize; ImportError without ``onnx``."""
    out = int8_path(vocoder)
    if out.is_file() and out.stat().st_size > 0:
        return out
    import onnx

    model = onnx.load(str(vocoder))
    if not quantized_convs(model):
        raise ValueError("Kokoro's vocoder: no convolutions to make int8 (another export)")
    log.warning("preparing Kokoro's int8 vocoder (once, about half a minute)")
    ranges = calibrate(model, feeds)
    count = quantize(model, ranges)
    remove_stale_temps(out.parent)
    write_atomically(out, lambda tmp: onnx.save(model, str(tmp)))
    for old in out.parent.glob(f"{vocoder.stem.split('.vocoder-')[0]}.vocoder-*{MARK}*.onnx"):
        if old != out:
            old.unlink(missing_ok=True)  # made from an older cut or by an older format
    log.info("int8 vocoder: %d convolutions, %s", count, out)
    return out
