"""The OpenVINO CPU engine on tiny random-weight models of the three families: the same
tokens as CTranslate2 (float32) from the same model.bin, its own reader of that file, and
how translator=auto/openvino picks it."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from yomiage.config import Config
from yomiage.translate import describe, load_translator
from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.ct2.weights import Ct2Weights, ModelFormatError, quantize_rows
from yomiage.translate.openvino.engine import OVTranslator
from yomiage.translate.token_engine import DecodeOptions

pytest.importorskip("openvino")
pytestmark = pytest.mark.slow

Models = dict[str, tuple[Path, Path]]

SENTENCES = [
    "The tests pass now, and the build takes two minutes less.",
    "I'll read the configuration loader first.",
    "Let me check why the CI runner fails on macOS and Linux with the new cache key.",
    "ok",
]


def _pair(ct2: Path, options: DecodeOptions) -> tuple[CT2Translator, OVTranslator]:
    reference = CT2Translator(ct2, device="cpu", compute_type="float32", threads=1,
                              options=options)
    engine = OVTranslator(ct2, threads=1, options=options, activation_group=0)
    return reference, engine


@pytest.mark.parametrize("family", ["marian", "m2m", "nllb"])
@pytest.mark.parametrize("options", [
    DecodeOptions(use_vmap=False),
    DecodeOptions(use_vmap=False, max_ratio=0.5, max_extra=1),
    DecodeOptions(use_vmap=False, forced_ratio=1.3),
], ids=["greedy", "short-limit", "forced-length"])
def test_same_tokens_as_ctranslate2(tiny_models: Models, family: str,
                                    options: DecodeOptions) -> None:
    """Products in float32 (activation_group=0) over the same int8 weights: every token
    equal to CTranslate2's float32 greedy search, limits and forced lengths included."""
    reference, engine = _pair(tiny_models[family][1], options)
    for text in SENTENCES:
        want = reference.generate([text], "en", "ja")[0]
        assert engine.generate([text], "en", "ja")[0] == want
        assert engine.translate(text, "en", "ja") == reference.translate(text, "en", "ja")


def test_opus_mt_settings_match_ctranslate2(tmp_path: Path, tiny_models: Models) -> None:
    """Real OPUS-MT checkpoints use swish and scaled embeddings (the tiny Marian has GELU
    and no scale): the same model with those settings still gives CTranslate2's tokens."""
    import shutil

    from transformers import MarianMTModel

    from yomiage.translate.convert import convert_checkpoint

    hf = tmp_path / "hf"
    shutil.copytree(tiny_models["marian"][0], hf)
    model = MarianMTModel.from_pretrained(str(hf))
    model.config.activation_function = "swish"
    model.config.scale_embedding = True
    model.save_pretrained(str(hf))
    ct2 = convert_checkpoint(hf, tmp_path / "ct2")
    weights = Ct2Weights(ct2 / "model.bin")
    assert weights.scalar("decoder/activation") == 2  # SWISH
    assert weights.scalar("encoder/scale_embeddings") == pytest.approx(32 ** 0.5)
    reference, engine = _pair(ct2, DecodeOptions(use_vmap=False))
    for text in SENTENCES:
        assert engine.generate([text], "en", "ja")[0] == reference.generate([text], "en", "ja")[0]


def test_restricted_vocabulary_matches_ctranslate2_vmap(tiny_models: Models) -> None:
    """With the vocabulary map and no copied source tokens, the same tokens as
    CTranslate2 reading the same vmap.txt."""
    ct2 = tiny_models["nllb"][1]
    options = DecodeOptions()
    reference = CT2Translator(ct2, device="cpu", compute_type="float32", threads=1,
                              options=options, vmap_target="ja")
    engine = OVTranslator(ct2, threads=1, options=options, activation_group=0, extra_slots=0)
    allowed = {engine.target_vocab[i] for i in engine.output_ids("ja").tolist()}
    assert 0 < len(allowed) < engine.arch.vocab_rows
    for text in SENTENCES:
        out = engine.generate([text], "en", "ja")[0]
        assert out == reference.generate([text], "en", "ja")[0]
        assert set(out) <= allowed


def test_copied_source_tokens_extend_the_map(tiny_models: Models) -> None:
    """Source tokens outside the map become scoreable for that sentence only."""
    ct2 = tiny_models["nllb"][1]
    engine = OVTranslator(ct2, threads=1, activation_group=0)
    _, id_map = engine._step("ja")
    source = engine.tokenizer.encode("Let me check the CI runner.", "en", "ja")
    rows, bias, ids = engine._extra(engine._target_ids(source), id_map, restricted=True)
    assert len(ids) and not set(ids.tolist()) & set(id_map.tolist())
    assert {engine.target_vocab[i] for i in ids.tolist()} <= set(source)
    assert rows.shape == (len(ids), engine.arch.d_model) and np.all(bias == 0)
    _, never, _ = engine._extra([], id_map, restricted=True)
    assert np.all(np.isneginf(never))  # the placeholder row can never win
    allowed = set(id_map.tolist()) | set(ids.tolist())
    for text in SENTENCES:
        out = engine.generate([text], "en", "ja")[0]
        assert {engine._target_index[t] for t in out} <= allowed | {engine._target_index[t]
                                                                    for t in source}


def test_streamed_pieces_join_to_the_whole(tiny_models: Models) -> None:
    engine = OVTranslator(tiny_models["nllb"][1], threads=1)
    for text in SENTENCES:
        assert "".join(engine.translate_stream(text, "en", "ja")) == \
            engine.translate(text, "en", "ja")


def test_a_stream_closed_early_leaves_the_engine_ready(tiny_models: Models) -> None:
    """The pipeline drops a sentence's stream when it skips it: the next sentence must get
    the engine (lock released, cache reset) and the same result as in a fresh engine."""
    ct2 = tiny_models["nllb"][1]
    engine = OVTranslator(ct2, threads=1, activation_group=0)
    stream = engine.stream_tokens(SENTENCES[2], "en", "ja")
    assert next(stream)
    stream.close()
    fresh = OVTranslator(ct2, threads=1, activation_group=0)
    assert engine.generate([SENTENCES[0]], "en", "ja") == fresh.generate([SENTENCES[0]], "en", "ja")


def test_default_quantized_activations_stay_close(tiny_models: Models) -> None:
    """The shipped setting (int8 activations in groups) follows the float32 search for
    its first tokens on most sentences (random weights have tiny score margins)."""
    ct2 = tiny_models["m2m"][1]
    exact = OVTranslator(ct2, threads=1, activation_group=0)
    fast = OVTranslator(ct2, threads=1)
    agree = sum(fast.generate([t], "en", "ja")[0][:3] == exact.generate([t], "en", "ja")[0][:3]
                for t in SENTENCES)
    assert agree >= len(SENTENCES) - 1


def test_reader_matches_the_checkpoint(tiny_models: Models) -> None:
    """Weights read from model.bin equal the Transformers checkpoint's within int8
    rounding; a tied projection takes the embeddings' scales."""
    from transformers import AutoModelForSeq2SeqLM

    hf, ct2 = tiny_models["nllb"]
    weights = Ct2Weights(ct2 / "model.bin")
    state = AutoModelForSeq2SeqLM.from_pretrained(str(hf)).state_dict()
    for ours, theirs in (("decoder/layer_0/ffn/linear_0", "model.decoder.layers.0.fc1.weight"),
                         ("encoder/layer_1/ffn/linear_1", "model.encoder.layers.1.fc2.weight")):
        want = state[theirs].numpy()
        tolerance = np.abs(want).max(axis=1, keepdims=True) / 127
        assert np.all(np.abs(weights.float_weight(ours) - want) <= tolerance + 1e-7)
    rows, mult = weights.int8_rows("decoder/projection")
    emb_rows, emb_mult = weights.int8_rows("decoder/embeddings")
    assert np.array_equal(rows, emb_rows) and np.array_equal(mult, emb_mult)
    assert weights.scalar("decoder/num_heads") == 2
    assert weights.scalar("decoder/no_such_flag", 7.0) == 7.0


def test_overlong_source_is_cut_not_fatal(tiny_models: Models,
                                         caplog: pytest.LogCaptureFixture) -> None:
    engine = OVTranslator(tiny_models["m2m"][1], threads=1)
    positions = len(engine._source_embed.positions)
    text = " ".join(["configuration"] * (positions + 40))
    with caplog.at_level("WARNING"):
        out = engine.generate([text], "en", "ja")[0]
    assert 0 < len(out) <= len(engine._target_embed.positions)
    assert any("cut to the model's" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("quantization", ["float16", "bfloat16", "float32"])
def test_float_checkpoints_are_read_and_quantized_here(tmp_path: Path,
                                                       quantization: str) -> None:
    """Models converted without int8 (hub conversions are often float16) load: the
    reader decodes the stored type and quantizes rows itself."""
    from transformers import AutoModelForSeq2SeqLM

    from tiny_models import build_tiny
    from yomiage.translate.convert import convert_checkpoint

    hf, _ = build_tiny("nllb", tmp_path / "nllb")
    ct2 = convert_checkpoint(hf, tmp_path / quantization, quantization)
    weights = Ct2Weights(ct2 / "model.bin")
    want = AutoModelForSeq2SeqLM.from_pretrained(str(hf)).state_dict()[
        "model.decoder.layers.0.fc1.weight"].numpy()
    assert weights.variables["decoder/layer_0/ffn/linear_0/weight"].dtype == quantization
    got = weights.array("decoder/layer_0/ffn/linear_0/weight").astype(np.float32)
    assert got.shape == want.shape
    tolerance = {"float16": 1e-3, "bfloat16": 8e-3, "float32": 0.0}[quantization]
    assert np.allclose(got, want, rtol=tolerance, atol=1e-6)
    engine = OVTranslator(ct2, threads=1)
    assert engine.translate("The tests pass now.", "en", "ja").strip()


def test_quantize_rows_round_trip() -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(16, 40)).astype(np.float32)
    weight[3] = 0.0
    rows, mult = quantize_rows(weight)
    assert rows.dtype == np.int8 and mult.shape == (16, 1)
    error = np.abs(rows * mult - weight)
    assert np.all(error <= np.abs(weight).max(axis=1, keepdims=True) / 254 + 1e-7)
    assert np.all(rows[3] == 0)


def test_reader_refuses_what_it_cannot_read(tmp_path: Path, tiny_models: Models) -> None:
    old = tmp_path / "old.bin"
    old.write_bytes(struct.pack("I", 3) + b"\0" * 16)
    with pytest.raises(ModelFormatError, match="format 3"):
        Ct2Weights(old)
    cut = tmp_path / "cut.bin"
    cut.write_bytes((tiny_models["marian"][1] / "model.bin").read_bytes()[:200])
    with pytest.raises(ModelFormatError, match="truncated"):
        Ct2Weights(cut)


def _cfg(tmp_path: Path, ct2: Path, **kw: object) -> Config:
    return Config(cache_dir=str(tmp_path / "cache"), offline=True,  # type: ignore[arg-type]
                  translation_model=str(ct2), device="cpu", **kw)


@pytest.mark.parametrize(("settings", "engine"), [
    ({"translator": "openvino"}, "openvino"),
    ({"translator": "auto", "threads": 2}, "openvino"),
    ({"translator": "auto", "threads": 1}, "ctranslate2"),
    ({"translator": "auto", "threads": 2, "beam_size": 2}, "ctranslate2"),
    ({"translator": "ctranslate2", "threads": 2}, "ctranslate2"),
])
def test_engine_choice(tmp_path: Path, tiny_models: Models, settings: dict[str, object],
                       engine: str) -> None:
    translator = load_translator(_cfg(tmp_path, tiny_models["m2m"][1], **settings))
    assert describe(translator)["engine"] == engine
    assert translator.translate("The tests pass now.", "en", "ja").strip()
