"""The Voice protocol every speech engine satisfies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from yomiage.records import AudioChunk


@runtime_checkable
class Voice(Protocol):
    """Speaks text in one language.

    ``stream`` yields the first chunk as early as possible (long text is cut at phrase
    boundaries and the first phrase is synthesized first); chunks of one call join
    without clicks or gaps.
    """

    name: str
    language: str
    sample_rate: int

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        """Synthesize ``text``, yielding audio chunks in order. ``ahead_s``: seconds of
        speech still to be heard before it (a voice may then cut it less finely)."""
        ...

    def warmup(self) -> None:
        """Synthesize a throwaway phrase so the first real one is not slow."""
        ...
