"""Nothing leaves the machine but model downloads: third-party telemetry is off.

Imported first by ``yomiage/__init__`` so that it runs before any engine library:

- OpenVINO: importing ``openvino`` loads its model converter, which (through the
  optional ``openvino-telemetry`` package) writes a client id under ``~/intel/`` and sends
  an "import" event to an analytics host. OpenVINO falls back to its own no-op stub when
  that package cannot be imported, so the package is marked as not importable in this
  process. Nothing is written to the user's files (``opt_in_out --opt_out`` would write a
  consent file under ``~/intel/``, which is what is avoided here).
- huggingface_hub: ``HF_HUB_DISABLE_TELEMETRY=1`` (its documented switch) unless the user
  set it; model downloads themselves are not affected.

onnxruntime, CTranslate2, PyTorch and Transformers send nothing on their own (onnxruntime
logs usage only to Windows ETW, which stays on the machine).
"""

from __future__ import annotations

import os
import sys

BLOCKED_MODULES = ("openvino_telemetry",)
ENVIRONMENT = {"HF_HUB_DISABLE_TELEMETRY": "1"}


def disable_telemetry() -> None:
    """Turn off every known telemetry sender of yomiage's libraries (idempotent).

    A module already imported (by the embedding program) is left as it is.
    """
    for name in BLOCKED_MODULES:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # import → ImportError
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)


disable_telemetry()
