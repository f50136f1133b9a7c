"""`yomiage [FILE|-]` and `yomiage demo`: load the engines, open the output, narrate."""

from __future__ import annotations

import logging
import os
import stat
import sys
from dataclasses import replace
from importlib import resources
from typing import Any, BinaryIO

from yomiage.config import Config
from yomiage.narrate.engines import EngineError, load_engines
from yomiage.narrate.output import is_realtime, open_output
from yomiage.narrate.pipeline import RunReport
from yomiage.narrate.session import finish_report, narrate_lines

log = logging.getLogger(__name__)


def _is_regular_file(stream: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def run_narrate(source: str, cfg: Config, quiet: bool) -> int:
    """`yomiage [FILE|-]`: narrate a stream-json file or stdin; returns the exit code.

    Lag control and interruption apply to live playback of a stream (stdin that is not a
    regular file); a recorded file or any file output is narrated in full.
    """
    if source == "-" and sys.stdin.isatty():
        log.error("no stream on stdin: pipe one in (claude -p \"…\" --output-format "
                  "stream-json --verbose | yomiage), give a file, or try `yomiage demo`")
        return 2
    try:
        # stdin is read through a reader of our own on a duplicate descriptor: the reader
        # thread may still be blocked in it when Ctrl-C ends the run, and the interpreter
        # aborts at exit if sys.stdin's own buffer lock is held then.
        stream: BinaryIO = (open(os.dup(sys.stdin.fileno()), "rb") if source == "-"  # noqa: SIM115
                            else open(source, "rb"))  # noqa: SIM115
    except OSError as exc:
        log.error("cannot read %s: %s", source, exc.strerror or exc)
        return 2
    from yomiage.cli import _use_daemon

    if _use_daemon(cfg):
        from yomiage.daemon.streamclient import stream_to_daemon

        with stream:
            return stream_to_daemon(stream, live=not _is_regular_file(stream))
    from yomiage.text.events import read_lines

    report: RunReport | None = None
    try:
        try:
            engines = load_engines(cfg)
            sink, out = open_output(cfg, engines.voice.sample_rate)
        except EngineError as exc:
            log.error("%s", exc)
            return 2
        if not quiet and engines.voice_line():
            sys.stderr.write(f"yomiage: {engines.voice_line()}\n")
        live = is_realtime(out) and not _is_regular_file(stream)
        with sink:
            report = narrate_lines(read_lines(stream), cfg, engines, sink, live=live)
    finally:
        # After Ctrl-C the reader thread may still be blocked reading stdin: closing the
        # stream then would wait on its lock, and the process is about to exit anyway.
        if source != "-" or (report is not None and not report.interrupted):
            stream.close()
    return finish_report(report, cfg, engines, quiet)


def sample_session_path() -> Any:
    """The bundled demo session (a Traversable usable with ``open``)."""
    return resources.files("yomiage") / "data" / "sample_session.ndjson"


def run_demo(cfg: Config, quiet: bool, *, paced: bool = True) -> int:
    """`yomiage demo`: narrate the bundled session with whatever is installed.

    Only installed models are used (no download). Without a translation model the
    original English is spoken (and the fetch command is named); without an audio device
    the speech goes to ``yomiage-demo.wav`` in the current directory. ``paced``: the
    session's lines arrive at the pace an agent wrote them (~10 s), so the latencies in
    the report are a live listener's; otherwise all at once.
    """
    from yomiage.narrate.replay import replay

    try:  # installed models only: a demo never starts a large download
        engines = load_engines(replace(cfg, offline=True), degrade=True)
        sink, out = open_output(cfg, engines.voice.sample_rate, demo=True)
    except EngineError as exc:
        log.error("%s", exc)
        return 2
    if not quiet:
        for note in engines.notes:
            sys.stderr.write(f"yomiage: {note}\n")
        where = "the speakers" if out is None else out
        pace = "at an agent's pace" if paced else "all at once"
        sys.stderr.write(f"yomiage: demo: {engines.summary_line()}; output: {where} "
                         f"(models ready in {engines.load_s:.1f} s); the session "
                         f"arrives {pace}\n")
    lines = sample_session_path().read_bytes().splitlines()
    with sink:
        report = narrate_lines(replay(lines, realtime=paced), cfg, engines, sink, live=False)
    return finish_report(report, cfg, engines, quiet)
