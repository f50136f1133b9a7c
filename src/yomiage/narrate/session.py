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
from yomiage.narrate.timeline import TimelineFile, format_summary

log = logging.getLogger(__name__)


def narrate_lines(lines: Iterable[Any], cfg: Config, engines: Engines, sink: Sink, *,
                  live: bool) -> RunReport:
    """Narrate stream lines (RawLine) through a fresh pipeline; returns its report."""
    from yomiage.text.flow import TextFlow

    options = PipelineOptions.from_config(replace(cfg, target_lang=engines.target_lang), live)
    timeline_file = TimelineFile(cfg.timeline) if cfg.timeline else None
    pipeline = Pipeline(options, engines.translator, engines.voice, sink,
                        spill=timeline_file.spill if timeline_file else None)
    report = pipeline.run(sentences_from_lines(lines, TextFlow(cfg)))
    report.load_s = engines.load_s
    report.timeline_file = timeline_file
    return report


def finish_report(report: RunReport, cfg: Config, engines: Engines, quiet: bool) -> int:
    """Write the timeline file, print the summary, and choose the exit code."""
    if cfg.timeline:
        try:
            (report.timeline_file or TimelineFile(cfg.timeline)).finish(report.timelines)
        except OSError as exc:
            log.error("cannot write the timeline to %s: %s", cfg.timeline, exc)
    if not quiet:
        sys.stderr.write(format_summary(report.timelines, report.load_s, report.wall_s,
                                        engines.summary_line(), report.earlier) + "\n")
    return 130 if report.interrupted else 0
