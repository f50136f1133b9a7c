"""The model manager: resolve order, atomic verified installs, offline errors, the CLI.

The hub is replaced by a local stand-in (``models.DOWNLOAD``): these are tests of the
code around the download, which itself needs a network.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from yomiage.commands.models import run_models_command
from yomiage.config import Config
from yomiage.models import manager as models
from yomiage.models.manager import fetch, installed_dir, resolve
from yomiage.models.spec import DownloadError, FileMeta, ModelNotAvailable, ModelSpec
from yomiage.translate.catalog import default_model, licence_warning, translation_specs

SPEC = ModelSpec(name="toy", kind="voice", repo="someone/toy", files=("*.onnx", "*.json"),
                 format="onnx", licence="MIT", size_mb=1, languages=("en",),
                 required=("voice.onnx",))


def _cfg(tmp_path: Path, offline: bool = False) -> Config:
    return Config(cache_dir=str(tmp_path / "cache"), offline=offline)


@pytest.fixture()
def toy_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models.catalog
    monkeypatch.setattr(models, "catalog", lambda: {**real(), "toy": SPEC})


class FakeHub:
    """Writes files into the staging folder and announces their sizes and digests."""

    def __init__(self, files: dict[str, bytes], corrupt: str | None = None) -> None:
        self.files = files
        self.corrupt = corrupt
        self.calls: list[Path] = []
        self.present_before: list[set[str]] = []

    def __call__(self, spec: ModelSpec, dest: Path) -> dict[str, FileMeta]:
        self.calls.append(dest)
        self.present_before.append({p.name for p in dest.iterdir()})
        for name, data in self.files.items():
            if not (dest / name).exists():
                (dest / name).write_bytes(b"X" + data[1:] if name == self.corrupt else data)
        return {name: FileMeta(len(data), hashlib.sha256(data).hexdigest())
                for name, data in self.files.items()}


def test_local_directory_wins(tmp_path: Path) -> None:
    local = tmp_path / "my-model"
    local.mkdir()
    assert resolve(str(local), _cfg(tmp_path, offline=True)) == local


def test_unknown_name_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown model 'nope'; known models: .*fugumt-en-ja"):
        resolve("nope", _cfg(tmp_path))


def test_offline_error_names_the_fetch_command(tmp_path: Path, toy_catalog: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotAvailable) as info:
        resolve("toy", _cfg(tmp_path, offline=True))
    assert info.value.fetch_command == "yomiage models fetch toy"
    assert "yomiage models fetch toy" in str(info.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailable, match=r"offline"):
        resolve("toy", _cfg(tmp_path))


def test_download_installs_atomically_then_cache_is_used(tmp_path: Path, toy_catalog: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    hub = FakeHub({"voice.onnx": b"onnx-bytes" * 10, "voice.json": b"{}"})
    monkeypatch.setattr(models, "DOWNLOAD", hub)
    cfg = _cfg(tmp_path)
    path = resolve("toy", cfg)
    assert path == Path(cfg.cache_dir) / "models" / "toy"
    assert (path / "voice.onnx").read_bytes() == b"onnx-bytes" * 10
    assert not (Path(cfg.cache_dir) / "models" / ".partial" / "toy").exists()
    assert resolve("toy", _cfg(tmp_path, offline=True)) == path  # from the cache now
    assert len(hub.calls) == 1


def test_corrupt_file_is_rejected_and_retried(tmp_path: Path, toy_catalog: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bad = FakeHub({"voice.onnx": b"onnx-bytes" * 10, "voice.json": b"{}"}, corrupt="voice.onnx")
    monkeypatch.setattr(models, "DOWNLOAD", bad)
    cfg = _cfg(tmp_path)
    with pytest.raises(DownloadError, match=r"voice.onnx: SHA-256 does not match"):
        fetch(SPEC, cfg)
    assert installed_dir(SPEC, cfg) is None
    assert not (Path(cfg.cache_dir) / "models" / "toy").exists()
    good = FakeHub(bad.files)
    monkeypatch.setattr(models, "DOWNLOAD", good)
    fetch(SPEC, cfg)
    # The good file from the failed attempt was kept (resume); the bad one was deleted.
    assert good.present_before == [{"voice.json"}]
    assert installed_dir(SPEC, cfg) is not None


def test_missing_required_file_fails(tmp_path: Path, toy_catalog: None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "DOWNLOAD", FakeHub({"other.onnx": b"1"}))
    with pytest.raises(DownloadError, match=r"expected files missing: voice.onnx"):
        fetch(SPEC, _cfg(tmp_path))


def test_network_failure_becomes_model_not_available(tmp_path: Path, toy_catalog: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(spec: ModelSpec, dest: Path) -> dict[str, FileMeta]:
        raise ConnectionError("no route to host")

    monkeypatch.setattr(models, "DOWNLOAD", unreachable)
    with pytest.raises(ModelNotAvailable, match=r"no route to host.*yomiage models fetch toy"):
        resolve("toy", _cfg(tmp_path))


@pytest.mark.slow
def test_transformers_checkpoint_is_converted(
    tmp_path: Path, tiny_models: dict[str, tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hf = tiny_models["marian"][0]
    files = {p.name: p.read_bytes() for p in hf.iterdir() if p.is_file()}
    monkeypatch.setattr(models, "DOWNLOAD", FakeHub(files))
    cfg = _cfg(tmp_path)
    path = resolve("fugumt-en-ja", cfg)
    for name in ("model.bin", "source.spm", "target.spm", "shared_vocabulary.json",
                 "hf/config.json"):
        assert (path / name).is_file(), name
    from yomiage.translate.ct2.engine import CT2Translator

    assert CT2Translator(path).translate("The tests pass.", "en", "ja")


def test_models_command(tmp_path: Path, toy_catalog: None, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _cfg(tmp_path)
    assert run_models_command("list", None, cfg) == 0
    out = capsys.readouterr().out
    assert "fugumt-en-ja" in out and "CC-BY-NC-4.0 (non-commercial)" in out
    assert "toy" in out and out.count(" no") >= 2
    assert run_models_command("path", "toy", cfg) == 1
    assert "yomiage models fetch toy" in capsys.readouterr().err
    assert run_models_command("fetch", "toy", _cfg(tmp_path, offline=True)) == 1
    monkeypatch.setattr(models, "DOWNLOAD", FakeHub({"voice.onnx": b"o", "voice.json": b"{}"}))
    assert run_models_command("fetch", "toy", cfg) == 0
    capsys.readouterr()
    assert run_models_command("path", "toy", cfg) == 0
    assert capsys.readouterr().out.strip().endswith("models/toy")
    assert run_models_command("remove", "toy", cfg) == 0
    assert installed_dir(SPEC, cfg) is None
    assert run_models_command("fetch", None, cfg) == 2
    assert run_models_command("path", "nope", cfg) == 2


def test_catalog_defaults_are_free_to_use() -> None:
    specs = translation_specs()
    langs = ["en", "ja", "zh", "ko", "es", "fr", "de", "it", "pt", "hi", "ar", "tr", "fa", "ru"]
    for src in langs:
        for tgt in langs:
            if src != tgt:
                spec = specs[default_model(src, tgt)]
                assert not spec.noncommercial, (src, tgt)
                assert src in spec.languages and tgt in spec.languages
    assert default_model("en", "ja") == "fugumt-en-ja"
    warning = licence_warning(specs["nllb-200-distilled-600m"])
    assert warning is not None and "non-commercial" in warning
    assert licence_warning(specs["fugumt-en-ja"]) is None


def test_remove_clears_a_partial_download(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    partial = Path(cfg.cache_dir) / "models" / ".partial" / "toy"
    partial.mkdir(parents=True)
    assert models.remove(SPEC, cfg)
    assert not partial.exists()
    assert not models.remove(SPEC, cfg)
