"""Graph rewrites for fast CPU kernels give the ops' results (tiny graphs, onnxruntime)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.tts.kokoro.dequant import conv1d_as_2d
from yomiage.tts.kokoro.rewrites import (
    squared_sin_as_polynomial,
    stft_as_conv,
    time_axis_in_4d,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _run(model: Any, **feed: np.ndarray) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(sess.run(None, feed))


def _stft_model(signal_dims: list[Any]) -> Any:
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(20) / 20)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("STFT", ["x", "step", "window", "length"], ["y"], onesided=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, signal_dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(5, np.int64), "step"),
         numpy_helper.from_array(window, "window"),
         numpy_helper.from_array(np.array(20, np.int64), "length")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("dims", [[1, "n"], [1, "n", 1]])
def test_stft_as_conv_computes_the_stft(dims: list[Any]) -> None:
    x = np.random.default_rng(0).standard_normal((1, 2000) + (1,) * (len(dims) - 2))
    x = x.astype(np.float32)
    model = _stft_model(dims)
    (want,) = _run(model, x=x)
    assert stft_as_conv(model) == 1
    assert [n.op_type for n in model.graph.node].count("STFT") == 0
    assert {"window", "step", "length"}.isdisjoint(i.name for i in model.graph.initializer)
    (got,) = _run(model, x=x)
    assert got.shape == want.shape == (1, 397, 11, 2)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_stft_as_conv_gives_pytorch_phase_at_dc_and_nyquist() -> None:
    """Those bins' imaginary parts are +0 (phase +π for a negative real part), not noise."""
    x = np.random.default_rng(1).standard_normal((1, 4000)).astype(np.float32)
    model = _stft_model([1, "n"])
    stft_as_conv(model)
    (got,) = _run(model, x=x)
    for k in (0, 10):
        imag = got[0, :, k, 1]
        assert np.all(imag > 0) and np.all(imag < 1e-20)
        assert np.all(np.arctan2(imag, got[0, :, k, 0])[got[0, :, k, 0] < 0] == np.float32(np.pi))


def _sin_square_model(extra_user: bool = False, square: str = "Mul") -> Any:
    nodes = [helper.make_node("Sin", ["x"], ["s"], name="sin"),
             helper.make_node("Mul", ["s", "s"], ["y"]) if square == "Mul"
             else helper.make_node("Pow", ["s", "two"], ["y"])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    if extra_user:
        nodes.append(helper.make_node("Neg", ["s"], ["z"]))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, None))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                      [None])], outputs,
                          [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-60, 60, width=32), min_size=1, max_size=64),
       st.sampled_from(["Mul", "Pow"]))
def test_squared_sin_polynomial_matches_sin_squared(values: list[float], square: str) -> None:
    x = np.array(values, np.float32)
    model = _sin_square_model(square=square)
    assert squared_sin_as_polynomial(model) == 1
    assert "Sin" not in {n.op_type for n in model.graph.node}
    (got,) = _run(model, x=x)
    np.testing.assert_allclose(got, np.sin(x.astype(np.float64)) ** 2, atol=2e-5)


def test_a_sine_used_unsquared_is_left_alone() -> None:
    model = _sin_square_model(extra_user=True)
    assert squared_sin_as_polynomial(model) == 0
    assert "Sin" in {n.op_type for n in model.graph.node}


def _vocoder_like(extra: str = "") -> Any:
    """A small graph with the vocoder's kinds of ops on (1, C, T) tensors: a style's
    (1, C, 1) scale, an instance norm made of ReduceMean, a 1-D transposed convolution,
    a reflection pad, a nearest upsampling, a concatenation and 1-D convolutions."""
    rng = np.random.default_rng(1)

    def w(name: str, *shape: int) -> Any:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("MatMul", ["style", "fc"], ["gamma2"]),
        helper.make_node("Unsqueeze", ["gamma2", "ax2"], ["gamma"]),  # (1, 4, 1)
        helper.make_node("ReduceMean", ["x", "ax2"], ["mean"], keepdims=1),
        helper.make_node("Sub", ["x", "mean"], ["centred"]),
        helper.make_node("Mul", ["centred", "gamma"], ["scaled"]),
        helper.make_node("LeakyRelu", ["scaled"], ["act"], alpha=0.2),
        helper.make_node("Conv", ["act", "w1", "b1"], ["c1"], kernel_shape=[3], pads=[1, 1]),
        helper.make_node("ConvTranspose", ["c1", "wt"], ["up"], kernel_shape=[4], strides=[2],
                         pads=[1, 1]),
        helper.make_node("Pad", ["up", "pads"], ["padded"], mode="reflect"),
        helper.make_node("Resize", ["src", "", "scales"], ["src2"], mode="nearest"),
        helper.make_node("Concat", ["padded", "src2"], ["both"], axis=1),
        helper.make_node("Conv", ["both", "w2"], ["y"], kernel_shape=[5], pads=[2, 2],
                         dilations=[1]),
    ]
    if extra:
        nodes.append(helper.make_node(extra, ["y"], ["z"]))
    for i, node in enumerate(nodes):
        node.name = f"n{i}"
    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, "t"]),
         helper.make_tensor_value_info("src", TensorProto.FLOAT, [1, 2, "t"]),
         helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("z" if extra else "y", TensorProto.FLOAT, None)],
        [w("fc", 3, 4), w("w1", 4, 4, 3), w("b1", 4), w("wt", 4, 3, 4), w("w2", 2, 5, 5),
         numpy_helper.from_array(np.array([2], np.int64), "ax2"),
         numpy_helper.from_array(np.array([0], np.int64), "zero"),
         numpy_helper.from_array(np.array([-1], np.int64), "end"),
         numpy_helper.from_array(np.array([0, 0, 2, 0, 0, 0], np.int64), "pads"),
         numpy_helper.from_array(np.array([1, 1, 2], np.float32), "scales")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    conv1d_as_2d(model)
    return model


def test_time_axis_in_4d_gives_the_same_output() -> None:
    rng = np.random.default_rng(2)
    feed = {"x": rng.standard_normal((1, 4, 9)).astype(np.float32),
            "src": rng.standard_normal((1, 2, 10)).astype(np.float32),
            "style": rng.standard_normal((1, 3)).astype(np.float32)}
    model = _vocoder_like()
    (want,) = _run(model, **feed)
    assert time_axis_in_4d(model) > 0
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Squeeze") == 1  # only the output's: the convolutions' are gone
    transposed = next(n for n in model.graph.node if n.op_type == "ConvTranspose")
    assert len(next(a for a in transposed.attribute if a.name == "kernel_shape").ints) == 2
    (got,) = _run(model, **feed)
    assert got.shape == want.shape == (1, 2, 20)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_time_axis_in_4d_leaves_a_graph_it_cannot_carry_untouched() -> None:
    model = _vocoder_like(extra="Slice")  # Slice has no 4-D form here
    model.graph.node[-1].input.extend(["zero", "end", "ax2"])
    before = model.SerializeToString()
    with pytest.raises(ValueError, match="no 4-D form for Slice"):
        time_axis_in_4d(model)
    assert model.SerializeToString() == before
