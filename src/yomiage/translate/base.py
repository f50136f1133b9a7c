"""The Translator protocol every translation engine satisfies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Translator(Protocol):
    """Turns text from one language into another.

    Languages are ISO 639-1 codes ("en", "ja", …). Implementations are safe to call
    from one worker thread at a time and release the GIL while they compute.
    """

    name: str

    def translate(self, text: str, src: str, tgt: str) -> str:
        """Translate one sentence; returns the text unchanged when src == tgt."""
        ...

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate several sentences at once, in order."""
        ...

    def warmup(self) -> None:
        """Run a throwaway translation so the first real one is not slow."""
        ...
