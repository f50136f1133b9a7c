"""Follow a growing transcript: the complete lines appended to it, as they arrive.

``follow_lines(path)`` yields :class:`RawLine` records (numbered from 1 across files) for
every complete line appended to the transcript at ``path`` — or, when ``path`` is a
folder such as ``~/.claude/projects``, to the newest transcript under it, switching when
another one becomes the newest (a new or resumed session). It polls: one ``stat`` per
``interval`` (0.1 s) and a folder scan every ``rescan`` seconds (1 s). Measured on the
2-core VM (2026-12-01, loaded): an idle poll costs 3 µs of CPU (0.003 % of a core at 10 a
second), a scan of 200 transcripts in 20 projects 2.6 ms (0.26 % once a second), so no
inotify dependency is needed. It survives:

* truncation (the file shrinks): reading starts again at its beginning;
* rotation (the path now names another file, or disappears and comes back): the new file
  is read from its beginning;
* a line written in pieces: a line is yielded only once its ``\\n`` has arrived;
* compaction: its records (``summary``, compact summaries) are ordinary lines that the
  narration ignores.

Only what is appended after the start is yielded unless ``from_start``; a transcript that
appears after the start is read whole (all of it is new).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from yomiage.text.event_types import RawLine

log = logging.getLogger(__name__)

READ_CHUNK = 1 << 20
"""Bytes read per poll at most (a large backlog is read over several polls)."""
MAX_PENDING = 64 << 20
"""Bytes of one unfinished line held at most (a longer one is dropped with a warning)."""


class FileTail:
    """One file followed from ``offset`` (None: its end now; a file not there yet is read
    from its beginning once it appears); :meth:`poll` returns its new complete lines."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = path
        self._ino: int | None = None
        self._offset = 0
        self._pending = b""
        try:
            st = path.stat()
        except OSError:
            return
        self._ino = st.st_ino
        self._offset = st.st_size if offset is None else min(offset, st.st_size)

    def poll(self) -> list[bytes]:
        """The complete lines appended since the last poll (without their ``\\n``)."""
        try:
            st = self.path.stat()
        except OSError:
            return []  # gone for now (rotation in progress)
        if self._ino is not None and st.st_ino != self._ino:
            log.info("%s was replaced; reading the new file from its start", self.path)
            self._offset, self._pending = 0, b""
        elif st.st_size < self._offset:
            log.info("%s was truncated; reading it again from its start", self.path)
            self._offset, self._pending = 0, b""
        self._ino = st.st_ino
        if st.st_size <= self._offset:
            return []
        try:
            with self.path.open("rb") as f:
                f.seek(self._offset)
                data = f.read(min(READ_CHUNK, st.st_size - self._offset))
        except OSError as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return []
        self._offset += len(data)
        data = self._pending + data
        lines = data.split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > MAX_PENDING:
            log.warning("%s: a line longer than %d MB, skipped", self.path, MAX_PENDING >> 20)
            self._pending = b""
        return lines


def transcripts(folder: Path) -> dict[Path, tuple[float, int]]:
    """Every ``*.jsonl`` in ``folder`` or one level below (``projects/<project>/<id>.jsonl``;
    subagents' own files, deeper, are not sessions) → (mtime, size)."""
    out: dict[Path, tuple[float, int]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return out
    for entry in entries:
        candidates = [entry] if entry.name.endswith(".jsonl") else []
        if entry.is_dir(follow_symlinks=False):
            try:
                candidates = [e for e in os.scandir(entry.path) if e.name.endswith(".jsonl")]
            except OSError:
                continue
        for e in candidates:
            try:
                st = e.stat()
            except OSError:
                continue
            out[Path(e.path)] = (st.st_mtime, st.st_size)
    return out


def newest_transcript(folder: Path) -> Path | None:
    """The most recently modified transcript under ``folder`` (see :func:`transcripts`)."""
    found = transcripts(folder)
    return max(found, key=lambda p: (found[p][0], str(p))) if found else None


def follow_lines(path: Path, *, from_start: bool = False, interval: float = 0.1,
                 rescan: float = 1.0, stop: threading.Event | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> Iterator[RawLine]:
    """Yield the lines appended to ``path`` (a transcript, or a folder of them) until
    ``stop`` is set (see the module docstring)."""
    folder = path if path.is_dir() else None
    # sizes at the start: what a transcript held then is old, unless from_start
    at_start = {p: size for p, (_, size) in transcripts(folder).items()} if folder else {}
    current = newest_transcript(folder) if folder else path
    tail = FileTail(current, 0 if from_start else None) if current else None
    tails: dict[Path, FileTail] = {}  # every file followed so far keeps its place
    if current and tail:
        tails[current] = tail
        log.info("following %s", current)
    n = 0
    next_scan = time.monotonic() + rescan
    while stop is None or not stop.is_set():
        lines = tail.poll() if tail else []
        for data in lines:
            n += 1
            yield RawLine(n, data, clock())
        if folder is not None and time.monotonic() >= next_scan:
            next_scan = time.monotonic() + rescan
            newest = newest_transcript(folder)
            if newest is not None and newest != current:
                if tail is not None:
                    for data in tail.poll():  # what the old one still had
                        n += 1
                        yield RawLine(n, data, clock())
                log.info("following %s", newest)
                current = newest
                # New: what was appended since the start; all of a transcript born since.
                tail = tails.get(newest) or FileTail(
                    newest, 0 if from_start else at_start.get(newest, 0))
                tails[newest] = tail
        if not lines:
            if stop is not None:
                stop.wait(interval)
            else:
                time.sleep(interval)


__all__ = ["FileTail", "follow_lines", "newest_transcript"]
