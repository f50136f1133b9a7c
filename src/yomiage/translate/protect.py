"""Keep code identifiers, file names, URLs, versions and numbers with units verbatim.

``protect`` swaps each such span for a numbered placeholder ``[N]`` (a shape that
translation models copy through, like a citation mark); ``restore`` puts the originals
back, tolerating what models do to placeholders (full-width brackets and digits, spaces
inside), and appends any span the model dropped so nothing the agent wrote is lost.

>>> p = protect("Edit src/main.rs and run cargo test --release.")
>>> p.text
'Edit [0] and run cargo test [1].'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_UNITS = (
    r"(?:ms|µs|us|ns|s|sec|min|h|KB|KiB|MB|MiB|GB|GiB|TB|kB|B|Hz|kHz|MHz|GHz|"
    r"px|em|rem|%|x|×|fps|rps|qps|tok/s|tokens|bit|bits|bytes|ops|°C|K|k|M)"
)

# Order matters: earlier kinds win where spans overlap.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("placeholder", r"[\[［]\s*[0-9０-９]+\s*[\]］]"),
    ("url", r"\b(?:https?|ftp|file)://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]]"),
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("path", r"(?:~|\.{1,2})?/?(?:[\w.@-]+/)+[\w.@-]+"),
    ("file", r"\b[\w-]+(?:\.[\w-]+)*\.(?:[A-Za-z][A-Za-z0-9]{0,7})\b(?=[^\w]|$)"),
    ("quantity", r"(?<![\w.])[-+]?\d+(?:[.,]\d+)?\s?" + _UNITS + r"(?![\w])"),
    ("version", r"\bv?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?\b"),
    ("flag", r"(?<![\w-])--?[A-Za-z][\w-]*(?:=\S+)?"),
    ("call", r"\b[A-Za-z_][\w.]*\([^()\s]*\)"),
    ("snake", r"\b[A-Za-z0-9]*_[\w]*\b"),
    ("camel", r"\b[a-z]+[A-Z][A-Za-z0-9]*\b|\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b"),
    ("dotted", r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b"),
    ("const", r"\b[A-Z][A-Z0-9]{1,}(?:_[A-Z0-9]+)+\b"),
    ("code", r"`[^`\n]+`"),
)
_COMBINED = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _PATTERNS))

# What a model may turn "[3]" into: ［３］, [ 3 ], (3) is not accepted (too common in prose).
_FOUND = re.compile(r"[\[［]\s*([0-9０-９]+)\s*[\]］]")

# A bare file name needs a known-looking extension, or "e.g." and "i.e." would match.
_FILE_EXTS = frozenset(str.split(
    "py pyi rs ts tsx js jsx mjs cjs json toml yaml yml md txt rst cfg ini lock sh bash zsh "
    "c h cc cpp hpp go java kt swift rb php cs html css scss sql proto xml csv tsv log env "
    "wav mp3 png jpg jpeg gif svg pdf zip gz tar whl so dll dylib exe bin onnx pt ckpt "
    "safetensors gguf spm model ipynb vue lua dart ex exs zig nim ml hs scala r jl"
))


@dataclass(frozen=True)
class Protected:
    """Text with placeholders, and the original span behind each one, in order."""

    text: str
    spans: tuple[str, ...]

    @property
    def only_placeholders(self) -> bool:
        """True when nothing but placeholders, spaces and punctuation is left to translate."""
        rest = _FOUND.sub("", self.text)
        return not any(ch.isalpha() for ch in rest)


def _keep(kind: str, span: str) -> bool:
    if kind == "file":
        return span.rsplit(".", 1)[-1].lower() in _FILE_EXTS
    if kind == "snake":
        return "_" in span.strip("_") or span.startswith("__")
    return True


def protect(text: str) -> Protected:
    """Replace verbatim-only spans with ``[N]`` placeholders (N counts from 0)."""
    spans: list[str] = []
    out: list[str] = []
    pos = 0
    for match in _COMBINED.finditer(text):
        kind = match.lastgroup or ""
        span = match.group(0)
        if not _keep(kind, span):
            continue
        out.append(text[pos : match.start()])
        out.append(f"[{len(spans)}]")
        spans.append(span)
        pos = match.end()
    out.append(text[pos:])
    return Protected("".join(out), tuple(spans))


def restore_piece(translated: str, protected: Protected, used: set[int]) -> str:
    """Put back the spans whose placeholders appear in ``translated`` (a translation of
    ``protected.text``, or one piece of it); records them in ``used``, drops invented or
    repeated placeholders, and appends nothing."""

    def swap(match: re.Match[str]) -> str:
        index = int(unicodedata.normalize("NFKC", match.group(1)))
        if index >= len(protected.spans) or index in used:
            return ""
        used.add(index)
        return protected.spans[index]

    return _FOUND.sub(swap, translated) if protected.spans else translated


def restore(translated: str, protected: Protected) -> str:
    """Put the original spans back into a translation of ``protected.text``.

    Placeholders the model mangled within reason are recognised; any span whose
    placeholder vanished is appended at the end; an invented placeholder is dropped.
    """
    if not protected.spans:
        return translated
    used: set[int] = set()
    result = restore_piece(translated, protected, used)
    missing = [span for i, span in enumerate(protected.spans) if i not in used]
    if missing:
        result = result.rstrip() + " " + " ".join(missing)
    return re.sub(r"[ \t]{2,}", " ", result).strip()
