"""Kokoro's frontend, duration caps, graph rewrite, and the small pieces of Piper/espeak."""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest

from yomiage.tts.espeak import read_wav_bytes
from yomiage.tts.kokoro.frontend import KokoroFrontend, voice_language
from yomiage.tts.kokoro.onnx_voice import frame_caps
from yomiage.tts.piper.voice import phoneme_ids


@pytest.fixture(scope="module")
def frontend() -> KokoroFrontend:
    return KokoroFrontend.from_package()


def test_frontend_turns_japanese_into_model_inputs(frontend: KokoroFrontend) -> None:
    x = frontend.encode("こんにちは、世界。", "jf_alpha", speed=1.2)
    assert x.phonemes.endswith(".") and "," in x.phonemes
    assert x.tokens.dtype == np.int64 and x.tokens[0, 0] == 0 and x.tokens[0, -1] == 0
    assert x.tokens.shape[1] == len([c for c in x.phonemes if c in frontend.vocab]) + 2
    n = x.tokens.shape[1] - 2
    assert np.array_equal(x.style, frontend.voices["jf_alpha"][n - 1].reshape(1, 256))
    assert x.speed.tolist() == pytest.approx([1.2])
    assert frontend.voices_for_language() == sorted(frontend.voices)


def test_frontend_rejects_unknown_voices(frontend: KokoroFrontend) -> None:
    with pytest.raises(ValueError, match="jf_alpha"):
        frontend.style("af_nobody", 3)
    assert voice_language("jm_kumo") == "ja" and voice_language("af_heart") == "en"
    with pytest.raises(ValueError):
        voice_language("robot")


def test_frame_caps_shorten_only_the_phrase_end(frontend: KokoroFrontend) -> None:
    x = frontend.encode("了解しました。", "jf_alpha")
    caps = frame_caps(x.tokens, frontend.vocab, edge_frames=4, final_frames=12)
    assert caps[0, -2] == 4 and caps[0, -3] == 12  # "." and "a"
    # by default the leading pad and the final mark keep their lengths: capped, the first
    # mora came out too weak to hear
    assert caps[0, 0] >= 1e4
    default = frame_caps(x.tokens, frontend.vocab)
    assert default[0, 0] >= 1e4 and default[0, -2] >= 1e4 and default[0, -3] == 12
    assert np.all(caps[0, 1:-3] >= 1e4) and caps[0, -1] >= 1e4
    assert frame_caps(x.tokens, frontend.vocab, lead_frames=4)[0, 0] == 4
    y = frontend.encode("了解しました", "jf_alpha")  # no final punctuation
    assert frame_caps(y.tokens, frontend.vocab)[0, -2] < 1e4


def test_dequantized_graph_has_no_integer_ops(tmp_path) -> None:  # type: ignore[no-untyped-def]
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from yomiage.tts.kokoro.dequant import conv1d_as_2d, dequantize_graph

    # x → DynamicQuantizeLinear → MatMulInteger(W int8, per-column zp) → Cast → Mul(xs*ws)
    w = np.array([[10, -20], [30, 40]], np.int8)
    ws = np.array([0.5, 0.25], np.float32)
    g = helper.make_graph(
        [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
         helper.make_node("MatMulInteger", ["xq", "w", "xz", "wz"], ["yi"]),
         helper.make_node("Cast", ["yi"], ["yf"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["xs", "ws"], ["s"]),
         helper.make_node("Mul", ["yf", "s"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.zeros(2, np.int8), "wz"),
         numpy_helper.from_array(ws, "ws")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    assert dequantize_graph(model) == 1 and conv1d_as_2d(model) == 0
    assert [n.op_type for n in model.graph.node] == ["MatMul"]
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.array([[1.0, 2.0]], np.float32)
    assert np.allclose(sess.run(None, {"x": x})[0], x @ (w.astype(np.float32) * ws))
    onnx.checker.check_model(model)


def test_piper_ids_are_padded_and_framed() -> None:
    id_map = {"^": [1], "$": [2], "_": [0], "a": [5], "b": [6]}
    assert phoneme_ids("ab?", id_map) == [1, 0, 5, 0, 6, 0, 2]


def test_espeak_stream_header_is_read_without_sizes() -> None:
    pcm = (np.array([0, 16384, -16384], "<i2")).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
    data = b"RIFF\xff\xff\xff\x7fWAVEfmt " + struct.pack("<I", 16) + fmt + b"data\xff\xff\xff\x7f"
    assert read_wav_bytes(data + pcm, 22050).tolist() == [0.0, 0.5, -0.5]
    with pytest.raises(RuntimeError):
        read_wav_bytes(data + pcm, 16000)


def test_square_pows_become_multiplications() -> None:
    pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from yomiage.tts.kokoro.dequant import square_pows

    g = helper.make_graph(
        [helper.make_node("Pow", ["x", "two"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    assert square_pows(model) == 1 and model.graph.node[0].op_type == "Mul"
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.array([-1.5, 0.0, 3.0], np.float32)
    assert sess.run(None, {"x": x})[0].tolist() == (x * x).tolist()


@pytest.mark.slow
def test_hub_kokoro_layout_loads_through_the_model_manager(tmp_path, frontend) -> None:  # type: ignore[no-untyped-def]
    """The hub path (``kokoro-82m-onnx``: onnx/, voices/*.bin, tokenizer.json) with real
    weights: the shipped ONNX file, and the jf_alpha style table saved as ``af_heart.bin``
    (a stand-in: no hub voice is on this machine). English goes through espeak-ng IPA."""
    import json

    from yomiage.config import Config
    from yomiage.models.manager import INSTALLED_MARK
    from yomiage.tts.kokoro.frontend import package_model
    from yomiage.tts.registry import best_voice_name, load_voice

    folder = tmp_path / "models" / "kokoro-82m-onnx"
    (folder / "onnx").mkdir(parents=True)
    (folder / "voices").mkdir()
    (folder / "onnx" / "model_quantized.onnx").symlink_to(package_model())
    frontend.voices["jf_alpha"].astype("<f4").tofile(folder / "voices" / "af_heart.bin")
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"vocab": frontend.vocab}}))
    (folder / INSTALLED_MARK).write_text("{}")
    cfg = Config(cache_dir=str(tmp_path), offline=True)
    assert best_voice_name(cfg, "en") == "kokoro:af_heart"
    # by name: with auto, a first use would time the voices (tts/calibrate.py) and this
    # CPU's speed, not the layout, would decide
    voice = load_voice(replace(cfg, voice="kokoro:af_heart"), "en")
    assert voice.name == "kokoro:af_heart" and voice.language == "en"
    # the prepared float32 copy (duration caps, fast ops), as for the shipped Japanese model
    assert "max_frames" in voice.graph.input_names  # type: ignore[attr-defined]
    chunks = list(voice.stream("Hello, the tests passed."))
    audio = np.concatenate([c.samples for c in chunks])
    assert chunks and 0.8 < len(audio) / 24000 < 4.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.02
