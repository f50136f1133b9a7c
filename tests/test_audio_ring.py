"""PlaybackBuffer: the ring between writers and the audio callback, driven by hand."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.audio.marks import MarkClock
from yomiage.audio.ring import PlaybackBuffer

RATE = 1000  # 1 frame = 1 ms keeps the arithmetic readable


@pytest.fixture()
def clock():
    c = MarkClock()
    yield c
    c.close()


def _render(buf: PlaybackBuffer, frames: int, dac: float) -> np.ndarray:
    out = np.full(frames, 9.0, dtype=np.float32)  # 9 = "not written by render"
    buf.render(out, dac)
    return out


def test_render_is_contiguous_across_writes_and_wraparound(clock):
    buf = PlaybackBuffer(RATE, clock, capacity_seconds=0.1)  # 100-frame ring
    signal = np.arange(1, 351, dtype=np.float32)
    got = []
    pos = 0
    for size in (30, 70, 45, 55, 100, 50):  # writes never exceed the free space
        buf.write(signal[pos:pos + size])
        pos += size
        while buf.pending_frames():
            got.append(_render(buf, 16, 0.0))
    played = np.concatenate(got)
    played = played[played != 0]
    np.testing.assert_array_equal(played, signal)


def test_starved_render_outputs_silence(clock):
    buf = PlaybackBuffer(RATE, clock)
    buf.write(np.ones(5, dtype=np.float32))
    out = _render(buf, 8, 0.0)
    np.testing.assert_array_equal(out, [1, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(_render(buf, 4, 0.0), [0, 0, 0, 0])


def test_marks_fire_at_the_dac_time_of_their_frame_in_order(clock):
    buf = PlaybackBuffer(RATE, clock)
    fired: list[tuple[str, float]] = []
    base = time.perf_counter() + 0.05
    buf.write(np.ones(30, dtype=np.float32))
    buf.add_mark(lambda t: fired.append(("a", t)))
    buf.write(np.ones(25, dtype=np.float32))
    buf.add_mark(lambda t: fired.append(("b", t)))
    _render(buf, 20, base)  # frames 0..19: no mark yet
    _render(buf, 20, base + 0.020)  # frames 20..39 contain mark a at frame 30
    _render(buf, 20, base + 0.040)  # frames 40..59 contain mark b at frame 55
    assert clock.wait_idle(2.0)
    assert [name for name, _ in fired] == ["a", "b"]
    assert fired[0][1] == pytest.approx(base + 0.030, abs=1e-9)
    assert fired[1][1] == pytest.approx(base + 0.055, abs=1e-9)


def test_mark_with_nothing_pending_fires_when_the_last_frame_is_heard(clock):
    buf = PlaybackBuffer(RATE, clock)
    buf.write(np.ones(10, dtype=np.float32))
    dac = time.perf_counter() + 0.03
    _render(buf, 10, dac)
    fired: list[float] = []
    buf.add_mark(fired.append)
    assert clock.wait_idle(2.0)
    assert fired == [pytest.approx(dac + 0.010, abs=1e-9)]
    assert buf.pending_seconds() <= 0.041


def test_cut_fades_out_then_plays_newer_audio(clock):
    buf = PlaybackBuffer(RATE, clock, fade_ms=5)
    buf.write(np.ones(100, dtype=np.float32))
    _render(buf, 10, 0.0)
    fired: list[float] = []
    buf.add_mark(fired.append)  # its audio is dropped: it fires at the cut
    buf.cut()
    buf.write(np.full(4, 0.5, dtype=np.float32))  # written after the stop: kept
    out = _render(buf, 12, 100.0)
    np.testing.assert_allclose(out[:5], np.linspace(1, 0, 5))
    np.testing.assert_array_equal(out[5:9], [0.5] * 4)
    np.testing.assert_array_equal(out[9:], [0, 0, 0])
    assert buf.wait_cut(0)
    buf._clock.hurry(time.perf_counter())
    assert clock.wait_idle(2.0)
    assert fired == [pytest.approx(100.005)]


def test_cut_now_without_a_device_drops_everything(clock):
    buf = PlaybackBuffer(RATE, clock)
    buf.write(np.ones(50, dtype=np.float32))
    fired: list[float] = []
    buf.add_mark(fired.append)
    buf.cut_now()
    assert buf.pending_frames() == 0
    assert clock.wait_idle(2.0)
    assert len(fired) == 1


def test_write_waits_for_room_then_completes(clock):
    buf = PlaybackBuffer(RATE, clock, capacity_seconds=0.05)  # 50 frames
    data = np.arange(1, 121, dtype=np.float32)
    writer = threading.Thread(target=buf.write, args=(data,))
    writer.start()
    got = []
    deadline = time.monotonic() + 5
    while (writer.is_alive() or buf.pending_frames()) and time.monotonic() < deadline:
        got.append(_render(buf, 7, 0.0))
        time.sleep(0.001)
    writer.join(1)
    played = np.concatenate(got)
    np.testing.assert_array_equal(played[played != 0], data)


def test_write_gives_up_when_cancelled(clock):
    buf = PlaybackBuffer(RATE, clock, capacity_seconds=0.01)
    t0 = time.monotonic()
    buf.write(np.ones(50, dtype=np.float32), cancelled=lambda: time.monotonic() - t0 > 0.05)
    assert buf.pending_frames() == 10


@settings(max_examples=60, deadline=None)
@given(
    writes=st.lists(st.integers(1, 40), min_size=1, max_size=20),
    block=st.integers(1, 33),
    capacity=st.integers(40, 120),
)
def test_any_write_and_block_sizes_play_everything_in_order(writes, block, capacity):
    """Whatever the sizes, the rendered stream is the written stream; each mark fires
    once, in order, at the DAC time of the frame it follows."""
    clock = MarkClock()
    try:
        buf = PlaybackBuffer(RATE, clock, capacity_seconds=capacity / RATE)
        fired: list[tuple[int, float]] = []
        expected: list[tuple[int, float]] = []
        data = np.arange(1, sum(writes) + 1, dtype=np.float32)
        played: list[np.ndarray] = []
        rendered = 0
        base = time.perf_counter() - 100.0  # in the past: marks are due at once
        pos = 0
        for i, size in enumerate(writes):
            while capacity - buf.pending_frames() < size:  # make room as a device would
                played.append(_render(buf, block, base + rendered / RATE))
                rendered += block
            buf.write(data[pos:pos + size])
            pos += size
            buf.add_mark(lambda t, i=i: fired.append((i, t)))
            expected.append((i, pos))
        while buf.pending_frames():
            played.append(_render(buf, block, base + rendered / RATE))
            rendered += block
        out = np.concatenate(played)
        np.testing.assert_array_equal(out[out != 0], data)
        assert clock.wait_idle(2.0)
        assert [i for i, _ in fired] == [i for i, _ in expected]
        for (_, t), (_, end_pos) in zip(fired, expected, strict=True):
            # the mark follows the frame whose value is end_pos: it fires when that
            # frame has been heard, i.e. at the DAC time of the next output index
            index = int(np.flatnonzero(out == end_pos)[0])
            assert t == pytest.approx(base + (index + 1) / RATE, abs=1e-9)
    finally:
        clock.close()
