"""Narrating stream lines through a fresh pipeline, and reporting how it went."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from yomiage.audio.base import Sink
from yomiage.config import Config
from yomiage.narrate.engines import Engines
from yomiage.narrate.pipeline import Pipeline, PipelineOptions, RunReport, sentences_from_lines
from yomiage.narrate.timeline import format_summary, write_timelines

log = logging.getLogger(__name__)


def narrate_lines(lines: Iterable[Any], cfg: Config, engines: Engines, sink: Sink, *,
                  live: bool) -> RunReport:
    """Narrate stream lines (RawLine) through a fresh pipeline; returns its report."""
    from yomiage.text.flow import TextFlow

    options = PipelineOptions.from_config(replace(cfg, target_lang=engines.target_lang), live)
    pipeline = Pipeline(options, engines.translator, engines.voice, sink)
    report = pipeline.run(sentences_from_lines(lines, TextFlow(cfg)))
    report.load_s = engines.load_s
    return report


def finish_report(report: RunReport, cfg: Config, engines: Engines, quiet: bool) -> int:
    """Write the timeline file, print the summary, and choose the exit code."""
    if cfg.timeline:
        try:
            write_timelines(cfg.timeline, report.timelines)
        except OSError as exc:
            log.error("cannot write the timeline to %s: %s", cfg.timeline, exc)
    if not quiet:
        sys.stderr.write(format_summary(report.timelines, report.load_s, report.wall_s,
                                        engines.summary_line()) + "\n")
    return 130 if report.interrupted else 0
