"""Read a CTranslate2 ``model.bin``: its variables as numpy arrays over one memory map.

The layout is CTranslate2's own (binary version 6, what its converters write): a header
(version, spec name, revision), the variables (name, shape, dtype, bytes) and aliases
(a variable stored once under another name: equal tensors are deduplicated at
conversion). int8 weights come with a per-row ``weight_scale``: the float weight is
``weight / weight_scale``.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
SUPPORTED_VERSIONS = (6,)


class ModelFormatError(ValueError):
    """The file is not a CTranslate2 model this reader understands."""


@dataclass(frozen=True)
class Variable:
    """Where one variable lies in the file."""

    dtype: str
    shape: tuple[int, ...]
    offset: int
    nbytes: int


class Ct2Weights:
    """The variables of one ``model.bin``, read lazily from a private memory map.

    Arrays returned by :meth:`array` are views of the map (no copy): keep this object alive
    while they are in use.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            # copy-on-write: arrays are writable views (OpenVINO shares only writable
            # buffers) while the pages stay the file's until something writes to them
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        self.version, self.spec, self.revision, self.variables, self.aliases = _index(self._map)

    def _resolve(self, name: str) -> str:
        seen = 0
        while name not in self.variables and name in self.aliases and seen < 8:
            name, seen = self.aliases[name], seen + 1
        return name

    def __contains__(self, name: str) -> bool:
        return self._resolve(name) in self.variables

    def array(self, name: str) -> np.ndarray:
        """The variable ``name`` (aliases followed) as an array of its stored dtype (a view
        of the map: writing to it changes this process's copy only)."""
        var = self.variables.get(self._resolve(name))
        if var is None:
            raise KeyError(f"{self.path}: no variable {name!r}")
        if var.dtype == "bfloat16":
            raw = np.frombuffer(self._map, np.uint16, var.nbytes // 2, var.offset)
            return (raw.astype(np.uint32) << 16).view(np.float32).reshape(var.shape)
        count = var.nbytes // np.dtype(var.dtype).itemsize
        return np.frombuffer(self._map, var.dtype, count, var.offset).reshape(var.shape)

    def scalar(self, name: str, default: float = 0.0) -> float:
        """A 0-d variable's value (flags, head counts, scales), or ``default`` if absent."""
        return float(self.array(name).reshape(-1)[0]) if name in self else default

    def int8_rows(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``name``'s weight as int8 rows and a float32 multiplier per row
        (float ≈ rows × multiplier); float weights are quantized here, per row, by absmax,
        as CTranslate2 does at load."""
        weight = self.array(f"{name}/weight")
        if weight.dtype == np.int8:
            # a tied weight is an alias of another layer's: its scale lies beside that one
            stored = self._resolve(f"{name}/weight").removesuffix("/weight")
            for scale_name in (f"{name}/weight_scale", f"{stored}/weight_scale"):
                if scale_name in self:
                    scale = self.array(scale_name).astype(np.float32)
                    return weight, (1.0 / scale).reshape(-1, 1).astype(np.float32)
            raise ModelFormatError(f"{self.path}: int8 weight {name} has no weight_scale")
        return quantize_rows(weight.astype(np.float32))

    def float_weight(self, name: str) -> np.ndarray:
        """``name``'s weight as float32 (int8 weights dequantized)."""
        weight = self.array(f"{name}/weight")
        if weight.dtype != np.int8:
            return weight.astype(np.float32)
        rows, mult = self.int8_rows(name)
        return rows.astype(np.float32) * mult

    def close(self) -> None:
        """Release the memory map (arrays from :meth:`array` become invalid)."""
        self._map.close()


def quantize_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row absmax int8 quantization: (int8 rows, float32 multiplier per row)."""
    amax = np.abs(weight).max(axis=1, keepdims=True).astype(np.float32)
    scale = np.where(amax > 0, 127.0 / np.maximum(amax, 1e-30), 1.0).astype(np.float32)
    rows = np.clip(np.rint(weight * scale), -127, 127).astype(np.int8)
    return rows, (1.0 / scale).astype(np.float32)


def _index(buf: mmap.mmap) -> tuple[int, str, int, dict[str, Variable], dict[str, str]]:
    off = 0

    def take(fmt: str) -> int:
        nonlocal off
        (value,) = struct.unpack_from(fmt, buf, off)
        off += struct.calcsize(fmt)
        return int(value)

    def text() -> str:
        nonlocal off
        n = take("H")
        value = bytes(buf[off:off + n - 1]).decode("utf-8")
        off += n
        return value

    try:
        version = take("I")
        if version not in SUPPORTED_VERSIONS:
            raise ModelFormatError(f"CTranslate2 model format {version} is not supported "
                                   f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
        spec, revision = text(), take("I")
        variables: dict[str, Variable] = {}
        for _ in range(take("I")):
            name = text()
            shape = tuple(take("I") for _ in range(take("B")))
            dtype_id = take("B")
            if dtype_id >= len(_DTYPES):
                raise ModelFormatError(f"variable {name}: unknown data type {dtype_id}")
            nbytes = take("I")
            variables[name] = Variable(_DTYPES[dtype_id], shape, off, nbytes)
            off += nbytes
        aliases = {text(): text() for _ in range(take("I"))} if off < len(buf) else {}
    except struct.error as exc:
        raise ModelFormatError(f"truncated CTranslate2 model ({exc})") from exc
    return version, spec, revision, variables, aliases

