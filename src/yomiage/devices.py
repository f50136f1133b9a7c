"""Cheap facts about the machine's accelerators, for choosing engines."""

from __future__ import annotations

from pathlib import Path

_NVIDIA_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia")


def nvidia_driver_present() -> bool:
    """True when an NVIDIA driver is visible, checked before paying for `import torch`."""
    return any(Path(p).exists() for p in _NVIDIA_NODES)
