"""Narration: the overlapped pipeline (sentences → translation → voice → sink), lag control,
timelines, and loading the engines it runs."""

from yomiage.narrate.engines import EngineError, Engines, load_engines
from yomiage.narrate.options import PipelineOptions, RunReport
from yomiage.narrate.pipeline import Pipeline
from yomiage.narrate.session import narrate_lines

__all__ = ["EngineError", "Engines", "Pipeline", "PipelineOptions", "RunReport", "load_engines",
           "narrate_lines"]
