"""Logging set-up: one-line messages on stderr, prefixed with the program name."""

from __future__ import annotations

import logging
import sys


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Send yomiage's log records to stderr as `yomiage: message` lines."""
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("yomiage: %(message)s"))
    root = logging.getLogger("yomiage")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
