"""Timelines out: JSON lines per sentence, latency percentiles, the one-screen summary."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from yomiage.records import Timeline

_STEPS = ("segmented_at", "translated_at", "first_audio_at", "play_start_at", "play_end_at")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100, linear interpolation) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def is_measured(tl: Timeline) -> bool:
    """True for sentences that count in latency figures (spoken, not yomiage's skip notice)."""
    return (tl.first_audio_at is not None and not tl.skipped
            and "skip_notice" not in tl.extra)


def first_audio_ms(timelines: Iterable[Timeline]) -> list[float]:
    """First-audio latency of every measured sentence, in milliseconds."""
    return [(t.first_audio_at - t.read_at) * 1000.0 for t in timelines
            if is_measured(t) and t.first_audio_at is not None]


def is_consistent(tl: Timeline) -> bool:
    """True when the steps that happened are in order: read ≤ segmented ≤ … ≤ play_end."""
    times = [tl.read_at] + [v for v in (getattr(tl, s) for s in _STEPS) if v is not None]
    return all(a <= b for a, b in itertools.pairwise(times))


def timeline_record(tl: Timeline, origin: float) -> dict[str, Any]:
    """One JSON-ready object: step times in seconds since ``origin``, latency in ms."""
    rec: dict[str, Any] = {"seq": tl.seq, "text": tl.text, "translation": tl.translation}
    rec["read_at"] = round(tl.read_at - origin, 6)
    for step in _STEPS:
        value = getattr(tl, step)
        rec[step] = None if value is None else round(value - origin, 6)
    lat = tl.first_audio_latency
    rec["first_audio_ms"] = None if lat is None else round(lat * 1000.0, 3)
    rec["audio_seconds"] = round(tl.audio_seconds, 4)
    rec["skipped"] = tl.skipped
    rec["error"] = tl.error
    extra = {k: (round(v - origin, 6) if k.endswith(("_start", "_end", "_at"))
                 and isinstance(v, float) else v) for k, v in tl.extra.items()}
    if extra:
        rec["extra"] = extra
    return rec


def write_timelines(path: str | Path, timelines: Sequence[Timeline]) -> None:
    """Write one JSON line per sentence to ``path`` (times relative to the first read)."""
    origin = min((t.read_at for t in timelines), default=0.0)
    with open(path, "wb") as fh:
        for tl in timelines:
            fh.write(orjson.dumps(timeline_record(tl, origin)) + b"\n")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def format_summary(timelines: Sequence[Timeline], load_s: float, wall_s: float,
                   engines: str = "") -> str:
    """A few lines for stderr: sentences, first-audio P50/P95, skipped, errors, load time."""
    lat = first_audio_ms(timelines)
    spoken = sum(1 for t in timelines if is_measured(t))
    skipped = sum(1 for t in timelines if t.skipped)
    errors = sum(1 for t in timelines if t.error)
    audio = sum(t.audio_seconds for t in timelines)
    lines = [
        f"spoken {spoken} sentences ({audio:.1f} s of audio) in {wall_s:.1f} s; "
        f"skipped {skipped}; errors {errors}",
        f"first audio: P50 {_ms(percentile(lat, 50))}, P95 {_ms(percentile(lat, 95))}, "
        f"max {_ms(max(lat) if lat else None)}; models loaded in {load_s:.2f} s",
    ]
    if engines:
        lines.append(engines)
    return "\n".join(lines)
