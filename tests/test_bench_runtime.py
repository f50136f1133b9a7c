"""`yomiage bench` on the runtime install: no PyTorch, no Transformers (issue 20)."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import pytest

import yomiage.bench.pipeline as bp
from yomiage.bench.main import run_bench
from yomiage.bench.random_ct2 import build_marian_ct2, torch_available, torchless_model
from yomiage.bench.voice import bench_voice
from yomiage.config import Config

CORPUS = ["The tests pass now.", "We read the file and fix the parser.",
          "Run the build again, then check the logs.", "This change keeps the old format."] * 8


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torch and transformers unimportable, as on the README's main install (and
    forget the yomiage modules that already imported them, so that they import anew)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("yomiage.") and (getattr(module, "torch", None) is not None
                                            or getattr(module, "transformers", None) is not None):
            monkeypatch.delitem(sys.modules, name)
    for name in ("torch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)  # import → ModuleNotFoundError


def _args(**kw: object) -> argparse.Namespace:
    base = dict(stage="pipeline", json=True, plot=None, baseline=False, realtime=False,
                live=False, repeat=0, shape=None, input=None, engines=None)
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.usefixtures("no_torch")
def test_random_marian_builds_and_translates_without_torch(tmp_path: Path) -> None:
    from yomiage.translate.ct2.engine import CT2Translator
    from yomiage.translate.token_engine import DecodeOptions

    assert not torch_available()
    ct2 = build_marian_ct2("tiny-marian", CORPUS, tmp_path / "ct2", spm_vocab=60)
    assert (ct2 / "model.bin").is_file() and (ct2 / "source.spm").is_file()
    engine = CT2Translator(ct2, name="tiny", threads=1, pair=("en", "ja"),
                           options=DecodeOptions(forced_ratio=1.3))
    out = engine.translate("We read the file.", "en", "ja")
    assert isinstance(out, str)
    assert engine.describe()["engine"] == "ctranslate2"


def test_torchless_model_refuses_other_families_with_the_install_command(
        tmp_path: Path) -> None:
    with pytest.raises(ImportError, match=r"yomiage\[convert\]"):
        torchless_model("nllb-600m", tmp_path)


@pytest.mark.usefixtures("no_torch")
def test_pipeline_bench_uses_the_torchless_model(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    built: list[str] = []

    def fake_build(shape: object, text: object, out: Path, **kw: object) -> Path:
        built.append(str(out))
        out.mkdir(parents=True)
        (out / "model.bin").write_bytes(b"")
        return out

    monkeypatch.setattr("yomiage.bench.random_ct2.build_marian_ct2", fake_build)
    hf, ct2 = bp.random_model("marian", str(tmp_path))
    assert hf is None and ct2 == tmp_path / "bench-models" / "marian-direct" / "ct2"
    assert bp.random_model("marian", str(tmp_path)) == (None, ct2)  # built once
    assert len(built) == 1


@pytest.mark.usefixtures("no_torch")
def test_translate_bench_without_torch_says_what_to_install(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    with caplog.at_level(logging.ERROR):
        rc = run_bench(_args(stage="translate", openvino=False, baseline_n=1,
                             vmap_sizes="", baseline_threads=0),
                       Config(cache_dir=str(tmp_path)))
    assert rc == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "pip install 'yomiage[convert,bench]'" in errors[0]
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.usefixtures("no_torch")
def test_voice_bench_runs_without_torch_and_shows_progress() -> None:
    lines: list[str] = []
    res = bench_voice(["espeak", "kokoro-cpu"], n=2, cfg=Config(), progress=lines.append)
    assert res["engines"]["espeak"]["sentences"] == 2
    assert "PyTorch" in res["errors"]["kokoro-cpu"]  # one clear line, the others run
    assert any("sentence 2/2" in ln and "espeak" in ln for ln in lines)
