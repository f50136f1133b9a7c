"""Translate only what needs it: passthrough for text already in the target language,
and verbatim code identifiers, file names, versions, URLs and quantities.

``GuardedTranslator`` wraps any engine (CTranslate2, PyTorch) and keeps its interface.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from yomiage.translate.base import Translator
from yomiage.translate.languages import is_in_language
from yomiage.translate.protect import Protected, protect, restore
from yomiage.translate.streaming import can_stream, restore_stream, translate_stream

log = logging.getLogger(__name__)


class PassthroughTranslator:
    """The ``none`` engine: returns every text unchanged."""

    name = "none"

    def translate(self, text: str, src: str, tgt: str) -> str:
        """Return ``text`` as it is."""
        return text

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Return the texts as they are."""
        return list(texts)

    def warmup(self) -> None:
        """Nothing to warm."""

    def describe(self) -> dict[str, object]:
        """Engine name only."""
        return {"engine": "none", "model": None, "device": None, "compute_type": None}


class GuardedTranslator:
    """Skips the model where it is not needed and keeps verbatim spans verbatim.

    Attributes:
        skipped: how many texts went through without the model.
    """

    def __init__(self, inner: Translator, protect_spans: bool = True) -> None:
        self.inner = inner
        self.name = inner.name
        self.protect_spans = protect_spans
        self.skipped = 0

    def _plan(self, text: str, src: str, tgt: str) -> Protected | None:
        """The protected text to translate, or None when ``text`` should pass through."""
        if src == tgt or not text.strip():
            return None
        plan = protect(text) if self.protect_spans else Protected(text, ())
        # Judge the language on what is left once code, paths and numbers are set aside.
        if plan.only_placeholders or is_in_language(plan.text, tgt, src):
            return None
        return plan

    def translate(self, text: str, src: str, tgt: str) -> str:
        """The translation of ``text``, or ``text`` itself when it needs none."""
        return self.translate_batch([text], src, tgt)[0]

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate, in one inner batch, only the texts that need it; keeps order."""
        plans = [self._plan(t, src, tgt) for t in texts]
        todo = [i for i, p in enumerate(plans) if p is not None]
        self.skipped += len(texts) - len(todo)
        out = list(texts)
        if not todo:
            return out
        sources = [plans[i].text for i in todo]  # type: ignore[union-attr]
        translated = self.inner.translate_batch(sources, src, tgt)
        for i, result in zip(todo, translated, strict=True):
            plan = plans[i]
            assert plan is not None
            out[i] = restore(result, plan) if result.strip() else texts[i]
        return out

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """The translation of ``text`` in pieces as the inner engine produces them (see
        :mod:`yomiage.translate.streaming`); ``text`` whole when it needs none."""
        plan = self._plan(text, src, tgt)
        if plan is None:
            self.skipped += 1
            yield text
            return
        yield from restore_stream(translate_stream(self.inner, plan.text, src, tgt), plan, text)

    def streams(self) -> bool:
        """True when the inner engine yields pieces before its translation is complete."""
        return can_stream(self.inner)

    def warmup(self) -> None:
        """Warm the inner engine."""
        self.inner.warmup()

    def describe(self) -> dict[str, object]:
        """The inner engine's description."""
        inner = getattr(self.inner, "describe", None)
        return dict(inner()) if callable(inner) else {"engine": self.name}
