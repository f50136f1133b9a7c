"""Phrase shaping for audio that arrives in pieces (a voice decoding window by window).

:func:`yomiage.tts.phrases.shape_phrase` cleans one phrase's whole audio: silence level
removed, edge silence trimmed to ``lead``/``tail``, a short fade at both ends, gain, a
pause. :func:`shape_stream` gives the same result piece by piece, yielding each piece's
share as soon as it arrives, so that the first sound of a phrase can play while the
rest is still being made. The only difference: the silence level is the median of the
audio up to the piece where sound starts (the whole phrase is not known yet), instead
of the mean of the trimmed phrase.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from yomiage.tts.phrases import FADE_S, LEAD_S, SILENCE_LEVEL, TAIL_S, Samples, fade_ramp


def shape_stream(
    pieces: Iterable[npt.ArrayLike],
    sample_rate: int,
    *,
    count: int = 0,
    pause: float = 0.0,
    gain: float = 1.0,
    lead: float = LEAD_S,
    tail: float = TAIL_S,
    fade: float = FADE_S,
    threshold: float = SILENCE_LEVEL,
) -> Iterator[Samples]:
    """Shape one phrase given as consecutive ``pieces``; yield the cleaned audio in order.

    Nothing is yielded before the first sound (its lead is trimmed); a piece's samples
    after its last sound wait for the next piece (they may be trailing silence, trimmed
    to ``tail`` at the end), except in piece number ``count``, taken as the last (0 =
    unknown: the end waits for the iteration to stop and comes as a few-ms chunk). The
    concatenation of what is yielded is the phrase shaped as
    :func:`~yomiage.tts.phrases.shape_phrase` does, ending with ``pause`` seconds of
    silence; an all-silent phrase yields just the pause. Yielded arrays are non-empty.
    """
    lead_n, tail_n = int(lead * sample_rate), int(tail * sample_rate)
    fade_n = int(fade * sample_rate)
    pad = np.zeros(round(pause * sample_rate), np.float32)
    pending = np.zeros(0, np.float32)  # received, not yet yielded
    floor: np.float32 | None = None  # silence level, fixed when the first sound arrives
    last_loud = -1  # index in pending of the latest sound (< 0: already yielded)
    for number, piece in enumerate(pieces, 1):
        x = np.nan_to_num(np.asarray(piece, dtype=np.float32).ravel())
        pending = np.concatenate([pending, x])
        if floor is None:
            level = np.float32(np.median(pending)) if pending.size else np.float32(0)
            loud = np.flatnonzero(np.abs(pending - level) > threshold)
            if loud.size == 0:
                continue
            floor = level
            pending = pending[max(0, int(loud[0]) - lead_n) :] - floor
            n = min(fade_n, pending.size // 2)
            if n > 0:
                pending[:n] *= fade_ramp(n)
            offset = 0
        else:
            offset = pending.size - x.size
            pending[offset:] -= floor
        loud = np.flatnonzero(np.abs(pending[offset:]) > threshold)
        if loud.size:
            last_loud = offset + int(loud[-1])
        if number == count:
            break
        # Everything up to the latest sound (+ tail) is kept whatever comes next; the
        # last fade_n samples wait so that the end can still be faded out.
        cut = min(last_loud + 1 + tail_n, pending.size) - fade_n
        if cut > 0:
            out, pending = pending[:cut], pending[cut:]
            last_loud -= cut
            yield _gained(out, gain)
    if floor is None:
        if pad.size:
            yield pad
        return
    end = pending[: max(0, min(pending.size, last_loud + 1 + tail_n))]
    n = min(fade_n, end.size // 2)
    if n > 0:
        end[-n:] *= fade_ramp(n)[::-1]
    final = np.concatenate([_gained(end, gain), pad])
    if final.size:
        yield final


def _gained(x: Samples, gain: float) -> Samples:
    if gain != 1.0:
        x = np.clip(x * np.float32(gain), -1.0, 1.0)
    return x.astype(np.float32, copy=False)
