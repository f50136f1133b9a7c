"""Plain records that travel between the stages.

Every stage takes and returns these; none of them knows about threads or queues.
Times are ``time.perf_counter()`` seconds, so they compare across stages of one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt


class SentenceKind(str, Enum):
    """Where a spoken sentence came from (its narration policy bucket)."""

    PROSE = "prose"  # the assistant's words to the user
    THINKING = "thinking"  # only with --thinking
    TOOL = "tool"  # a brief phrase for a tool call (--tools brief)
    NOTICE = "notice"  # yomiage's own words: "The run failed: …", "Skipped three sentences."


@dataclass(frozen=True, slots=True)
class Sentence:
    """One unit of speech, in the source language, before translation.

    Attributes:
        text: speakable text (markdown already reduced), never empty.
        seq: 0-based position in the run's output order.
        kind: which policy bucket produced it.
        message_id: the API message id the text came from, when known.
        block: content block index inside that message, when known.
        subagent: True when the text came from a subagent (parent_tool_use_id set).
        turn: counts user turns / runs seen so far; a new turn may interrupt speech.
        line_no: 1-based number of the input line that completed this sentence.
        read_at: perf_counter() when that line was read.
        segmented_at: perf_counter() when the segmenter emitted the sentence.
        continues: True when this is a clause cut from a longer sentence and more of
            the same sentence follows (the voice should not add a sentence-final pause).
    """

    text: str
    seq: int = 0
    kind: SentenceKind = SentenceKind.PROSE
    message_id: str | None = None
    block: int | None = None
    subagent: bool = False
    turn: int = 0
    line_no: int = 0
    read_at: float = 0.0
    segmented_at: float = 0.0
    continues: bool = False


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of mono audio.

    ``samples`` is float32 in [-1, 1]; int16 data is made only on request.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)

    def to_int16(self) -> npt.NDArray[np.int16]:
        """Samples as clipped little-endian int16 PCM."""
        clipped = np.clip(self.samples, -1.0, 1.0)
        return (clipped * 32767.0).astype("<i2")


@dataclass(slots=True)
class Timeline:
    """When each step of one sentence happened (perf_counter seconds; None = not reached).

    ``read_at`` is when the stream line that completed the sentence was read; the
    first-audio latency is ``first_audio_at - read_at``. ``translated_at`` is when the
    voice could start: the whole translation, or for a streamed one its first piece
    (``extra["translated_all_at"]`` then marks the end).
    """

    seq: int
    text: str
    read_at: float
    segmented_at: float | None = None
    translated_at: float | None = None
    first_audio_at: float | None = None
    play_start_at: float | None = None
    play_end_at: float | None = None
    translation: str | None = None
    audio_seconds: float = 0.0
    skipped: bool = False
    error: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def first_audio_latency(self) -> float | None:
        """Seconds from the completing line being read to the first chunk reaching the sink."""
        if self.first_audio_at is None:
            return None
        return self.first_audio_at - self.read_at
