"""Logging set-up: one-line messages on stderr, prefixed with the program name."""

from __future__ import annotations

import logging
import sys

from yomiage.text.sanitize import sanitize


class SafeFormatter(logging.Formatter):
    """Formats a record, then strips terminal control sequences from the line: a warning
    may quote the input (a tool name, a path, a bad line), which must not drive the
    terminal (see :mod:`yomiage.text.sanitize`)."""

    def format(self, record: logging.LogRecord) -> str:
        return sanitize(super().format(record))


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Send yomiage's log records to stderr as `yomiage: message` lines."""
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("yomiage: %(message)s"))
    root = logging.getLogger("yomiage")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
