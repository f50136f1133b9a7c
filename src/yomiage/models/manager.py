"""The model manager: where translation and voice models come from, shared by both.

A model is found, in order, as a local directory, in the cache
(``<cache_dir>/models/<name>``), or on the Hugging Face hub. A hub download goes to a
staging folder (resumable: a second attempt continues partial files), is checked against
the hub's sizes and SHA-256 digests, converted to CTranslate2 when only a Transformers
checkpoint exists (the checkpoint is kept in ``hf/`` for the PyTorch engine), and is
then renamed into place, so a half-finished download is never mistaken for a model.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from yomiage.config import Config
from yomiage.models.spec import DownloadError, FileMeta, ModelNotAvailable, ModelSpec

log = logging.getLogger(__name__)

INSTALLED_MARK = ".yomiage-model.json"
BUNDLED_ROOT = Path(__file__).resolve().parent.parent / "data" / "models"


def catalog() -> dict[str, ModelSpec]:
    """Every known model by name: translation models, then voices (if that module exists)."""
    from yomiage.translate.catalog import TRANSLATION_MODELS

    specs = {s.name: s for s in TRANSLATION_MODELS}
    try:
        from yomiage.tts.catalog import VOICE_MODELS  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        VOICE_MODELS = []
    for spec in VOICE_MODELS:
        specs.setdefault(spec.name, spec)
    return specs


def get_spec(name: str) -> ModelSpec:
    """The catalog entry called ``name``; ValueError listing the known names otherwise."""
    specs = catalog()
    if name not in specs:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(specs))}")
    return specs[name]


def models_root(cfg: Config) -> Path:
    """The folder holding installed models (``<cache_dir>/models``)."""
    return Path(cfg.cache_dir).expanduser() / "models"


def is_offline(cfg: Config) -> bool:
    """True when the network must not be used (Config.offline or HF_HUB_OFFLINE)."""
    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return cfg.offline or flag in {"1", "true", "yes", "on"}


def fetch_command(name: str) -> str:
    """The command line that installs ``name``."""
    return f"yomiage models fetch {name}"


def installed_dir(spec: ModelSpec, cfg: Config) -> Path | None:
    """The model's folder if it is completely installed (in the cache, or shipped in the
    package), else None."""
    path = BUNDLED_ROOT / spec.name if spec.format == "bundled" else models_root(cfg) / spec.name
    if spec.format == "bundled":
        return None if missing_files(path, spec.required) else path
    if not (path / INSTALLED_MARK).is_file():
        return None
    if missing_files(path, spec.required):
        return None
    return path


def missing_files(folder: Path, required: tuple[str, ...]) -> list[str]:
    """The required names (or glob patterns) with no match in ``folder``."""
    return [pat for pat in required if not any(folder.glob(pat))]


def resolve(name_or_path: str, cfg: Config, *, download: bool = True) -> Path:
    """The directory of a model, fetching it when allowed.

    Order: an existing local directory; a model shipped in the package; the cache; the
    hub (unless offline or ``download`` is False). Raises ModelNotAvailable naming the
    fetch command when the model is absent and cannot be downloaded, ValueError for an
    unknown name.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    spec = get_spec(name_or_path)
    if spec.format == "bundled":
        return BUNDLED_ROOT / spec.name
    found = installed_dir(spec, cfg)
    if found is not None:
        return found
    if not download:
        raise ModelNotAvailable(spec.name, fetch_command(spec.name), "not in the cache")
    if is_offline(cfg):
        raise ModelNotAvailable(spec.name, fetch_command(spec.name), "offline")
    return fetch(spec, cfg)


Downloader = Callable[[ModelSpec, Path], dict[str, FileMeta]]


def hub_download(spec: ModelSpec, dest: Path) -> dict[str, FileMeta]:
    """Download ``spec``'s files from the hub into ``dest`` (resuming partial files).

    Returns what the hub announced for each file, for verification.
    """
    from huggingface_hub import HfApi, snapshot_download

    info = HfApi().model_info(spec.repo, revision=spec.revision, files_metadata=True)
    expected: dict[str, FileMeta] = {}
    for sib in info.siblings or []:
        if spec.files and not any(fnmatch.fnmatch(sib.rfilename, p) for p in spec.files):
            continue
        lfs = getattr(sib, "lfs", None)
        expected[sib.rfilename] = FileMeta(sib.size, getattr(lfs, "sha256", None))
    snapshot_download(
        repo_id=spec.repo, revision=info.sha, local_dir=str(dest),
        allow_patterns=list(spec.files) or None,
    )
    return expected


# Tests replace this with a local stand-in for the hub.
DOWNLOAD: Downloader = hub_download


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(folder: Path, expected: dict[str, FileMeta]) -> None:
    """Check every announced file is present with its size and digest.

    A file that fails is deleted (so the next attempt downloads it again) and
    DownloadError names it.
    """
    for rel, meta in expected.items():
        path = folder / rel
        if not path.is_file():
            raise DownloadError(f"{rel}: missing after download")
        size = path.stat().st_size
        problem = None
        if meta.size is not None and size != meta.size:
            problem = f"{size} bytes, expected {meta.size}"
        elif meta.sha256 and _sha256(path) != meta.sha256:
            problem = "SHA-256 does not match"
        if problem:
            path.unlink()
            raise DownloadError(f"{rel}: {problem}; deleted, fetch again to retry")


def fetch(spec: ModelSpec, cfg: Config, *, force: bool = False) -> Path:
    """Download (and convert where needed) ``spec`` into the cache; returns its folder."""
    root = models_root(cfg)
    final = root / spec.name
    found = installed_dir(spec, cfg)
    if found is not None and (not force or spec.format == "bundled"):
        return found
    staging = root / ".partial" / spec.name
    raw = staging / "download"
    raw.mkdir(parents=True, exist_ok=True)
    log.warning("downloading %s from %s (about %d MB)", spec.name, spec.repo, spec.size_mb)
    try:
        expected = DOWNLOAD(spec, raw)
    except (DownloadError, ModelNotAvailable):
        raise
    except Exception as exc:  # hub, HTTP and connection errors all mean "not available"
        raise ModelNotAvailable(spec.name, fetch_command(spec.name), str(exc)) from exc
    verify_files(raw, expected)
    shutil.rmtree(raw / ".cache", ignore_errors=True)
    ready = raw
    if spec.format == "transformers" and spec.kind == "translation":
        from yomiage.translate.convert import convert_checkpoint

        ready = staging / "converted"
        shutil.rmtree(ready, ignore_errors=True)
        convert_checkpoint(raw, ready)
        os.replace(raw, ready / "hf")
    lost = missing_files(ready, spec.required)
    if lost:
        raise DownloadError(f"{spec.name}: expected files missing: {', '.join(lost)}")
    mark = {"name": spec.name, "repo": spec.repo, "revision": spec.revision,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (ready / INSTALLED_MARK).write_text(json.dumps(mark) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(ready, final)
    shutil.rmtree(staging, ignore_errors=True)
    log.warning("installed %s in %s", spec.name, final)
    return final


def delete_entry(path: Path, base: Path) -> bool:
    """Delete ``path`` (a folder or file under ``base``) without following symlinks.

    A symlink at ``path`` is removed itself, never its target. When a folder between
    ``base`` and ``path`` is a symlink (a linked ``models/`` or ``.partial/``), nothing
    is deleted through it: OSError says so. True if something was removed.
    """
    rel = path.relative_to(base)
    here = base
    for part in rel.parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise OSError(f"{here} is a symbolic link; not deleting through it "
                          f"(remove {path.name} by hand if it is meant)")
    if path.is_symlink():
        path.unlink()
        return True
    if path.is_dir():
        shutil.rmtree(path)
        return True
    if path.exists():
        path.unlink()
        return True
    return False


def remove(spec: ModelSpec, cfg: Config) -> bool:
    """Delete an installed model and any partial download; True if something was removed.

    Symlinks are never followed for deletes (see :func:`delete_entry`); raises OSError
    with a one-line reason when something cannot be removed.
    """
    base = Path(cfg.cache_dir).expanduser()
    root = models_root(cfg)
    removed = False
    for path in (root / spec.name, root / ".partial" / spec.name):
        removed = delete_entry(path, base) or removed
    return removed
