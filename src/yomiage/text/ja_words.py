"""Where Japanese text may be cut for speech: accent-phrase boundaries from OpenJTalk.

Both the streamed translation (translate/streaming.py: where a first piece may end) and
the voices (tts/phrases.py: where a long phrase may be cut) cut Japanese where a speaker
could pause without breaking a word: at the start of an accent phrase. OpenJTalk's text
analyser (``pyopenjtalk``, in the ``ja`` extra) finds them in ~0.1 ms per word.

Example::

    >>> accent_phrase_starts("もう一度すべてのテストを実行します")  # doctest: +SKIP
    [4, 8, 12]
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Analyser = Callable[[str], list[dict[str, Any]]]
# Particles after which a phrase may end when a new word follows (before OpenJTalk's cuts,
# or without it).
JA_PARTICLES = frozenset("はがをにでともへて")


@functools.cache
def japanese_analyser() -> Analyser | None:
    """OpenJTalk's text analyser (words with accent-phrase flags), loaded and warmed
    once; None when pyopenjtalk is not installed or does not work."""
    try:
        import pyopenjtalk
    except ImportError:
        return None

    def analyse(text: str) -> list[dict[str, Any]]:
        return [dict(w) for w in pyopenjtalk.run_frontend(text, use_vanilla=True)]

    try:
        analyse("準備します")
    except Exception as exc:  # a broken install must not stop speech
        log.info("OpenJTalk's analyser is unavailable (%s): no accent-phrase cuts", exc)
        return None
    return analyse


def accent_phrase_starts(text: str, analyser: Analyser | None = None) -> list[int]:
    """Offsets in ``text`` where an accent phrase begins, after the first one.

    [] without an analyser, when it fails, or when it rewrote the text beyond width
    (its normaliser makes Latin letters and digits full-width, which keeps offsets),
    since offsets would then be unreliable.
    ``analyser`` defaults to :func:`japanese_analyser`.
    """
    analyse = analyser or japanese_analyser()
    if analyse is None or not text:
        return []
    try:
        words = analyse(text)
    except Exception as exc:  # an analyser failure only costs the cut
        log.debug("no accent phrases for %r: %s", text[:20], exc)
        return []
    starts: list[int] = []
    pos = 0
    for word in words:
        surface = str(word.get("string", ""))
        if _folded(surface) != _folded(text[pos : pos + len(surface)]):
            return []
        if pos > 0 and word.get("chain_flag") == 0:
            starts.append(pos)
        pos += len(surface)
    return starts if pos == len(text) else []


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text)
