"""Text: stream bytes → events → what is worth saying → speech text → sentences (no models)."""

from yomiage.text.events import RawLine, read_lines
from yomiage.text.flow import TextFlow, iter_sentences

__all__ = ["RawLine", "TextFlow", "iter_sentences", "read_lines"]
