"""``yomiage follow [PATH]``: narrate a Claude Code transcript as it grows.

For agents without hooks, or versions too old for them: tails the transcript at PATH, or
the newest one under PATH (default ``~/.claude/projects``), and narrates each appended line
through the same pipeline as ``yomiage FILE`` (TextFlow: narration, speech text,
segmentation; translation; voice). Runs until Ctrl-C.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from yomiage.config import Config

log = logging.getLogger(__name__)


def default_folder() -> Path:
    """Where Claude Code keeps its transcripts."""
    return Path.home() / ".claude" / "projects"


def run_follow(path: str | None, cfg: Config, *, from_start: bool = False,
               interval: float = 0.1, quiet: bool = False) -> int:
    """Follow and narrate until interrupted; returns the exit code."""
    target = Path(path).expanduser() if path else default_folder()
    if not target.exists():
        log.error("nothing to follow: %s does not exist%s", target,
                  "" if path else " (has Claude Code run here yet?)")
        return 2
    if interval <= 0:
        log.error("--interval must be positive")
        return 2
    from yomiage.narrate.engines import EngineError, load_engines
    from yomiage.narrate.output import is_realtime, open_output
    from yomiage.narrate.session import finish_report, narrate_lines
    from yomiage.text.tail import follow_lines

    try:
        engines = load_engines(cfg)
        sink, out = open_output(cfg, engines.voice.sample_rate)
    except EngineError as exc:
        log.error("%s", exc)
        return 2
    if not quiet:
        sys.stderr.write(f"yomiage: following {target} ({engines.summary_line()}); "
                         "Ctrl-C to stop\n")
    lines = follow_lines(target, from_start=from_start, interval=interval)
    with sink:
        report = narrate_lines(lines, cfg, engines, sink, live=is_realtime(out))
    return finish_report(report, cfg, engines, quiet)


__all__ = ["default_folder", "run_follow"]
