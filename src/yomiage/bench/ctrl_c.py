"""Ctrl-C trials: SIGINT to a real `yomiage` process at a chosen moment.

Each trial starts the console script (a copy named ``yomiage``, so it behaves as the
installed command), waits ``delay`` seconds (during imports, model loading or speech,
depending on the delay) and sends SIGINT. The outcome: exit code, seconds from the
signal to the exit, whether a traceback was printed, and whether the process aborted
(SIGABRT, a crash). Used by the tests and by ``yomiage bench --stage soak``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCRIPT = "import sys\nfrom yomiage.cli import main\nsys.exit(main())\n"


@dataclass
class CtrlCTrial:
    """One trial's outcome."""

    delay_s: float
    exit_code: int | None
    """None: still running 10 s after the signal (then killed)."""
    exit_s: float
    traceback: bool
    aborted: bool
    finished_first: bool
    """The run had ended by itself before the signal was sent."""

    stderr_tail: str = ""
    python_startup: bool = False
    """The signal came while Python itself started (before any yomiage code ran)."""

    @property
    def interrupted(self) -> bool:
        """Ended by Ctrl-C: exit code 130, or the signal itself (the shell shows 130)."""
        return self.exit_code in (130, -signal.SIGINT)

    @property
    def clean(self) -> bool:
        """Interrupted (or ended normally before the signal) with no traceback or abort."""
        ok_code = self.interrupted or (self.finished_first and self.exit_code == 0)
        return ok_code and not self.traceback and not self.aborted

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {**asdict(self), "interrupted": self.interrupted, "clean": self.clean}


def console_script(folder: Path) -> Path:
    """A `yomiage` script in ``folder`` that runs :func:`yomiage.cli.main` as installed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "yomiage"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def ctrl_c_trial(args: list[str], delay: float, workdir: Path,
                 env: dict[str, str] | None = None) -> CtrlCTrial:
    """Run ``yomiage ARGS`` in ``workdir``, send SIGINT after ``delay`` s, observe."""
    script = console_script(workdir / "bin")
    proc = subprocess.Popen([sys.executable, str(script), *args], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    time.sleep(delay)
    finished_first = proc.poll() is not None
    sent = time.monotonic()
    if not finished_first:
        proc.send_signal(signal.SIGINT)
    try:
        code: int | None = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
        proc.kill()
        proc.wait()
    exit_s = time.monotonic() - sent
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    # Python's own start-up (before any yomiage code): its failure is reported by Python
    # ("Fatal Python error: init_import_site", or a traceback of frozen modules only).
    startup = "Traceback" in err and ("init_import_site" in err or "yomiage" not in err)
    aborted = (code is not None and code < 0 and code != -signal.SIGINT) or (
        "Fatal Python error" in err and not startup)
    return CtrlCTrial(delay, code, round(exit_s, 3), "Traceback" in err, aborted,
                      finished_first, err[-300:], startup)
