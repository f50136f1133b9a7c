"""`models remove` never follows a symlink to delete something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from yomiage.commands.models import run_models_command
from yomiage.config import Config
from yomiage.models import manager
from yomiage.models.spec import ModelSpec

SPEC = ModelSpec(name="toy", kind="voice", repo="someone/toy", files=("*.onnx",),
                 format="onnx", licence="MIT", size_mb=1, languages=("en",),
                 required=("voice.onnx",))


def _precious(tmp_path: Path) -> Path:
    target = tmp_path / "elsewhere" / "toy"
    target.mkdir(parents=True)
    (target / "voice.onnx").write_bytes(b"keep me")
    return target


def test_a_symlinked_model_folder_loses_the_link_not_the_target(tmp_path: Path) -> None:
    cfg = Config(cache_dir=str(tmp_path / "cache"))
    target = _precious(tmp_path)
    link = tmp_path / "cache" / "models" / "toy"
    link.parent.mkdir(parents=True)
    link.symlink_to(target, target_is_directory=True)
    assert manager.remove(SPEC, cfg)
    assert not link.is_symlink() and not link.exists()
    assert (target / "voice.onnx").read_bytes() == b"keep me"


@pytest.mark.parametrize("linked", ["models", "models/.partial"])
def test_nothing_is_deleted_through_a_symlinked_folder(tmp_path: Path, linked: str,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config(cache_dir=str(tmp_path / "cache"))
    target = _precious(tmp_path)
    link = tmp_path / "cache" / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target.parent, target_is_directory=True)
    with pytest.raises(OSError, match="symbolic link"):
        manager.remove(SPEC, cfg)
    assert (target / "voice.onnx").read_bytes() == b"keep me"
    monkeypatch.setattr(manager, "get_spec", lambda name: SPEC)
    assert run_models_command("remove", "toy", cfg) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "symbolic link" in err
    assert (target / "voice.onnx").read_bytes() == b"keep me"
