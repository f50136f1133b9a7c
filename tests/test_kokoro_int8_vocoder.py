"""The int8 vocoder: calibration, the Q/DQ rewrite on a small graph, and the real Kokoro."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from yomiage.tts.kokoro import int8_vocoder
from yomiage.tts.kokoro.int8_vocoder import calibrate, ensure_int8, int8_path, quantize

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

GEN = "/decoder/decoder/generator/"


def _graph(channels: int = 8) -> Any:
    """x → Conv → Relu → Conv (a residual block's two, made int8) → Conv (conv_post, kept)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((channels, channels, 1, 3)) * 0.3).astype(np.float32)
    w1[0] *= 20  # one loud output channel: per-channel weight scales must keep the rest
    w2 = (rng.standard_normal((channels, channels, 1, 3)) * 0.3).astype(np.float32)
    w3 = (rng.standard_normal((2, channels, 1, 3)) * 0.3).astype(np.float32)
    pads = [0, 1, 0, 1]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"], name=GEN + "resblocks.0/convs1.0/Conv",
                         pads=pads),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Conv", ["r", "w2"], ["h2"], name=GEN + "resblocks.0/convs2.0/Conv",
                         pads=pads),
        helper.make_node("Conv", ["h2", "w3"], ["y"], name=GEN + "conv_post/Conv", pads=pads),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                   [1, channels, 1, "t"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 1, "t"])],
        [numpy_helper.from_array(w, n) for n, w in (("w1", w1), ("w2", w2), ("w3", w3))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _feeds(n: int, seed: int = 1) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal((1, 8, 1, 200)).astype(np.float32)} for _ in range(n)]


def _run(model: Any, feed: dict[str, np.ndarray], output: str = "y") -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run([output], feed)[0])


def test_calibration_takes_the_percentile_of_each_input_over_every_phrase() -> None:
    feeds = _feeds(3)
    ranges = calibrate(_graph(), feeds)
    assert set(ranges) == {"x", "r"}  # conv_post's input is not calibrated: it stays float
    p = int8_vocoder.PERCENTILE

    def expected(values: list[np.ndarray]) -> float:
        return max(max(-np.percentile(v, 100 - p), np.percentile(v, p)) for v in values)

    hidden = _graph()
    hidden.graph.output.append(onnx.helper.make_tensor_value_info(
        "r", onnx.TensorProto.FLOAT, None))
    assert ranges["x"] == pytest.approx(expected([f["x"] for f in feeds]), rel=1e-6)
    assert ranges["r"] == pytest.approx(expected([_run(hidden, f, "r") for f in feeds]),
                                        rel=1e-6)  # an input from inside the graph


def test_only_the_residual_convolutions_become_int8_and_compute_nearly_the_same() -> None:
    model = _graph()
    feed = _feeds(1, seed=7)[0]
    want = _run(model, feed)
    assert quantize(model, calibrate(model, _feeds(4))) == 2
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") == 2 and ops.count("DequantizeLinear") == 4
    inits = {i.name: i for i in model.graph.initializer}
    assert "w1" not in inits and "w2" not in inits  # the int8 convs' float weights are gone
    assert "w3" in inits  # conv_post keeps its own
    assert inits["w1/int8"].data_type == onnx.TensorProto.INT8
    scales = onnx.numpy_helper.to_array(inits["w1/int8_scale"])
    assert scales.shape == (8,) and scales[0] > 10 * np.median(scales[1:])  # per channel
    got = _run(model, feed)
    err = np.sqrt(np.mean((got - want) ** 2)) / np.sqrt(np.mean(want**2))
    assert 0 < err < 0.06  # two int8 layers of rounding, not a different computation


def test_the_int8_copy_is_built_once_and_named_after_its_source(tmp_path: Path) -> None:
    src = tmp_path / "kokoro.fp32-abc.vocoder-def.onnx"
    onnx.save(_graph(), str(src))
    calls = 0

    def feeds() -> Any:
        nonlocal calls
        calls += 1
        yield from _feeds(2)

    out = ensure_int8(src, feeds())
    assert out == int8_path(src) and int8_vocoder.MARK in out.name and out.parent == tmp_path
    stamp = out.stat().st_mtime_ns
    assert ensure_int8(src, feeds()) == out and out.stat().st_mtime_ns == stamp
    assert calls == 1  # the second call read the file and no calibration phrase
    assert src.is_file()  # the bfloat16 vocoder stays (cpu_int8 = false uses it)


def test_a_graph_without_residual_convolutions_is_refused(tmp_path: Path) -> None:
    model = _graph()
    for node in model.graph.node:
        node.name = node.name.replace("resblocks", "other")
    src = tmp_path / "v.onnx"
    onnx.save(model, str(src))
    with pytest.raises(ValueError, match="no convolutions"):
        ensure_int8(src, iter(()))
    assert not int8_path(src).exists()


@pytest.mark.slow
def test_the_real_int8_vocoder_sounds_like_float32() -> None:
    from yomiage.config import Config
    from yomiage.tts.audio_compare import loud_log_mel_distance
    from yomiage.tts.kokoro import split as kokoro_split
    from yomiage.tts.kokoro.onnx_voice import WholeGraph, frame_caps, load_kokoro

    if not kokoro_split.bf16_cpu():
        pytest.skip("no OpenVINO or no bfloat16 units on this CPU")
    cfg = Config()  # the user's cache, as the e2e tests: the copies are built once a suite
    voice = load_kokoro(cfg, "ja")
    assert isinstance(voice.graph, kokoro_split.SplitGraph)
    assert int8_vocoder.MARK in voice.graph.vocoder_file.name
    whole = WholeGraph(voice.model_path)
    for text in ("設定ファイルを読み込んで、", "テストはすべて成功しました。"):
        x = voice.frontend.encode(text, "jf_alpha")
        feed = {"tokens": x.tokens, "style": x.style, "speed": x.speed,
                "max_frames": frame_caps(x.tokens, voice.frontend.vocab)}
        a, b = whole.run(feed).ravel(), voice.graph.run(feed).ravel()
        assert a.size == b.size
        # 8 first phrases, mean over loud frames: bfloat16 0.87 dB, with the int8
        # residual convolutions 1.32 (these two: see docs/voices.md)
        assert loud_log_mel_distance(a, b) < 2.0
        assert float(np.sqrt(np.mean(b**2))) > 0.02
    for off in (load_kokoro(cfg, "ja", precision="bf16"),
                load_kokoro(Config(cpu_int8=False), "ja")):
        assert isinstance(off.graph, kokoro_split.SplitGraph)
        assert int8_vocoder.MARK not in str(off.graph.vocoder_file)
