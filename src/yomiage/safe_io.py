"""Writing output honestly: every byte or an error, and never over the input.

- :func:`write_all` / :func:`pwrite_all` loop over short writes (a full disk, a pipe, a
  signal can make ``write``/``pwrite`` return less than asked) and report how much went
  out when they fail (:func:`written_before`), so a caller can keep its own
  bookkeeping (a WAV header) true.
- :func:`silence_stdout` points file descriptor 1 at /dev/null after a failed write, so
  the interpreter's own flush at exit does not print a second error.
- :func:`same_file` tells whether an output path names the file being read (same
  inode: the same path, a symlink or a hard link), which must be refused before it is
  truncated.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable


class PartialWrite(OSError):
    """A write that made no progress (a full device)."""

    def __init__(self, written: int) -> None:
        super().__init__(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.written = written


def written_before(exc: OSError) -> int:
    """Bytes that went out before ``exc`` ended a :func:`write_all` (0 if unknown)."""
    return int(getattr(exc, "written", 0))


def write_all(write: Callable[[memoryview], int | None], data: bytes) -> int:
    """Call ``write`` until all of ``data`` is out; returns ``len(data)``.

    A write that makes no progress (returns 0 or None) counts as a full device
    (:class:`PartialWrite`). Any OSError is raised with the bytes already out in its
    ``written`` attribute (see :func:`written_before`), its own type kept (a
    BrokenPipeError stays one).
    """
    view = memoryview(data)
    done = 0
    while done < len(view):
        try:
            n = write(view[done:])
        except OSError as exc:
            exc.written = done  # type: ignore[attr-defined]
            raise
        if not n:
            raise PartialWrite(done)
        done += n
    return done


def pwrite_all(fd: int, data: bytes, offset: int) -> int:
    """``os.pwrite`` all of ``data`` at ``offset``, looping over short writes (raises
    :class:`PartialWrite` as :func:`write_all` does)."""
    sent = [0]

    def write(view: memoryview) -> int:
        n = os.pwrite(fd, view, offset + sent[0])
        sent[0] += n
        return n

    return write_all(write, data)


def silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null (after a write to it has failed)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def same_file(source: os.stat_result, path: str | os.PathLike[str]) -> bool:
    """True when ``path`` exists and is the file ``source`` describes (same device and
    inode: also through a symlink or a hard link)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (source.st_dev, source.st_ino)
