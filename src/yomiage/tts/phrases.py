"""Phrase splitting and the shared streaming loop of every voice.

A sentence is cut at phrase boundaries (、。,;: ！？ …) so that the first phrase, kept
short, is synthesized and handed on while the rest is still to come. Each phrase's audio
is cleaned the same way (DC removed, edge silence trimmed, a few-millisecond fade only
where the audio was cut, a pause fitting its punctuation) so that the chunks of one
sentence join without clicks or gaps.

Example::

    >>> split_phrases("はい、このファイルを読み込んで、設定を確認します。")
    ['はい、', 'このファイルを読み込んで、', '設定を確認します。']
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from yomiage.cpu_share import first_sound
from yomiage.records import AudioChunk
from yomiage.text.ja_words import JA_PARTICLES, accent_phrase_starts
from yomiage.tts.ja_reading import JOIN, japanese_reading

log = logging.getLogger(__name__)

Samples = npt.NDArray[np.float32]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
# A boundary: CJK punctuation anywhere; Latin punctuation only before a space or the end
# (so "3,000", "e.g." inside words and "a:b" stay whole).
_BOUNDARY = re.compile(r"[、。，．；：！？…」』）\n]+|[,;:!?.]+(?=\s|$)|\s[-–—]\s")
_SENTENCE_END = set("。．！？!?.…")
_CLAUSE_END = set("、，,;；:：」』）-–—")
GAP_MARGIN = 1.0  # a later phrase may take as long to make as the phrases before it play


@dataclass(frozen=True)
class PhraseOptions:
    """Limits for phrase splitting, in characters."""

    first_max: int = 0
    """Longest first phrase (0 = by script: 10 CJK, 28 Latin: about one second of speech)."""
    max_chars: int = 0
    """Longest later phrase (0 = by script: 60 CJK, 160 Latin)."""
    min_chars: int = 0
    """Shorter pieces join the next one (0 = by script: 3 CJK, 10 Latin)."""

    def resolved(self, text: str) -> tuple[int, int, int]:
        """(first_max, max_chars, min_chars) for ``text``'s script."""
        cjk = is_cjk(text)
        return (
            self.first_max or (10 if cjk else 28),
            self.max_chars or (60 if cjk else 160),
            self.min_chars or (3 if cjk else 10),
        )


def is_cjk(text: str) -> bool:
    """True when ``text`` is mostly written without spaces between words (ja, zh, ko)."""
    return len(_CJK.findall(text)) * 3 >= len(text.strip())


def split_phrases(
    text: str, options: PhraseOptions | None = None, *, growth: float = 0.0,
    head_start: int = 0,
) -> list[str]:
    """Cut ``text`` into phrases, in order, whose concatenation is ``text`` (stripped).

    Pieces end at punctuation; pieces shorter than ``min_chars`` join the next one;
    pieces longer than the limit are cut at a space (or a particle for Japanese, or
    anywhere as a last resort). The first phrase obeys the tighter ``first_max``.
    ``growth`` > 0 also limits each later phrase to ``growth`` times the characters
    before it (at least ``first_max``), so that a voice which synthesizes a phrase in
    less than 1/``growth`` of the time its predecessors play never leaves a gap.
    ``head_start`` > 0 counts that many characters of speech already waiting to be
    heard before ``text``: the first phrase then obeys the ``growth`` rule too (or
    ``max_chars`` when ``growth`` is 0) instead of ``first_max``, since the listener is
    not waiting for it.
    """
    text = text.strip()
    if not text:
        return []
    first_max, max_chars, min_chars = (options or PhraseOptions()).resolved(text)
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        pieces.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        pieces.append(text[start:])

    # Only the first phrase needs to be short: later pieces are joined up to a
    # comfortable length, which suits the voice's prosody and costs fewer model calls.
    later_min = 2 * min_chars + 4
    merged: list[str] = []
    for piece in pieces:
        if merged:
            cur = len(merged[-1].strip())
            need = min_chars if len(merged) == 1 else later_min
            if cur < need and cur + len(piece) <= max(max_chars, 2 * need):
                merged[-1] += piece
                continue
        merged.append(piece)
    if len(merged) > 1 and len(merged[-1].strip()) < min_chars:
        tail = merged.pop()
        merged[-1] += tail

    out: list[str] = []
    before = head_start  # characters of speech ahead of the next phrase

    def limit() -> int:
        if not before:
            return first_max
        if growth <= 0:
            return max_chars
        return min(max_chars, max(first_max, int(growth * before)))

    for piece in merged:
        while len(piece.strip()) > limit():
            cut = _cut_point(piece, limit(), min_chars, max_chars)
            if cut <= 0 or len(piece[cut:].strip()) < min_chars:
                break  # no good cut, or it would leave a scrap: keep the piece whole
            out.append(piece[:cut])
            before += len(piece[:cut].strip())
            piece = piece[cut:]
        out.append(piece)
        before += len(piece.strip())
    return [p.strip() for p in out if p.strip()]


# English words a phrase should not end with (the cut moves to an earlier space).
_NO_END = frozenset((
    "a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "from", "with", "and", "or",
    "but", "as", "is", "are", "was", "were", "be", "my", "your", "its", "our", "their", "this",
    "that", "these", "those", "i", "we", "you", "he", "she", "it", "they", "i'll", "i've",
    "i'm", "let",
))


def _cut_point(piece: str, limit: int, min_chars: int, max_chars: int) -> int:
    """Where to cut a piece longer than ``limit`` (0 = nowhere good).

    A space whose preceding word may end a phrase; else after a Japanese particle that
    precedes a new word, or at a Japanese accent-phrase boundary (OpenJTalk), searched
    first below ``limit`` and then up to ``max_chars``; a hard cut only beyond
    ``max_chars``.
    """
    accents: list[int] | None = None
    cjk = is_cjk(piece)
    for end in (limit, max_chars):
        particle = _particle_cut(piece, end, min_chars)
        if cjk and particle:  # a particle before a space: spaces join a Latin term's words
            return particle
        pos = piece.rfind(" ", min_chars, end + 1)
        while pos > 0:
            word = piece[:pos].rsplit(" ", 1)[-1].strip(",.;:!?\"'()").lower()
            if word and word not in _NO_END:
                return pos + 1
            pos = piece.rfind(" ", min_chars, pos)
        if particle:
            return particle
        if accents is None:
            accents = accent_phrase_starts(piece) if cjk else []
        # never between the words of one identifier (parse・date: tts/ja_reading.py JOIN)
        fits = [i for i in accents if min_chars <= i <= end and piece[i - 1] != JOIN
                and piece[i:i + 1] != JOIN]
        if fits:
            return fits[-1]
        if end == limit:
            for i in range(limit + 1, min(max_chars, len(piece) - 1) + 1):
                if piece[i - 1] in JA_PARTICLES and not _is_hiragana(piece[i]):
                    return i
    return max_chars if len(piece) > max_chars else 0


def _particle_cut(piece: str, end: int, min_chars: int) -> int:
    """The last place at or before ``end`` that follows a Japanese particle and precedes a
    new word (not hiragana); 0 if none."""
    for i in range(min(end, len(piece) - 1), min_chars - 1, -1):
        if piece[i - 1] in JA_PARTICLES and not _is_hiragana(piece[i]):
            return i
    return 0


def _is_hiragana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u309f"


def pause_after(phrase: str) -> float:
    """Seconds of silence that follow a phrase, from its final punctuation."""
    last = phrase.rstrip()[-1:] if phrase.strip() else ""
    if last in _SENTENCE_END:
        return 0.18
    if last in _CLAUSE_END:
        return 0.08
    return 0.0


# Phrase shaping (shape_phrase here, shape_stream for audio that comes in pieces):
LEAD_S = 0.02  # silence kept before a phrase's first sound
TAIL_S = 0.04  # silence kept after its last sound
FADE_S = 0.005  # fade at both ends, where the waveform is cut
SILENCE_LEVEL = 0.004  # |sample - silence level| above this is sound


def fade_ramp(n: int) -> Samples:
    """A raised-cosine fade-in of ``n`` samples, 0 → 1 (reversed, a fade-out)."""
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)


def shape_phrase(
    samples: npt.ArrayLike,
    sample_rate: int,
    *,
    pause: float = 0.0,
    gain: float = 1.0,
    lead: float = LEAD_S,
    tail: float = TAIL_S,
    fade: float = FADE_S,
    threshold: float = SILENCE_LEVEL,
) -> Samples:
    """Clean one phrase's raw audio so that consecutive phrases join smoothly.

    Removes DC, trims leading/trailing silence down to ``lead``/``tail`` seconds, fades
    ``fade`` seconds at both ends (the only places where a waveform is cut), applies
    ``gain`` (clipped to [-1, 1]) and appends ``pause`` seconds of silence. Returns
    float32; an all-silent input gives just the pause.
    """
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32).ravel())
    pad = np.zeros(round(pause * sample_rate), np.float32)
    if x.size == 0:
        return pad
    floor = np.float32(np.median(x))  # the silence level, even with a DC offset
    loud = np.flatnonzero(np.abs(x - floor) > threshold)
    if loud.size == 0:
        return pad
    a = max(0, int(loud[0]) - int(lead * sample_rate))
    b = min(x.size, int(loud[-1]) + 1 + int(tail * sample_rate))
    x = x[a:b] - np.float32(x[a:b].mean())
    n = min(int(fade * sample_rate), x.size // 2)
    if n > 0:
        ramp = fade_ramp(n)
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    if gain != 1.0:
        x = np.clip(x * np.float32(gain), -1.0, 1.0)
    return np.concatenate([x, pad]).astype(np.float32, copy=False)


class PhrasedVoice:
    """Base of the engines: ``stream`` cuts text into phrases and shapes each one.

    Subclasses set ``name``, ``language``, ``sample_rate`` and implement
    :meth:`synthesize_phrase`; ``speed`` and ``volume`` are honoured here and there.
    """

    name: str = "voice"
    language: str = ""
    sample_rate: int = 22050

    def __init__(
        self, *, speed: float = 1.0, volume: float = 1.0, phrases: PhraseOptions | None = None
    ) -> None:
        self.speed = speed
        self.volume = volume
        self.phrase_options = phrases or PhraseOptions()
        self.rtf = 0.0
        """Synthesis seconds per second of audio, a running average (0 = not measured)."""
        self.chars_per_s = 0.0
        """Characters of text per second of audio, a running average (0 = not measured)."""
        self.continuation = ""
        """Appended to a phrase cut without punctuation before another (see :meth:`stream`)."""
        self._phrases_made = 0

    def synthesize_phrase(self, phrase: str) -> npt.ArrayLike:
        """Raw mono samples in [-1, 1] for one phrase (may carry edge silence)."""
        raise NotImplementedError

    def phrases(self, text: str, ahead_s: float = 0.0) -> list[str]:
        """``text`` cut into phrases; later ones no longer than this voice can make in
        time (from its measured real-time factor), so that none waits. With ``ahead_s``
        seconds of speech still to be heard before ``text``, the first phrase may be as
        long as the voice can make in that time (once it has measured itself): a short
        first phrase only helps a listener who is waiting, and every cut costs prosody.
        Japanese text has its Latin-script words read in katakana first
        (tts/ja_reading.py), so that no cut falls inside an identifier or a path."""
        if self.language == "ja":
            text = japanese_reading(text)
        growth = 1.0 / (GAP_MARGIN * self.rtf) if self.rtf > 0 else 0.0
        head_start = int(ahead_s * self.chars_per_s) if self.rtf > 0 else 0
        if growth > 20 and not head_start:  # a fast voice: no extra cuts
            growth = 0.0  # (with speech ahead, growth bounds the first phrase by it)
        return split_phrases(text, self.phrase_options, head_start=head_start,
                             growth=max(1.5, growth) if growth else 0.0)

    def _timed_phrase(self, phrase: str) -> npt.ArrayLike:
        """:meth:`synthesize_phrase`, updating :attr:`rtf` (from the second phrase on: the
        first one pays one-time costs)."""
        t0 = time.perf_counter()
        raw = self.synthesize_phrase(phrase)
        seconds = np.asarray(raw).size / self.sample_rate
        self._phrases_made += 1
        if seconds > 0.2 and self._phrases_made > 1:
            rtf = (time.perf_counter() - t0) / seconds
            self.rtf = rtf if self.rtf <= 0 else 0.7 * self.rtf + 0.3 * rtf
            cps = len(phrase) / seconds
            self.chars_per_s = cps if self.chars_per_s <= 0 else \
                0.7 * self.chars_per_s + 0.3 * cps
        return raw

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        """Yield one shaped chunk per phrase; phrase N+1 is synthesized after N is yielded.
        ``ahead_s``: seconds of speech still to be heard before this text (see
        :meth:`phrases`).

        A phrase cut where the text has no punctuation (at a particle or a space), other
        than the last, is synthesized with :attr:`continuation` appended, so that a voice
        which speaks each phrase as an utterance gives its end the rising, voiced shape of
        a clause rather than the fading one of a sentence's end (the mark's pause is
        trimmed off with the rest of the phrase's edge silence)."""
        phrases = self.phrases(text, ahead_s)
        for i, phrase in enumerate(phrases):
            said = phrase
            if self.continuation and i + 1 < len(phrases) and \
                    phrase[-1:] not in _SENTENCE_END and phrase[-1:] not in _CLAUSE_END:
                said = phrase + self.continuation
            try:
                with first_sound(waited_for=i == 0 and ahead_s <= 0):
                    raw = self._timed_phrase(said)
            except (ValueError, RuntimeError, OSError) as exc:
                log.warning("%s could not speak %r: %s", self.name, phrase[:40], exc)
                continue
            samples = shape_phrase(
                raw, self.sample_rate, pause=pause_after(phrase), gain=self.volume
            )
            if samples.size:
                yield AudioChunk(samples, self.sample_rate)

    def prepare_next(self) -> bool:
        """Do one small step (≤ ~0.5 s) of optional preparation that makes later phrases
        start sooner, for a caller with nothing else to do; False when there is none left
        (the default: voices that need none)."""
        return False

    def warmup(self) -> None:
        """Run one short synthesis so that the first real phrase is not slow."""
        for _ in self.stream(self._warmup_text()):
            pass

    def _warmup_text(self) -> str:
        return "こんにちは。" if self.language in ("ja", "zh") else "Hello."
