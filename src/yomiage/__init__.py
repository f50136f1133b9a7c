"""yomiage — speaks what an AI coding agent writes, in the listener's language.

The names below are imported lazily (on first use), so that light entry points such as
the daemon client (``yomiage.daemon.client``) start without loading the stages.
"""

from __future__ import annotations

# First: Ctrl-C while the command starts ends it quietly; third-party telemetry off
# before any engine library is imported. (Both are tiny: built-in modules only.)
import yomiage.early
import yomiage.offline  # noqa: F401

TYPE_CHECKING = False  # (not from typing: a client process need not import it)

__version__ = "0.1.0"

_LAZY = {
    "Sink": "yomiage.audio.base",
    "Config": "yomiage.config",
    "load_config": "yomiage.config",
    "AudioChunk": "yomiage.records",
    "Sentence": "yomiage.records",
    "SentenceKind": "yomiage.records",
    "Timeline": "yomiage.records",
    "Translator": "yomiage.translate.base",
    "Voice": "yomiage.tts.base",
}

if TYPE_CHECKING:
    from yomiage.audio.base import Sink
    from yomiage.config import Config, load_config
    from yomiage.records import AudioChunk, Sentence, SentenceKind, Timeline
    from yomiage.translate.base import Translator
    from yomiage.tts.base import Voice


def __getattr__(name: str) -> object:
    """Import the exported names on first use."""
    from importlib import import_module

    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'yomiage' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
