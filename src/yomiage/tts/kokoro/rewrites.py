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
