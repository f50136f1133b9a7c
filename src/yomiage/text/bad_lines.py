"""Warnings about bad input lines, bounded: a hostile stream cannot flood the terminal.

:class:`BadLines` is what ``TextFlow`` hands to :func:`yomiage.text.events.parse_line`.
Promises:

* a line number is warned about at most once;
* a *run* of bad lines with no good line between them (a pretty-printed JSON file, a
  binary file, ``/dev/urandom``) gets one warning for its first line and one summary
  when it ends ("lines 5–1,203: 1,199 more bad lines skipped"), plus a progress summary
  at most every :data:`PROGRESS_S` seconds while it goes on;
* all these lines (warnings and summaries) are at most :data:`BURST` at once and
  :data:`RATE` a second after that (a token bucket); what they would have said is counted
  and :meth:`BadLines.finish` says how many ("…and 17,998 more bad lines skipped").

So the number of warning lines grows with time and with runs of good lines, never with
the number of bad lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("yomiage.text.events")

BURST = 10
"""Single bad lines warned about before the rate limit applies."""
RATE = 1.0
"""Warnings a second after the burst."""
PROGRESS_S = 10.0
"""A run of bad lines still going on is summarised at most this often."""


class BadLines:
    """Rate-limited reporter of bad lines; call it as ``warn(line_no, why)``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens = float(BURST)
        self._refilled = clock()
        self._last_line = 0  # last bad line number reported or counted
        self.in_run = False  # the last line seen was bad
        self._run_first = 0  # first line of the run not yet summarised
        self._run_count = 0  # bad lines of the run not warned about
        self._run_said = 0.0  # when this run was last warned about or summarised
        self.suppressed = 0  # single bad lines not warned about (rate limit)
        self.total = 0  # every bad line
        self._why = ""  # what was wrong with the last bad line

    def __call__(self, line_no: int, why: str) -> None:
        """Report bad line ``line_no`` (``why`` says what is wrong with it)."""
        if line_no == self._last_line:
            return
        self._last_line = line_no
        self.total += 1
        self._why = why
        if self.in_run:
            if self._run_count == 0:
                self._run_first = line_no
            self._run_count += 1
            now = self._clock()
            if now - self._run_said >= PROGRESS_S:
                self._summarise(line_no, " so far")
                self._run_said = now
            return
        self.in_run = True
        self._run_count = 0
        self._run_said = self._clock()
        if self._take():
            log.warning("line %d: skipped (%s)", line_no, why)
        else:
            self.suppressed += 1

    def good(self) -> None:
        """A good line was read: a run of bad lines (if any) has ended."""
        if self.in_run:
            self.in_run = False
            if self._run_count:
                self._summarise(self._last_line, "")

    def finish(self) -> None:
        """End of input: summarise whatever was not warned about."""
        self.good()
        if self.suppressed:
            log.warning("…and %s more bad lines skipped", f"{self.suppressed:,}")
            self.suppressed = 0

    def _summarise(self, last: int, tail: str) -> None:
        n = self._run_count
        self._run_count = 0
        if n and not self._take():
            self.suppressed += n
        elif n == 1 and not tail:  # a run of two: the second one is warned about as usual
            log.warning("line %d: skipped (%s)", last, self._why)
        elif n:
            where = f"line {last:,}" if n == 1 else f"lines {self._run_first:,}–{last:,}"
            log.warning("%s: %s more bad line%s skipped%s", where, f"{n:,}",
                        "" if n == 1 else "s", tail)

    def _take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(BURST), self._tokens + (now - self._refilled) * RATE)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


__all__ = ["BURST", "PROGRESS_S", "RATE", "BadLines"]
