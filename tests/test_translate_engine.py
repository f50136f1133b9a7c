"""The CTranslate2 engine on tiny random-weight models of the three families, loaded
through the model manager like a user's model."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from yomiage.config import Config
from yomiage.models.manager import INSTALLED_MARK, resolve
from yomiage.models.spec import ModelNotAvailable
from yomiage.translate import describe, load_translator, model_name
from yomiage.translate.ct2.engine import CT2Translator
from yomiage.translate.guard import GuardedTranslator
from yomiage.translate.token_engine import DecodeOptions
from yomiage.translate.tokenizer import SpmTokenizer, detect_family

pytestmark = pytest.mark.slow

Models = dict[str, tuple[Path, Path]]


def _cfg(tmp_path: Path, **kw: object) -> Config:
    return Config(cache_dir=str(tmp_path / "cache"), offline=True, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("family", ["marian", "m2m", "nllb"])
def test_family_detection_and_tokens(tiny_models: Models, family: str) -> None:
    ct2 = tiny_models[family][1]
    assert detect_family(ct2) == family
    tok = SpmTokenizer.load(ct2)
    tokens = tok.encode("The tests pass now.", "en", "ja")
    assert tokens[-1] == "</s>"
    if family == "nllb":
        assert tokens[0] == "eng_Latn" and tok.target_prefix("ja") == ["jpn_Jpan"]
    elif family == "m2m":
        assert tokens[0] == "__en__" and tok.target_prefix("ja") == ["__ja__"]
    else:
        assert tok.target_prefix("ja") is None
    pieces = tok.target.encode("The tests", out_type=str)  # whatever its vocabulary holds
    assert tok.decode([*(tok.target_prefix("ja") or []), *pieces, "</s>"]) == "The tests"


@pytest.mark.parametrize("family", ["marian", "m2m", "nllb"])
def test_local_dir_translates_within_length_limit(tmp_path: Path, tiny_models: Models,
                                                   family: str) -> None:
    ct2 = tiny_models[family][1]
    cfg = _cfg(tmp_path, translation_model=str(ct2))
    tr = load_translator(cfg)
    out = tr.translate("Let me check the configuration loader.", "en", "ja")
    assert isinstance(out, str) and out.strip()
    info = describe(tr)
    assert info["engine"] == "ctranslate2" and info["device"] == "cpu"
    assert info["compute_type"] in {"int8", "int8_float32"}
    engine = CT2Translator(ct2, options=DecodeOptions(max_ratio=1.0, max_extra=2))
    n_in = len(engine.tokenizer.encode("Let me check the loader.", "en", "ja"))
    produced = engine.generate(["Let me check the loader."], "en", "ja")[0]
    assert len(produced) <= math.ceil(n_in * 1.0) + 2 + 1


def test_batch_equals_single_and_forced_length(tiny_models: Models) -> None:
    ct2 = tiny_models["nllb"][1]
    engine = CT2Translator(ct2, options=DecodeOptions(forced_ratio=1.5))
    texts = ["The build passes.", "Let me read the parser first, then the tests."]
    batch = engine.translate_batch(texts, "en", "ja")  # per-text limits, even in a batch
    assert batch == [engine.translate(t, "en", "ja") for t in texts]
    for text in texts:
        n_in = len(engine.tokenizer.encode(text, "en", "ja"))
        out = engine.generate([text], "en", "ja")[0]
        assert len(out) == 1 + round(n_in * 1.5)  # language token + forced length


def test_guard_passthrough_and_verbatim_spans(tiny_models: Models) -> None:
    engine = CT2Translator(tiny_models["m2m"][1])
    tr = GuardedTranslator(engine)
    assert tr.translate("テストはすべて通りました。", "en", "ja") == "テストはすべて通りました。"
    assert tr.translate("src/main.rs: 120 ms", "en", "ja") == "src/main.rs: 120 ms"
    out = tr.translate("Open src/main.rs and wait 120 ms for numpy 2.4.6.", "en", "ja")
    for span in ("src/main.rs", "120 ms", "2.4.6"):
        assert span in out
    assert tr.skipped == 2


def _install(ct2: Path, cfg: Config, name: str) -> Path:
    dest = Path(cfg.cache_dir) / "models" / name
    shutil.copytree(ct2, dest)
    (dest / INSTALLED_MARK).write_text(json.dumps({"name": name}))
    return dest


def test_default_pair_model_from_cache(tmp_path: Path, tiny_models: Models) -> None:
    cfg = _cfg(tmp_path)  # en→ja, model auto → fugumt-en-ja once installed
    assert model_name(cfg) == "compact-en-ja"  # shipped in the package until then
    with pytest.raises(ModelNotAvailable, match="yomiage models fetch fugumt-en-ja"):
        load_translator(replace(cfg, translation_model="fugumt-en-ja"))
    dest = _install(tiny_models["marian"][1], cfg, "fugumt-en-ja")
    assert resolve("fugumt-en-ja", cfg) == dest
    tr = load_translator(cfg)
    assert describe(tr)["model"] == "fugumt-en-ja"
    first = tr.translate("The parser is slow.", "en", "ja")
    assert tr.translate("The parser is slow.", "en", "ja") == first
    assert describe(tr)["cache_hits"] == 1


@pytest.mark.parametrize("family", ["marian", "nllb"])
def test_vmap_restricts_output(tmp_path: Path, tiny_models: Models, family: str) -> None:
    model = tmp_path / family
    shutil.copytree(tiny_models[family][1], model)
    engine = CT2Translator(model, vmap_target="ja")
    assert engine.vmap_target == "ja" and (model / "vmap.txt").is_file()
    (line,) = (model / "vmap.txt").read_text(encoding="utf-8").splitlines()
    allowed = set(line.split("\t")[1].split(" "))
    assert "▁the" not in allowed
    assert family == "marian" or "jpn_Jpan" in allowed
    # Longer then shorter inputs: the candidate set must not vary between calls.
    for text in ("The tests pass now, and the build takes two minutes less.",
                 "Let me check the configuration loader.", "OK."):
        for tokens in engine.generate([text], "en", "ja"):
            assert set(tokens) <= allowed
    # A different target makes a different map.
    CT2Translator(model, vmap_target="ru")
    assert (model / "vmap.lang").read_text().split()[0] == "ru"


def test_none_engine(tmp_path: Path) -> None:
    tr = load_translator(_cfg(tmp_path, translator="none"))
    assert tr.translate("Hello.", "en", "ja") == "Hello."
    assert describe(tr)["engine"] == "none"


def test_gpu_failure_falls_back_to_cpu(tmp_path: Path, tiny_models: Models,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """CTranslate2 claims a GPU but cannot run on it (as with CUDA 13 and no cuBLAS 12)."""
    import ctranslate2

    from yomiage.translate.ct2 import engine as ct2_engine

    real_types = ctranslate2.get_supported_compute_types
    monkeypatch.setattr(ct2_engine.ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(
        ct2_engine.ctranslate2, "get_supported_compute_types",
        lambda device: {"float16", "int8_float16"} if device == "cuda" else real_types(device))
    with pytest.raises(ct2_engine.GpuUnavailable):
        CT2Translator(tiny_models["nllb"][1], device="cuda", cpu_fallback=False)
    engine = CT2Translator(tiny_models["nllb"][1], device="auto")
    assert (engine.device, engine.compute_type) == ("cpu", "int8")
    cfg = _cfg(tmp_path, translation_model=str(tiny_models["nllb"][1]), device="cuda")
    monkeypatch.setattr("yomiage.translate.loader._gpu_present", lambda: False)
    assert describe(load_translator(cfg))["device"] == "cpu"


def test_gpu_without_a_torch_checkpoint_falls_back_to_ctranslate2(
    tiny_models: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model folder with only the CTranslate2 conversion must not break a GPU machine."""
    import torch

    import yomiage.translate.loader as translate
    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.loader import load_engine

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(translate, "_gpu_present", lambda: True)
    cfg = Config(device="auto", translator="auto")
    engine = load_engine(tiny_models["marian"][1], None, cfg)
    assert isinstance(engine, CT2Translator)


def test_streamed_tokens_are_ctranslate2s_and_wait_for_a_first_sound(
        tiny_models: Models) -> None:
    import threading

    import ctranslate2

    from yomiage.cpu_share import first_sound
    from yomiage.translate.ct2.engine import greedy_tokens

    model = ctranslate2.Translator(str(tiny_models["marian"][1]), device="cpu")
    engine = CT2Translator(tiny_models["marian"][1], options=DecodeOptions(forced_ratio=2.0))
    source = engine.tokenizer.encode("The tests pass now.", "en", "ja")
    limits = {"min_decoding_length": 10, "max_decoding_length": 10}
    ours = list(greedy_tokens(model, source, None, **limits))
    theirs = [s.token for s in model.generate_tokens(source, **limits)]
    assert ours == theirs and len(ours) >= 10
    # while a voice makes a first sound, the decoder holds after its current step
    got: list[str] = []
    with first_sound():
        reader = threading.Thread(target=lambda: got.extend(greedy_tokens(
            model, source, None, **limits)))
        reader.start()
        reader.join(0.3)
        assert len(got) <= 1 and reader.is_alive()
    reader.join(5)
    assert got == theirs
    # closing the stream early stops the decoder
    stream = greedy_tokens(model, source, None, **limits)
    assert next(stream) == theirs[0]
    stream.close()
