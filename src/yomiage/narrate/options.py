"""The pipeline's plain data: its options, the report of a run, the sentence source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from yomiage.config import Config
from yomiage.records import Sentence, Timeline


@dataclass(frozen=True)
class PipelineOptions:
    """How the pipeline behaves (built from :class:`Config` by :meth:`from_config`)."""

    source_lang: str = "en"
    target_lang: str = "ja"
    live: bool = False
    """Real-time playback of a live stream: lag control and interruption apply."""
    max_lag: float = 12.0
    interrupt: bool = True
    speed: float = 1.0
    max_pending: int = 1024
    """Non-live runs: the reader waits while this many sentences are queued."""
    translated_queue: int = 2
    translate_batch: int = 4
    """Sentences queued while the voice is busy are translated together, up to this many."""
    audio_queue: int = 256
    """Chunks between synthesis and the sink (back-pressure on the voice)."""
    stream_translation: bool = True
    """When the voice is waiting, hand it the translation phrase by phrase as the decoder
    writes it (engines that can stream: greedy CTranslate2)."""

    @classmethod
    def from_config(cls, cfg: Config, live: bool) -> PipelineOptions:
        """Options for ``cfg``; ``live`` = real-time playback of a live stream."""
        return cls(source_lang=cfg.source_lang, target_lang=cfg.target_lang, live=live,
                   max_lag=cfg.max_lag, interrupt=cfg.interrupt, speed=cfg.speed,
                   stream_translation=cfg.stream_translation)


@dataclass
class RunReport:
    """What one run did: a timeline per sentence (the last
    :data:`~yomiage.narrate.timeline.WINDOW` or so of a long run), plus run-level facts."""

    timelines: list[Timeline]
    wall_s: float
    interrupted: bool = False
    load_s: float = 0.0
    """Model load + warm-up time (filled in by whoever loaded the engines)."""
    earlier: Any = None
    """A long run's figures for the timelines folded out of its window
    (:class:`~yomiage.narrate.timeline.RunStats`), None when ``timelines`` are all."""
    timeline_file: Any = None
    """The ``--timeline`` writer when the run spilled timelines to it
    (:class:`~yomiage.narrate.timeline.TimelineFile`)."""

    @property
    def spoken(self) -> list[Timeline]:
        """Timelines of sentences that reached the sink (notices included)."""
        return [t for t in self.timelines if t.first_audio_at is not None]

    @property
    def skipped(self) -> int:
        """Sentences dropped by lag control or interruption."""
        return sum(1 for t in self.timelines if t.skipped)

    @property
    def errors(self) -> int:
        """Sentences an engine failed on."""
        return sum(1 for t in self.timelines if t.error)

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio handed to the sink."""
        return sum(t.audio_seconds for t in self.timelines)


def sentences_from_lines(lines: Iterable[Any], flow: Any) -> Iterator[Sentence]:
    """Sentences of a stream: ``flow.feed(raw)`` per line, then ``flow.finish()`` at EOF."""
    for raw in lines:
        yield from flow.feed(raw)
    yield from flow.finish()
