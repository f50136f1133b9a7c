"""Kokoro's prepared copies: never half-written, and interrupted temporaries cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yomiage.tts.kokoro.prepared_files import (
    STALE_AFTER_S,
    remove_stale_temps,
    temp_path,
    write_atomically,
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    final = tmp_path / "kokoro.fp32-abc.onnx"
    dead = tmp_path / f"kokoro.fp32-abc.tmp{_dead_pid()}"
    mine = temp_path(final)  # this process is alive: a preparation in progress
    old = tmp_path / f"kokoro.front-abc.tmp{os.getpid()}"
    other = tmp_path / "notes.tmp"  # not one of ours
    for p in (dead, mine, old, other, final):
        p.write_bytes(b"x" * 10)
    os.utime(old, (time.time() - STALE_AFTER_S - 10,) * 2)
    assert remove_stale_temps(tmp_path) == 2
    assert not dead.exists() and not old.exists()
    assert mine.exists() and other.exists() and final.exists()


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "model.onnx"

    def save(path: Path) -> None:
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(out, save)
    assert list(tmp_path.iterdir()) == []
    write_atomically(out, lambda p: p.write_bytes(b"whole"))
    assert out.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [out]
