"""What a downloadable model is, and the errors of getting one.

A leaf module (it imports nothing of yomiage), so that both catalogs can import it.
"""

from __future__ import annotations

from dataclasses import dataclass


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
