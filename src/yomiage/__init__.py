"""yomiage — speaks what an AI coding agent writes, in the listener's language."""

from __future__ import annotations

# First: Ctrl-C while the command starts ends it quietly; third-party telemetry off
# before any engine library is imported.
import yomiage.early
import yomiage.offline  # noqa: F401

__version__ = "0.1.0"

# isort: split

from yomiage.audio.base import Sink
from yomiage.config import Config, load_config
from yomiage.records import AudioChunk, Sentence, SentenceKind, Timeline
from yomiage.translate.base import Translator
from yomiage.tts.base import Voice

__all__ = [
    "AudioChunk",
    "Config",
    "Sentence",
    "SentenceKind",
    "Sink",
    "Timeline",
    "Translator",
    "Voice",
    "__version__",
    "load_config",
]
