"""Turn Kokoro's dynamic-int8 ONNX export into an equivalent float32 graph, cached on disk.

onnxruntime has no fast CPU kernel for ``ConvInteger`` (it dominates the int8 model's run
time), while its float32 ``Conv``/``MatMul`` use the optimised MLAS kernels. Rewriting each
``DynamicQuantizeLinear → ConvInteger/MatMulInteger → Cast → Mul(scale)`` chain into one
float op with dequantized weights makes synthesis several times faster for 4x the disk size.
Each 1-D ``Conv`` is then written as a 2-D one over a height-1 image, which onnxruntime's
graph optimiser hands to its blocked (NCHWc) direct convolution instead of im2col + GEMM:
the same arithmetic (outputs within float rounding), ~1.2x faster on the dilated vocoder
convolutions. Needs the ``onnx`` package; callers fall back to the int8 file without it.

``Pow(x, 2)`` (the Snake activations) becomes ``Mul(x, x)``: the same bits, ~5 % faster.
The harmonic source's ``STFT`` becomes a strided convolution (kokoro/rewrites.py).

Last, an input ``max_frames`` (1, n) caps each token's predicted duration (25 ms frames).
Kokoro gives the leading pad ~13 frames and a phrase's final punctuation ~22 frames of
silence, a third of a short phrase's audio, which the decoder would synthesize only for
it to be trimmed; the engine caps those two (kokoro_onnx.frame_caps).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from yomiage.tts.kokoro.prepared_files import remove_stale_temps, write_atomically
from yomiage.tts.kokoro.rewrites import stft_as_conv

log = logging.getLogger(__name__)

FORMAT_VERSION = "6"  # 5: STFT as a convolution (kokoro_rewrites); 6: without its leftovers
CAP_INPUT = "max_frames"


def dequantized_path(src: Path, cache_dir: Path) -> Path:
    """Where the float32 copy of ``src`` lives (a name tied to its size and format)."""
    tag = hashlib.sha256(f"{src.name}:{src.stat().st_size}:{FORMAT_VERSION}".encode()).hexdigest()
    return cache_dir / f"{src.stem}.fp32-{tag[:12]}.onnx"


def ensure_dequantized(src: Path, cache_dir: Path) -> Path:
    """Return the path of a float32 copy of the int8 model ``src``, building it once.

    Raises ImportError when the ``onnx`` package is missing.
    """
    out = dequantized_path(src, cache_dir)
    remove_stale_temps(cache_dir)  # left by a preparation that was interrupted
    if out.is_file() and out.stat().st_size > 0:
        return out
    import onnx

    # a notice, not a problem: the first run is ~10 s slower and says why
    log.warning("preparing Kokoro's %s for this machine (once, a few seconds; %s)",
                src.name, cache_dir)
    model = onnx.load(str(src))
    n_rewritten = dequantize_graph(model)
    n_2d = conv1d_as_2d(model)
    square_pows(model)
    stft_as_conv(model)
    if not add_duration_cap(model):
        log.warning("Kokoro graph: duration node not found; silence at phrase edges not capped")
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda tmp: onnx.save(model, str(tmp)))
    for old in cache_dir.glob(f"{src.stem}.fp32-*.onnx"):
        if old != out:  # a copy made by an older version of this rewrite
            old.unlink(missing_ok=True)
    log.info("rewrote %d integer ops, %d 1-D convolutions; float32 model at %s",
             n_rewritten, n_2d, out)
    return out


def dequantize_graph(model: Any) -> int:
    """Rewrite ``model`` (an onnx.ModelProto) in place; return how many ops were replaced."""
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def arr(name: str) -> np.ndarray:
        return numpy_helper.to_array(inits[name])

    def only_consumer(name: str, op: str) -> Any | None:
        cs = consumers.get(name, [])
        return cs[0] if len(cs) == 1 and cs[0].op_type == op else None

    new_inits: list[Any] = []
    made: set[str] = set()
    replace: dict[int, Any] = {}  # id(old node) -> new node (or None = drop)
    count = 0
    for n in g.node:
        if n.op_type not in ("ConvInteger", "MatMulInteger"):
            continue
        dql = producer.get(n.input[0])
        if dql is None or dql.op_type != "DynamicQuantizeLinear" or n.input[1] not in inits:
            continue
        x_name = dql.input[0]
        bias_add = only_consumer(n.output[0], "Add") if n.op_type == "ConvInteger" else None
        cast = only_consumer((bias_add or n).output[0], "Cast")
        mul = only_consumer(cast.output[0], "Mul") if cast is not None else None
        if mul is None:
            continue
        scale_node = producer.get(mul.input[1]) or producer.get(mul.input[0])
        if scale_node is None or scale_node.op_type != "Mul":
            continue
        w_scale_name = next((i for i in scale_node.input if i in inits), None)
        if w_scale_name is None:
            continue
        wq = arr(n.input[1]).astype(np.float32)
        wzp = arr(n.input[3]).astype(np.float32) if len(n.input) > 3 and n.input[3] else 0.0
        wscale = arr(w_scale_name).astype(np.float32)
        w = (wq - wzp) * wscale  # per-tensor (conv) or per-column (matmul) broadcast
        w_name = n.input[1] + "_fp32"
        if w_name not in made:
            made.add(w_name)
            new_inits.append(numpy_helper.from_array(w.astype(np.float32), w_name))
        inputs = [x_name, w_name]
        dropped = [n, cast, mul]
        if bias_add is not None:
            bias_name = _float_bias(bias_add, producer, inits)
            if bias_name is None:
                continue
            inputs.append(bias_name)
            dropped.append(bias_add)
        if n.op_type == "ConvInteger":
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            new = helper.make_node("Conv", inputs, [mul.output[0]], name=n.name + "_fp32", **attrs)
        else:
            new = helper.make_node("MatMul", inputs, [mul.output[0]], name=n.name + "_fp32")
        replace[id(n)] = new
        for d in dropped[1:]:
            replace[id(d)] = None
        count += 1

    nodes = []
    for n in g.node:
        if id(n) in replace:
            if replace[id(n)] is not None:
                nodes.append(replace[id(n)])
        else:
            nodes.append(n)
    del g.node[:]
    g.node.extend(_live_nodes(nodes, [o.name for o in g.output]))
    g.initializer.extend(new_inits)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return count


def _float_bias(add: Any, producer: dict[str, Any], inits: dict[str, Any]) -> str | None:
    """Find the float bias behind ``Reshape(Cast(Floor(Div(bias, scale))))``."""
    for name in add.input:
        node = producer.get(name)
        for op in ("Reshape", "Cast", "Floor", "Div"):
            if node is None or node.op_type != op:
                break
            if op == "Div":
                return node.input[0] if node.input[0] in inits else None
            node = producer.get(node.input[0])
    return None


def _live_nodes(nodes: list[Any], outputs: list[str]) -> list[Any]:
    """Drop nodes whose outputs nothing reads (keeps topological order)."""
    needed = set(outputs)
    live: list[Any] = []
    for n in reversed(nodes):
        if any(o in needed for o in n.output):
            live.append(n)
            needed.update(i for i in n.input if i)
    live.reverse()
    return live


def conv1d_as_2d(model: Any) -> int:
    """Rewrite each 1-D ``Conv`` with a constant weight as Unsqueeze → 2-D Conv → Squeeze.

    Returns how many were rewritten.
    """
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    axis = "/yomiage/conv2d/axis"
    g.initializer.append(numpy_helper.from_array(np.array([2], np.int64), axis))
    nodes: list[Any] = []
    count = 0
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "Conv" and len(n.input) > 1 else None
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        auto_pad = attrs.get("auto_pad", "NOTSET")
        if w is None or len(w.dims) != 3 or auto_pad not in ("NOTSET", b"NOTSET"):
            nodes.append(n)
            continue
        w4 = n.input[1] + "_2d"
        if w4 not in inits:
            arr = numpy_helper.to_array(w)
            inits[w4] = numpy_helper.from_array(arr.reshape(*arr.shape[:2], 1, arr.shape[2]), w4)
            g.initializer.append(inits[w4])
        pads = list(attrs.get("pads", [0, 0]))
        x4, y4 = n.output[0] + "_x2d", n.output[0] + "_y2d"
        nodes.append(helper.make_node("Unsqueeze", [n.input[0], axis], [x4]))
        nodes.append(helper.make_node(
            "Conv", [x4, w4, *n.input[2:]], [y4], name=n.name + "_2d",
            kernel_shape=[1, int(w.dims[2])], pads=[0, pads[0], 0, pads[1]],
            dilations=[1, int(attrs.get("dilations", [1])[0])],
            strides=[1, int(attrs.get("strides", [1])[0])], group=int(attrs.get("group", 1)),
        ))
        nodes.append(helper.make_node("Squeeze", [y4, axis], [n.output[0]]))
        count += 1
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return count


def add_duration_cap(model: Any) -> bool:
    """Add the ``max_frames`` input: durations become ``min(predicted, max_frames)``.

    Returns False (graph unchanged) when the ``Round → Clip`` duration node is not found.
    """
    from onnx import TensorProto, helper

    g = model.graph
    rounds = {n.output[0] for n in g.node if n.op_type == "Round"}
    clip = next((n for n in g.node if n.op_type == "Clip" and n.input[0] in rounds), None)
    if clip is None or any(i.name == CAP_INPUT for i in g.input):
        return False
    dur, capped = clip.output[0], clip.output[0] + "_capped"
    for n in g.node:
        for k, name in enumerate(n.input):
            if name == dur:
                n.input[k] = capped
    g.node.insert(list(g.node).index(clip) + 1,
                  helper.make_node("Min", [dur, CAP_INPUT], [capped], name="/yomiage/cap"))
    g.input.append(helper.make_tensor_value_info(CAP_INPUT, TensorProto.FLOAT,
                                                 [1, "sequence_length"]))
    return True


def square_pows(model: Any) -> int:
    """Replace ``Pow(x, 2)`` with a constant exponent by ``Mul(x, x)``; return the count."""
    from onnx import helper, numpy_helper

    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    count = 0
    for i, n in enumerate(g.node):
        if n.op_type != "Pow" or len(n.input) != 2:
            continue
        e = consts.get(n.input[1])
        if e is not None and e.size == 1 and float(e.ravel()[0]) == 2.0:
            g.node[i].CopyFrom(helper.make_node("Mul", [n.input[0], n.input[0]], list(n.output),
                                                name=n.name + "_square"))
            count += 1
    return count
