"""Timelines in a bounded window: the summary kept incrementally, --timeline gets them all."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from yomiage.narrate import timeline as tlmod
from yomiage.narrate.timeline import (
    LatencyDigest,
    RunStats,
    TimelineFile,
    TimelineWindow,
    first_audio_ms,
    format_summary,
    is_measured,
    percentile,
)
from yomiage.records import Timeline


def _tl(seq: int, rng: random.Random) -> Timeline:
    read = seq * 2.0
    tl = Timeline(seq=seq, text=f"s{seq}", read_at=read, segmented_at=read + 0.001)
    r = rng.random()
    if r < 0.1:
        tl.skipped = True
    elif r < 0.15:
        tl.error = "translate: boom"
    else:
        lat = rng.lognormvariate(-1.0, 0.6)
        tl.first_audio_at = read + lat
        tl.play_start_at = read + lat
        tl.play_end_at = read + lat + 1.5
        tl.audio_seconds = rng.uniform(0.5, 3.0)
        if r > 0.97:
            tl.extra["skip_notice"] = 3
    return tl


def _summary_as_before(timelines: list[Timeline], load_s: float, wall_s: float,
                       engines: str) -> str:
    """The summary exactly as it was computed before the window (all timelines kept)."""
    lat = first_audio_ms(timelines)
    spoken = sum(1 for t in timelines if is_measured(t))
    skipped = sum(1 for t in timelines if t.skipped)
    errors = sum(1 for t in timelines if t.error)
    audio = sum(t.audio_seconds for t in timelines)

    def ms(v: float | None) -> str:
        return "–" if v is None else f"{v:.0f} ms"

    lines = [f"spoken {spoken} sentences ({audio:.1f} s of audio) in {wall_s:.1f} s; "
             f"skipped {skipped}; errors {errors}",
             f"first audio: P50 {ms(percentile(lat, 50))}, P95 {ms(percentile(lat, 95))}, "
             f"max {ms(max(lat) if lat else None)}; models loaded in {load_s:.2f} s"]
    if engines:
        lines.append(engines)
    return "\n".join(lines)


@pytest.mark.parametrize("n", [0, 1, 7, 500, 4000])
def test_summary_equals_the_old_one_under_the_window(n: int) -> None:
    rng = random.Random(n)
    tls = [_tl(k, rng) for k in range(n)]
    window = TimelineWindow()
    for t in tls:
        window.append(t)
    assert window.evicted == 0
    assert format_summary(list(window), 1.25, 99.0, "engines x") == \
        _summary_as_before(tls, 1.25, 99.0, "engines x")


def test_a_long_run_keeps_a_bounded_window_and_exact_counts() -> None:
    rng = random.Random(1)
    tls = [_tl(k, rng) for k in range(20_000)]
    window = TimelineWindow(window=256)
    peak = 0
    for t in tls:
        window.append(t)
        peak = max(peak, len(window))
    assert peak <= 257
    assert window.evicted == 20_000 - len(window)
    got = format_summary(list(window), 0.5, 10.0, "", window.earlier)
    assert got == _summary_as_before(tls, 0.5, 10.0, "")  # exact under EXACT_LATENCIES


def test_unfinished_timelines_are_not_folded_away() -> None:
    window = TimelineWindow(window=2)
    pending = Timeline(seq=0, text="waiting", read_at=0.0)
    window.append(pending)
    for k in range(1, 10):
        window.append(Timeline(seq=k, text="x", read_at=k, skipped=True))
    assert next(iter(window)) is pending and window.evicted == 0
    pending.skipped = True
    window.append(Timeline(seq=10, text="x", read_at=10.0, skipped=True))
    assert len(window) == 2 and window.evicted == 9


def test_beyond_the_exact_latencies_a_histogram_within_half_a_percent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlmod, "EXACT_LATENCIES", 1000)
    rng = random.Random(3)
    values = [rng.lognormvariate(6.0, 0.8) for _ in range(50_000)]
    d = LatencyDigest()
    for v in values:
        d.add(v)
    assert d.exact is None and len(d.bins) < 2000
    for q in (50, 95, 99):
        exact = percentile(values, q)
        assert exact is not None
        got = d.percentile(q)
        assert got is not None and abs(got - exact) / exact < 0.01
    assert d.max == max(values)


def test_timeline_file_gets_every_sentence_in_order(tmp_path: Path) -> None:
    rng = random.Random(4)
    path = tmp_path / "t.jsonl"
    out = TimelineFile(path)
    window = TimelineWindow(window=64, spill=out.spill)
    tls = [_tl(k, rng) for k in range(1000)]
    for t in tls:
        window.append(t)
    assert window.evicted > 900
    out.finish(sorted(window, key=lambda t: (t.read_at, t.seq)))
    rows = [orjson.loads(x) for x in path.read_bytes().splitlines()]
    assert [r["seq"] for r in rows] == list(range(1000))
    assert rows[0]["read_at"] == 0.0 and rows[-1]["read_at"] == pytest.approx(1998.0)


def test_timeline_file_for_a_short_run_is_written_as_before(tmp_path: Path) -> None:
    from yomiage.narrate.timeline import write_timelines

    rng = random.Random(5)
    tls = [_tl(k, rng) for k in range(50)]
    TimelineFile(tmp_path / "a.jsonl").finish(tls)
    write_timelines(tmp_path / "b.jsonl", tls)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_run_stats_copy_is_independent() -> None:
    s = RunStats()
    s.add(Timeline(seq=0, text="x", read_at=0.0, skipped=True))
    c = s.copy()
    c.add(Timeline(seq=1, text="y", read_at=1.0, skipped=True))
    assert s.skipped == 1 and c.skipped == 2


def test_memory_is_flat_however_long_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    monkeypatch.setattr(tlmod, "EXACT_LATENCIES", 1000)
    rng = random.Random(6)
    window = TimelineWindow(window=256)
    tracemalloc.start()
    try:
        for k in range(3_000):
            window.append(_tl(k, rng))
        early = tracemalloc.get_traced_memory()[0]
        for k in range(3_000, 15_000):
            window.append(_tl(k, rng))
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < 64 * 1024, late - early  # 12,000 more sentences: no growth
