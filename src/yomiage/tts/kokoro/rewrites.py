"""Rewrites of Kokoro's ONNX graph into ops that CPU runtimes run fast, computing the same sums.

Found by profiling a phrase on a 2-core Sapphire Rapids (docs/voices.md has the figures):

* ``STFT`` (the harmonic source's spectrum, 20-point frames every 5 samples) is a naive
  loop in onnxruntime: ~30 % of the front's time for a few million multiply-adds. As a
  strided convolution with the windowed DFT basis as its weights it is the same sum, and
  a cheap one. One difference, on purpose: the DC and Nyquist bins' phase follows
  PyTorch's transform (+π where the real part is negative), as in training, where
  onnxruntime's STFT picked ±π by the sign of its rounding noise.
* ``Sin`` has no vectorised kernel in OpenVINO's CPU plugin: the vocoder's 48 Snake
  activations ``x + sin(αx)² / α`` ran a scalar reference loop in float32 with layout
  conversions around each (half the vocoder's time). Where a sine is only ever squared,
  ``sin(y)²`` is computed from ``r = y − π·round(y/π)`` (|r| ≤ π/2; the square has
  period π) by an odd polynomial accurate to 4e-6, in plain multiplies and adds that
  OpenVINO fuses into one vectorised pass.
* The vocoder's (batch, channels, time) tensors are carried as (batch, channels, 1,
  time) from its inputs to its output (:func:`time_axis_in_4d`). Its convolutions were
  already 2-D (kokoro/dequant.py), each between an Unsqueeze and a Squeeze; its three
  transposed convolutions were 1-D, which OpenVINO ran without the AMX tiles (16 of 146
  ms for an 80-frame phrase, 2 ms as 2-D), and the reshapes around every convolution go.
  Same sums: onnxruntime gives bit-identical output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_SIN = "/yomiage/sin/"
# PyTorch's transform, which Kokoro was trained with, gives exactly +0 as the imaginary
# part of the DC and Nyquist bins, so their phase is +π where the real part is negative.
# onnxruntime's STFT gives rounding noise of either sign there (±π at random); the
# exported atan2 tests ``imag > 0``, so those bins get this instead of 0 to mean +0.
_POSITIVE_ZERO = 1e-30
# sin(r) = r·(1 + s·(c0 + s·(c1 + s·(c2 + s·c3)))), s = r²: Taylor terms to r⁹;
# the first term left out is r¹¹/11! ≤ 3.6e-6 at |r| = π/2.
_SIN_COEFFS = (-1 / 6, 1 / 120, -1 / 5040, 1 / 362880)


def stft_as_conv(model: Any) -> int:
    """Replace each real, onesided ``STFT`` with a constant window and frame length by a
    strided ``Conv`` over the windowed DFT basis. Returns how many were replaced."""
    from onnx import helper, numpy_helper

    g = model.graph
    consts = _constants(g)
    nodes: list[Any] = []
    replaced: set[str] = set()
    count = 0
    for n in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        names = list(n.input) + [""] * (4 - len(n.input))
        step, window, length = (consts.get(names[i]) for i in (1, 2, 3))
        if (n.op_type != "STFT" or attrs.get("onesided", 1) != 1 or step is None
                or window is None or window.ndim != 1
                or (length is not None and int(length) != window.size)):
            nodes.append(n)
            continue
        size, bins = window.size, window.size // 2 + 1
        k = np.arange(bins)[:, None] * np.arange(size)[None, :] * (2 * np.pi / size)
        basis = np.concatenate([np.cos(k), -np.sin(k)]) * window[None, :]
        real_bins = [bins] + ([2 * bins - 1] if size % 2 == 0 else [])  # DC, Nyquist
        basis[real_bins] = 0.0
        bias = np.zeros(2 * bins, np.float32)
        bias[real_bins] = _POSITIVE_ZERO
        p = n.name + "/conv/"
        g.initializer.extend([
            numpy_helper.from_array(basis.reshape(2 * bins, 1, size).astype(np.float32),
                                    p + "basis"),
            numpy_helper.from_array(bias, p + "bias")])
        for name, shape in (("rows", [0, 1, -1]), ("shape", [0, 2, bins, -1])):
            g.initializer.append(numpy_helper.from_array(np.array(shape, np.int64), p + name))
        # signal (batch, length[, 1]) → (batch, 1, length) → frames (batch, 2·bins, n)
        # → (batch, 2, bins, n) → STFT's layout (batch, n, bins, [re, im])
        nodes += [
            helper.make_node("Reshape", [n.input[0], p + "rows"], [p + "signal"]),
            helper.make_node("Conv", [p + "signal", p + "basis", p + "bias"], [p + "frames"],
                             name=p + "Conv", kernel_shape=[size], strides=[int(step)]),
            helper.make_node("Reshape", [p + "frames", p + "shape"], [p + "parts"]),
            helper.make_node("Transpose", [p + "parts"], [n.output[0]], perm=[0, 3, 2, 1]),
        ]
        count += 1
        replaced.update(n.input[1:])
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used or i.name not in replaced]
    del g.initializer[:]
    g.initializer.extend(keep)  # the STFT's window and sizes, now unused
    return count


def _constants(graph: Any) -> dict[str, Any]:
    """The graph's initializers and ``Constant`` outputs as numpy arrays, by name."""
    from onnx import numpy_helper

    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consts.update({n.output[0]: numpy_helper.to_array(n.attribute[0].t)
                   for n in graph.node if n.op_type == "Constant" and n.attribute
                   and n.attribute[0].name == "value"})
    return consts


def squared_sin_as_polynomial(model: Any) -> int:
    """Replace each ``Sin`` whose only users square it (``Mul(s, s)`` or ``Pow(s, 2)``) by
    a range-reduced polynomial that has the same square. Returns how many were replaced."""
    from onnx import helper, numpy_helper

    g = model.graph
    consts = _constants(g)
    users: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            users.setdefault(i, []).append(n)

    def squares(user: Any, s: str) -> bool:
        if user.op_type == "Mul":
            return list(user.input) == [s, s]
        exponent = consts.get(user.input[1]) if user.op_type == "Pow" else None
        return (user.input[0] == s and exponent is not None and exponent.size == 1
                and float(exponent.reshape(-1)[0]) == 2.0)

    nodes: list[Any] = []

    def op(kind: str, a: str, b: str, out: str) -> str:
        nodes.append(helper.make_node(kind, [a, b], [out]))
        return out

    count = 0
    for n in g.node:
        out = n.output[0] if n.op_type == "Sin" else ""
        if not out or not users.get(out) or not all(squares(u, out) for u in users[out]):
            nodes.append(n)
            continue
        y, p = n.input[0], n.name + "/poly/"
        nodes.append(helper.make_node("Round", [op("Mul", y, _SIN + "inv_pi", p + "turns")],
                                      [p + "k"]))
        r = op("Sub", y, op("Mul", p + "k", _SIN + "pi", p + "kpi"), p + "r")
        s = op("Mul", r, r, p + "s")
        h = op("Mul", s, _SIN + "c3", p + "h3")
        for i in (2, 1, 0):
            h = op("Mul", op("Add", h, _SIN + f"c{i}", p + f"a{i}"), s, p + f"h{i}")
        op("Add", op("Mul", h, r, p + "rh"), r, out)
        count += 1
    if count:
        values = {"inv_pi": 1 / np.pi, "pi": np.pi} | {
            f"c{i}": c for i, c in enumerate(_SIN_COEFFS)}
        g.initializer.extend(numpy_helper.from_array(np.array(v, np.float32), _SIN + name)
                             for name, v in values.items())
    del g.node[:]
    g.node.extend(nodes)
    return count


_PER_ELEMENT = frozenset((
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Round", "LeakyRelu", "Relu", "Exp", "Abs",
    "Neg", "Sin", "Cos", "Tanh", "Sigmoid", "Reciprocal", "Erf", "Identity",
))
_4D = "/yomiage/4d/"


def time_axis_in_4d(model: Any) -> int:
    """Carry every (batch, channels, time) tensor of ``model`` as (batch, channels, 1,
    time): rank-3 inputs are unsqueezed once, the 2-D convolutions' Unsqueeze/Squeeze
    pairs become identities, 1-D transposed convolutions become 2-D, and axes, pads and
    scales move with the new axis; the outputs are squeezed back. Operands that stay
    lower-rank (a style's scale and shift) are unsqueezed to broadcast as before.
    Returns how many nodes changed; ValueError (model untouched) for an op it has no
    4-D form for or a 1-D convolution."""
    from onnx import helper, numpy_helper, shape_inference

    g = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    rank = {vi.name: len(vi.type.tensor_type.shape.dim)
            for vi in [*inferred.value_info, *inferred.input, *inferred.output]}
    consts = _constants(g)
    rank.update({name: v.ndim for name, v in consts.items()})
    added: list[Any] = []

    def const(name: str, value: Any) -> str:
        if not any(i.name == _4D + name for i in added):
            added.append(numpy_helper.from_array(np.asarray(value), _4D + name))
        return _4D + name

    def axes(name: str) -> list[int]:
        value = consts.get(name)
        if value is None:
            raise ValueError(f"axes {name!r} are not constant")
        return [int(a) for a in np.ravel(value)]

    def moved(axis: int) -> int:
        return axis + 1 if axis >= 2 else axis

    nodes: list[Any] = []
    wide: set[str] = set()  # names that now hold 4-D tensors
    lifted = {i.name: i.name + "/4d_in" for i in g.input if rank.get(i.name) == 3}
    for name, inner in lifted.items():
        nodes.append(helper.make_node("Unsqueeze", [name, const("axis2", [2])], [inner]))
        wide.add(inner)

    unsqueezed: set[str] = set()  # operands already given a 4-D copy

    def broadcast(name: str) -> str:
        """``name`` unsqueezed before its last axis, to broadcast against 4-D tensors."""
        r = rank.get(name)
        if not name or name in wide or r is None or r < 2:
            return name
        out = name + "/4d"
        if out not in unsqueezed:
            unsqueezed.add(out)
            nodes.append(helper.make_node("Unsqueeze", [name, const(f"axis{r - 1}", [r - 1])],
                                          [out]))
        return out

    changed = 0
    for n in g.node:
        ins = [lifted.get(i, i) for i in n.input]
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        op = n.op_type
        if op == "Conv":
            if rank.get(n.output[0]) != 4:
                raise ValueError(f"1-D convolution {n.name}: run conv1d_as_2d first")
            nodes.append(n)
            wide.update(n.output)
            continue
        if not any(i in wide for i in ins):
            nodes.append(n)
            continue
        out = list(n.output)
        if op in ("Unsqueeze", "Squeeze"):
            if axes(ins[1]) != [2]:
                raise ValueError(f"{op} {n.name} on the time axis")
            new = helper.make_node("Identity", [ins[0]], out, name=n.name)
        elif op in _PER_ELEMENT:
            new = helper.make_node(op, [broadcast(i) for i in ins], out, name=n.name, **attrs)
        elif op in ("ReduceMean", "ReduceSum") and len(ins) == 2:
            new = helper.make_node(op, [ins[0], const(n.name + "/axes", [
                moved(a) for a in axes(ins[1])])], out, name=n.name, **attrs)
        elif op == "Concat":
            new = helper.make_node(op, [broadcast(i) for i in ins], out, name=n.name,
                                   axis=moved(int(attrs["axis"])))
        elif op == "Resize" and len(ins) == 3 and consts.get(ins[2]) is not None:
            s = [float(v) for v in np.ravel(consts[ins[2]])]
            new = helper.make_node(op, [ins[0], ins[1], const(n.name + "/scales", np.array(
                [s[0], s[1], 1.0, s[2]], np.float32))], out, name=n.name, **attrs)
        elif op == "Pad" and consts.get(ins[1]) is not None and consts[ins[1]].size == 6:
            b0, b1, b2, e0, e1, e2 = (int(v) for v in np.ravel(consts[ins[1]]))
            new = helper.make_node(op, [ins[0], const(n.name + "/pads", np.array(
                [b0, b1, 0, b2, e0, e1, 0, e2], np.int64)), *ins[2:]], out, name=n.name, **attrs)
        elif op == "ConvTranspose" and len(attrs.get("kernel_shape", [])) == 1:
            pads = list(attrs.get("pads", [0, 0]))
            two_d = {**attrs, "kernel_shape": [1, attrs["kernel_shape"][0]],
                     "strides": [1, attrs.get("strides", [1])[0]],
                     "dilations": [1, attrs.get("dilations", [1])[0]],
                     "pads": [0, pads[0], 0, pads[1]]}
            if "output_padding" in attrs:
                two_d["output_padding"] = [0, attrs["output_padding"][0]]
            new = helper.make_node(op, [ins[0], broadcast(ins[1]), *ins[2:]], out,
                                   name=n.name, **two_d)
        else:
            raise ValueError(f"no 4-D form for {op} ({n.name})")
        nodes.append(new)
        wide.update(out)
        changed += 1
    renamed = {o.name: o.name + "/4d_out" for o in g.output if o.name in wide}
    for node in nodes:
        node.output[:] = [renamed.get(o, o) for o in node.output]
        node.input[:] = [renamed.get(i, i) for i in node.input]
    for final, inner in renamed.items():
        nodes.append(helper.make_node("Squeeze", [inner, const("axis2", [2])], [final]))
    del g.value_info[:]  # the 3-D shapes recorded there are stale
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(added)
    return changed
