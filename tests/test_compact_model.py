"""The compact en→ja model shipped in the package: found offline, chosen by ``auto`` until
FuguMT is installed, and its translation quality held by each CPU engine.

The quality check scores 48 fixed sentences of the model's own test split
(tests/golden/compact_en_ja.tsv, from python-docs-ja; docs/training.md) with sacrebleu's
chrF. EXPECTED_CHRF was measured with each engine when the model was shipped; a change to
an engine, the tokenizer, the guard or the model that moves it by more than TOLERANCE
fails here, and must come with its own measurement (training/evaluate.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yomiage.config import Config
from yomiage.models.manager import INSTALLED_MARK, resolve
from yomiage.translate import describe, load_translator, model_name
from yomiage.translate.catalog import bundled_model, translation_specs

GOLDEN = Path(__file__).parent / "golden" / "compact_en_ja.tsv"
# chrF on GOLDEN, measured 2026-12-01 (training/evaluate.py's scoring, greedy, 1 thread).
EXPECTED_CHRF = {"ctranslate2": 46.59, "openvino": 46.89}
TOLERANCE = 1.0


def _cfg(tmp_path: Path, **kw: object) -> Config:
    return Config(cache_dir=str(tmp_path / "cache"), offline=True, threads=1,  # type: ignore[arg-type]
                  **kw)


def _golden() -> tuple[list[str], list[str]]:
    pairs = [line.split("\t") for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    return [en for en, _ in pairs], [ja for _, ja in pairs]


def test_bundled_model_resolves_offline(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert bundled_model("en", "ja") == "compact-en-ja"
    assert bundled_model("en", "fr") is None
    path = resolve("compact-en-ja", cfg, download=False)
    assert (path / "model.bin").is_file() and (path / "source.spm").is_file()
    assert (path / "model.bin").stat().st_size < 25 * 1024 * 1024


def test_auto_prefers_installed_fugumt(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    assert model_name(cfg) == "compact-en-ja"
    fugu = Path(cfg.cache_dir) / "models" / "fugumt-en-ja"
    fugu.mkdir(parents=True)
    for name in ("model.bin", "source.spm", "target.spm", "shared_vocabulary.json"):
        (fugu / name).write_bytes(b"")
    (fugu / INSTALLED_MARK).write_text(json.dumps({"name": "fugumt-en-ja"}))
    assert model_name(cfg) == "fugumt-en-ja"
    assert model_name(_cfg(tmp_path, translation_model="compact-en-ja")) == "compact-en-ja"
    assert model_name(_cfg(tmp_path, target_lang="fr")) == "opus-mt-en-fr"
    assert translation_specs()["compact-en-ja"].languages == ("en", "ja")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["ctranslate2", "openvino"])
def test_shipped_model_quality(tmp_path: Path, engine: str) -> None:
    sacrebleu = pytest.importorskip("sacrebleu")
    if engine == "openvino":
        pytest.importorskip("openvino")
    tr = load_translator(_cfg(tmp_path, translator=engine), warmup=False)
    info = describe(tr)
    assert info["engine"] == engine and info["model"] == "compact-en-ja"
    assert not info.get("vmap")  # this model is decoded over its whole vocabulary
    sources, references = _golden()
    hyps = [tr.translate(s, "en", "ja") for s in sources]
    score = sacrebleu.corpus_chrf(hyps, [references]).score
    assert abs(score - EXPECTED_CHRF[engine]) <= TOLERANCE, (engine, round(score, 2))


def test_shipped_model_translates_and_keeps_code(tmp_path: Path) -> None:
    tr = load_translator(_cfg(tmp_path, translator="ctranslate2"), warmup=False)
    out = tr.translate("Return the absolute value of a number.", "en", "ja")
    assert "絶対値" in out
    out = tr.translate("The function reads config.toml and raises ValueError.", "en", "ja")
    assert "config.toml" in out and "ValueError" in out


def test_models_command_lists_and_locates_the_shipped_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from yomiage.commands.models import run_models_command
    from yomiage.models.manager import fetch

    cfg = _cfg(tmp_path)
    assert run_models_command("path", "compact-en-ja", cfg) == 0
    where = capsys.readouterr().out.strip()
    assert Path(where) == resolve("compact-en-ja", cfg)
    assert fetch(translation_specs()["compact-en-ja"], cfg, force=True) == Path(where)
    assert run_models_command("list", None, cfg) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "compact-en-ja" in line)
    assert "yes" in row
