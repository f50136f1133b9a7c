"""Timeline output: percentiles, consistency, JSON lines, the exit summary."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from yomiage.narrate.timeline import (
    first_audio_ms,
    format_summary,
    heard_gaps_ms,
    is_consistent,
    percentile,
    waited_first_audio_ms,
    write_timelines,
)
from yomiage.records import Timeline


def _tl(seq: int, read: float, lat: float | None, **kw: object) -> Timeline:
    tl = Timeline(seq=seq, text=f"s{seq}", read_at=read, segmented_at=read + 0.001,
                  translated_at=read + 0.05)
    if lat is not None:
        tl.first_audio_at = read + lat
        tl.play_start_at = read + lat + 0.01
        tl.play_end_at = read + lat + 1.0
        tl.audio_seconds = 0.99
    for k, v in kw.items():
        setattr(tl, k, v)
    return tl


def test_percentile_interpolates_and_handles_empty() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def test_first_audio_leaves_out_unspoken_skipped_and_notices() -> None:
    notice = _tl(3, 10.0, 0.02)
    notice.extra["skip_notice"] = 2
    tls = [_tl(0, 1.0, 0.1), _tl(1, 2.0, None), _tl(2, 3.0, 0.3, skipped=True), notice]
    assert first_audio_ms(tls) == [pytest.approx(100.0)]


def test_consistency_detects_out_of_order_steps() -> None:
    good = _tl(0, 1.0, 0.2)
    assert is_consistent(good)
    bad = _tl(1, 1.0, 0.2)
    bad.play_start_at = 0.5
    assert not is_consistent(bad)
    assert is_consistent(_tl(2, 1.0, None))  # steps not reached are ignored


def test_write_timelines_one_json_line_per_sentence(tmp_path: Path) -> None:
    tls = [_tl(0, 100.0, 0.12), _tl(1, 101.0, None, error="voice: boom")]
    tls[0].translation = "訳"
    tls[0].extra["translate_start"] = 100.01
    path = tmp_path / "t.jsonl"
    write_timelines(path, tls)
    recs = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert len(recs) == 2
    assert recs[0]["read_at"] == 0.0 and recs[1]["read_at"] == pytest.approx(1.0)
    assert recs[0]["first_audio_ms"] == pytest.approx(120.0)
    assert recs[0]["translation"] == "訳"
    assert recs[0]["extra"]["translate_start"] == pytest.approx(0.01)
    assert recs[1]["first_audio_ms"] is None and recs[1]["error"] == "voice: boom"


def test_summary_mentions_counts_latency_and_load() -> None:
    tls = [_tl(i, float(i), 0.1 + i / 100) for i in range(10)]
    tls.append(_tl(10, 10.0, None, skipped=True))
    tls.append(_tl(11, 11.0, None, error="translation: x"))
    text = format_summary(tls, load_s=1.25, wall_s=12.0, engines="translation: fake")
    assert "spoken 10 sentences" in text
    assert "skipped 1" in text and "errors 1" in text
    assert "P50 145 ms" in text and "1.25 s" in text
    assert text.count("\n") <= 4


def test_heard_gaps_count_only_silences_the_narrator_caused() -> None:
    # s0 plays 0.11–1.1; s1 read at 0.5 (while s0 plays) starts at 1.3: a 200 ms gap
    s0 = _tl(0, 0.0, 0.1)
    s1 = _tl(1, 0.5, 0.79)
    # s2 read at 3.0, after s1 ended (at 2.29): the agent was slow, not the narrator
    s2 = _tl(2, 3.0, 0.1)
    # s3 read at 3.5 starts 5 ms after s2 ends: seamless
    s3 = _tl(3, 3.5, s2.play_end_at - 3.5 + 0.005 - 0.01)
    gaps = heard_gaps_ms([s3, s1, s0, s2])
    assert len(gaps) == 1 and gaps[0] == pytest.approx(200, abs=1)
    assert heard_gaps_ms([s0, _tl(1, 0.5, None)]) == []  # not played: nothing heard


def test_waited_for_counts_sentences_read_with_nothing_ahead() -> None:
    s0 = _tl(0, 0.0, 0.3)  # plays until 1.3
    s1 = _tl(1, 0.0, 1.5)  # read with s0: heard after it, not waited for
    s2 = _tl(2, 5.0, 0.25)  # after a pause: waited for
    s3 = _tl(3, 5.1, 0.4, play_end_at=None, first_audio_at=None)  # not spoken
    fast = _tl(4, 9.0, 0.2, play_end_at=None)
    fast.extra["synth_end"] = 9.6  # a null sink: busy until the voice is done
    behind = _tl(5, 9.5, 0.35, play_end_at=None)
    got = waited_first_audio_ms([behind, s3, s2, s1, s0, fast])
    assert got == pytest.approx([300, 250, 200])
    later_run = [_tl(0, 20.0, 0.15), _tl(1, 20.0, 0.9)]  # its own seq numbers
    assert waited_first_audio_ms([s0, s1, *later_run]) == pytest.approx([300, 150])
