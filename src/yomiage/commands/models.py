"""`yomiage models list|fetch|path|remove`: the model manager on the command line."""

from __future__ import annotations

import sys

from yomiage.config import Config
from yomiage.models import manager
from yomiage.models.spec import DownloadError, ModelNotAvailable, ModelSpec


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
        for spec in manager.catalog().values():
            langs = ",".join(spec.languages)
            licence = spec.licence + (" (non-commercial)" if spec.noncommercial else "")
            here = "yes" if manager.installed_dir(spec, cfg) is not None else "no"
            rows.append((spec.name, spec.kind, langs, _size(spec), licence, here))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        print(f"models folder: {manager.models_root(cfg)}")
        return 0
    if not name:
        _say(f"`models {action}` needs a model name (see `yomiage models list`)")
        return 2
    try:
        spec = manager.get_spec(name)
    except ValueError as exc:
        _say(str(exc))
        return 2
    if action == "path":
        found = manager.installed_dir(spec, cfg)
        if found is None:
            _say(f"{name} is not installed; run `{manager.fetch_command(name)}`")
            return 1
        print(found)
        return 0
    if action == "remove":
        try:
            removed = manager.remove(spec, cfg)
        except OSError as exc:
            _say(f"cannot remove {name}: {exc.strerror or exc}")
            return 1
        print(f"removed {name}" if removed else f"{name} was not installed")
        return 0
    if action == "fetch":
        if spec.noncommercial:
            print(f"note: {name} is licensed {spec.licence}: non-commercial use only",
                  file=sys.stderr)
        if manager.is_offline(cfg):
            _say(f"offline (HF_HUB_OFFLINE or --offline); cannot fetch {name}")
            return 1
        try:
            print(manager.fetch(spec, cfg))
        except (ModelNotAvailable, DownloadError, ImportError) as exc:
            _say(str(exc))
            return 1
        return 0
    _say(f"unknown models action {action!r} (list, fetch, path, remove)")
    return 2
