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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yomiage.config import Config

log = logging.getLogger(__name__)

INSTALLED_MARK = ".yomiage-model.json"


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model.

    Attributes:
        name: what users type (`yomiage models fetch NAME`).
        kind: "translation" or "voice".
        repo: Hugging Face hub repository id.
        files: allow patterns of the files to download (empty = the whole repository).
        format: "ct2" (ready for CTranslate2), "transformers" (converted after download)
            or "onnx".
        licence: SPDX-like licence id of the weights.
        size_mb: approximate download size.
        languages: ISO 639-1 codes it reads or speaks; ("*",) for many.
        notes: one line shown by `models list`.
        required: files that must exist in the installed directory (globs allowed).
        revision: hub revision to pin, or None for the default branch.
    """

    name: str
    kind: str
    repo: str
    files: tuple[str, ...] = ()
    format: str = "ct2"
    licence: str = ""
    size_mb: int = 0
    languages: tuple[str, ...] = ()
    notes: str = ""
    required: tuple[str, ...] = ()
    revision: str | None = None

    @property
    def noncommercial(self) -> bool:
        """True when the licence forbids commercial use (CC-BY-NC …)."""
        return "-nc" in self.licence.lower()


@dataclass(frozen=True)
class FileMeta:
    """What the hub says one file should be (None = unknown)."""

    size: int | None = None
    sha256: str | None = None


class ModelNotAvailable(RuntimeError):
    """A model is not installed and cannot be downloaded now."""

    def __init__(self, name: str, fetch_command: str, reason: str = "") -> None:
        self.name = name
        self.fetch_command = fetch_command
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"model {name!r} is not installed and cannot be downloaded{why}; "
            f"run `{fetch_command}` while online"
        )


class DownloadError(RuntimeError):
    """What arrived does not match what the hub announced."""


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
    """The model's folder in the cache if it is completely installed, else None."""
    path = models_root(cfg) / spec.name
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

    Order: an existing local directory; the cache; the hub (unless offline or
    ``download`` is False). Raises ModelNotAvailable naming the fetch command when
    the model is absent and cannot be downloaded, ValueError for an unknown name.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    spec = get_spec(name_or_path)
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
    if not force and installed_dir(spec, cfg) is not None:
        return final
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


def remove(spec: ModelSpec, cfg: Config) -> bool:
    """Delete an installed model and any partial download; True if something was removed."""
    root = models_root(cfg)
    removed = False
    for path in (root / spec.name, root / ".partial" / spec.name):
        if path.exists():
            shutil.rmtree(path)
            removed = True
    return removed


def _size(spec: ModelSpec) -> str:
    if spec.size_mb >= 1000:
        return f"{spec.size_mb / 1000:.1f} GB"
    return f"{spec.size_mb} MB"


def _say(message: str) -> None:
    """One line for the user on stderr."""
    print(f"yomiage: {message}", file=sys.stderr)


def run_models_command(action: str, name: str | None, cfg: Config) -> int:
    """`yomiage models list|fetch NAME|path NAME|remove NAME`; returns the exit code."""
    if action == "list":
        rows = [("NAME", "KIND", "LANGUAGES", "SIZE", "LICENCE", "INSTALLED")]
        for spec in catalog().values():
            langs = ",".join(spec.languages)
            licence = spec.licence + (" (non-commercial)" if spec.noncommercial else "")
            here = "yes" if installed_dir(spec, cfg) is not None else "no"
            rows.append((spec.name, spec.kind, langs, _size(spec), licence, here))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        print(f"models folder: {models_root(cfg)}")
        return 0
    if not name:
        _say(f"`models {action}` needs a model name (see `yomiage models list`)")
        return 2
    try:
        spec = get_spec(name)
    except ValueError as exc:
        _say(str(exc))
        return 2
    if action == "path":
        found = installed_dir(spec, cfg)
        if found is None:
            _say(f"{name} is not installed; run `{fetch_command(name)}`")
            return 1
        print(found)
        return 0
    if action == "remove":
        print(f"removed {name}" if remove(spec, cfg) else f"{name} was not installed")
        return 0
    if action == "fetch":
        if spec.noncommercial:
            print(f"note: {name} is licensed {spec.licence}: non-commercial use only",
                  file=sys.stderr)
        if is_offline(cfg):
            _say(f"offline (HF_HUB_OFFLINE or --offline); cannot fetch {name}")
            return 1
        try:
            print(fetch(spec, cfg))
        except (ModelNotAvailable, DownloadError, ImportError) as exc:
            _say(str(exc))
            return 1
        return 0
    _say(f"unknown models action {action!r} (list, fetch, path, remove)")
    return 2
