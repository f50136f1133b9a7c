"""Kokoro's prepared copies (float32, cut, bf16 weights) written safely in the cache.

A copy is written under a temporary name (``<final>.tmp<pid>``, with the final suffix
replaced) and renamed into place in one step, so a reader never sees half a file. The
temporary file is deleted when writing fails; when the process was killed meanwhile (or
Ctrl-C ended it while models loaded), the next start deletes it
(:func:`remove_stale_temps`): a temporary whose process is gone, or older than a day.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

_TEMP = re.compile(r"\.tmp(\d+)$")
STALE_AFTER_S = 24 * 3600


def temp_path(out: Path) -> Path:
    """The temporary name ``out`` is written under by this process."""
    return out.with_suffix(f".tmp{os.getpid()}")


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def remove_stale_temps(folder: Path) -> int:
    """Delete temporaries left in ``folder`` by interrupted preparations; their count."""
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    now = time.time()
    for path in entries:
        match = _TEMP.search(path.name)
        if match is None or path.is_symlink() or not path.is_file():
            continue
        pid = int(match.group(1))
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if (pid != os.getpid() and not _pid_running(pid)) or old:
            with contextlib.suppress(OSError):
                size = path.stat().st_size
                path.unlink()
                removed += 1
                log.info("removed %s (%d MB) left by an interrupted preparation", path,
                         size // 1_000_000)
    return removed


def write_atomically(out: Path, save: Callable[[Path], None]) -> None:
    """``save(temporary)``, then rename it to ``out``; the temporary never stays behind
    when ``save`` fails (or is interrupted by an exception)."""
    tmp = temp_path(out)
    try:
        save(tmp)
        tmp.replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
