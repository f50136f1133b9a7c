"""Timelines out: JSON lines per sentence, latency percentiles, the one-screen summary.

A run keeps a bounded window of timelines (:class:`TimelineWindow`); the summary's figures
are kept incrementally (:class:`RunStats`), so a week-long run's memory stays flat, and
``--timeline FILE`` gets every sentence, written as it leaves the window
(:class:`TimelineFile`)."""

from __future__ import annotations

import itertools
import math
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

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


def waited_first_audio_ms(timelines: Iterable[Timeline]) -> list[float]:
    """First-audio latency (ms) of the measured sentences that a listener waited for:
    read when nothing earlier was still being made or played (the first sentence of a
    reply, or one that comes after a pause). A sentence read while another was still in
    hand is heard after that one anyway, so its own latency is not what anyone waits
    through (:func:`heard_gaps_ms` counts what it costs there)."""
    busy_until = -math.inf
    out = []
    for t in sorted(timelines, key=lambda t: (t.read_at, t.seq)):  # runs one after another
        if is_measured(t) and t.first_audio_at is not None and t.read_at >= busy_until:
            out.append((t.first_audio_at - t.read_at) * 1000.0)
        ends = [v for v in (t.extra.get("synth_end"), t.play_end_at, t.first_audio_at)
                if isinstance(v, float)]
        if ends:
            busy_until = max(busy_until, *ends)
    return out


def heard_gaps_ms(timelines: Iterable[Timeline], least_ms: float = 20.0) -> list[float]:
    """Silences the narrator caused between sentences, in milliseconds: where a sentence's
    text had been read before the previous sentence finished playing, yet it began to
    play more than ``least_ms`` after that end (one gap per such pair, in order; a
    silence while the agent had not written the next sentence yet is not counted).
    Needs play times from a sink that keeps a device's clock (live or timing)."""
    played = sorted((t for t in timelines if t.play_start_at is not None
                     and t.play_end_at is not None and not t.skipped), key=lambda t: t.seq)
    gaps = []
    for prev, cur in itertools.pairwise(played):
        assert prev.play_end_at is not None and cur.play_start_at is not None
        gap = (cur.play_start_at - prev.play_end_at) * 1000.0
        if cur.read_at < prev.play_end_at and gap > least_ms:
            gaps.append(gap)
    return gaps


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
                   engines: str = "", earlier: RunStats | None = None) -> str:
    """A few lines for stderr: sentences, first-audio P50/P95, skipped, errors, load time.

    ``earlier``: the figures of the timelines already folded out of the run's window
    (:class:`TimelineWindow`); without it, ``timelines`` are the whole run.
    """
    stats = earlier.copy() if earlier is not None else RunStats()
    for t in timelines:
        stats.add(t)
    audio = sum(t.audio_seconds for t in timelines)  # summed as always for a short run
    if earlier is not None:
        audio += earlier.audio
    lat = stats.latency
    lines = [
        f"spoken {stats.spoken} sentences ({audio:.1f} s of audio) in {wall_s:.1f} s; "
        f"skipped {stats.skipped}; errors {stats.errors}",
        f"first audio: P50 {_ms(lat.percentile(50))}, P95 {_ms(lat.percentile(95))}, "
        f"max {_ms(lat.max)}; models loaded in {load_s:.2f} s",
    ]
    if engines:
        lines.append(engines)
    return "\n".join(lines)


# ------------------------------------------------------------- bounded timelines ----

WINDOW = 4096
"""Timelines a pipeline keeps whole (about 3.5 MB); older, finished ones are folded into
:class:`RunStats` (and written to ``--timeline FILE``) and dropped. Four times the
pipeline's own bound on queued sentences (``max_pending``), so a timeline leaves the window
long after it is final."""
EXACT_LATENCIES = 100_000
"""First-audio latencies kept exactly (800 KB); beyond, a histogram of 0.5 % wide bins."""
_BIN = math.log(1.005)


class LatencyDigest:
    """First-audio latencies (ms): exact percentiles for the first
    :data:`EXACT_LATENCIES`, then a log-binned histogram (relative error under 0.5 %),
    so its memory stays flat however long the run."""

    def __init__(self) -> None:
        self.exact: array[float] | None = array("d")
        self.bins: dict[int, int] = {}
        self.count = 0
        self.max: float | None = None

    def add(self, ms: float) -> None:
        """Count one latency."""
        self.count += 1
        self.max = ms if self.max is None else max(self.max, ms)
        if self.exact is not None:
            self.exact.append(ms)
            if len(self.exact) <= EXACT_LATENCIES:
                return
            values, self.exact = self.exact, None
            for v in values:
                self._bin(v)
            return
        self._bin(ms)

    def _bin(self, ms: float) -> None:
        k = round(math.log(ms) / _BIN) if ms > 0 else -(10**9)
        self.bins[k] = self.bins.get(k, 0) + 1

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile, exactly as :func:`percentile` while exact."""
        if self.exact is not None:
            return percentile(self.exact, q)
        if not self.count:
            return None
        rank = (self.count - 1) * q / 100.0
        seen = 0
        for k in sorted(self.bins):
            seen += self.bins[k]
            if seen > rank:
                return 0.0 if k == -(10**9) else math.exp(k * _BIN)
        return self.max

    def copy(self) -> LatencyDigest:
        """An independent copy."""
        d = LatencyDigest()
        d.exact = array("d", self.exact) if self.exact is not None else None
        d.bins, d.count, d.max = dict(self.bins), self.count, self.max
        return d


@dataclass
class RunStats:
    """The summary's figures, kept incrementally: exact counts, summed audio, latencies."""

    spoken: int = 0
    skipped: int = 0
    errors: int = 0
    audio: float = 0.0
    latency: LatencyDigest = field(default_factory=LatencyDigest)

    def add(self, tl: Timeline) -> None:
        """Count one (finished) sentence."""
        if is_measured(tl):
            self.spoken += 1
            if tl.first_audio_at is not None:
                self.latency.add((tl.first_audio_at - tl.read_at) * 1000.0)
        self.skipped += tl.skipped
        self.errors += bool(tl.error)
        self.audio += tl.audio_seconds

    def copy(self) -> RunStats:
        """An independent copy."""
        return RunStats(self.spoken, self.skipped, self.errors, self.audio,
                        self.latency.copy())


def _final(tl: Timeline) -> bool:
    return tl.play_end_at is not None or tl.skipped or tl.error is not None


class TimelineWindow:
    """The pipeline's timelines, at most about ``window`` of them kept whole.

    ``append`` adds one; when more than ``window`` are kept, the oldest *finished* ones
    are folded into :attr:`earlier` (a :class:`RunStats`), handed to ``spill`` (the
    ``--timeline`` writer) and dropped. Not thread-safe: the pipeline holds its lock.
    """

    def __init__(self, window: int = WINDOW,
                 spill: Callable[[Timeline], None] | None = None) -> None:
        self.window = window
        self.earlier = RunStats()
        self.evicted = 0
        self._spill = spill
        self._items: deque[Timeline] = deque()

    def append(self, tl: Timeline) -> None:
        """Keep ``tl``; fold the oldest finished timelines away if over the window."""
        items = self._items
        items.append(tl)
        while len(items) > self.window and _final(items[0]):
            old = items.popleft()
            self.earlier.add(old)
            self.evicted += 1
            if self._spill is not None:
                self._spill(old)

    def __iter__(self) -> Iterator[Timeline]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class TimelineFile:
    """``--timeline FILE`` written as timelines leave the window, the rest at the end.

    A run that never fills the window writes the file once at the end, exactly as
    :func:`write_timelines` does; a longer run opens it with its first spilled timeline
    (whose ``read_at`` is the origin) and keeps no timeline in memory for it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._fh: BinaryIO | None = None
        self._origin = 0.0
        self.error: OSError | None = None

    def spill(self, tl: Timeline) -> None:
        """Write one finished timeline (errors are kept for :meth:`finish` to raise)."""
        if self.error is not None:
            return
        try:
            if self._fh is None:
                self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in finish()
                self._origin = tl.read_at
            self._fh.write(orjson.dumps(timeline_record(tl, self._origin)) + b"\n")
        except OSError as exc:
            self.error = exc

    def finish(self, rest: Sequence[Timeline]) -> None:
        """Write the timelines still kept and close; raises OSError if a write failed."""
        if self._fh is None:
            if self.error is not None:
                raise self.error
            write_timelines(self.path, rest)
            return
        try:
            for tl in rest:
                self.spill(tl)
        finally:
            self._fh.close()
        if self.error is not None:
            raise self.error
