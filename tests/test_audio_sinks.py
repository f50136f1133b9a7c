"""WAV, raw PCM, null and timing sinks; resampling; open_sink."""

from __future__ import annotations

import io
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from yomiage.audio import NullSink, Sink, TimingSink, open_sink
from yomiage.audio.convert import ChunkResampler
from yomiage.audio.raw import RawPcmSink
from yomiage.audio.wav import WavSink
from yomiage.records import AudioChunk


def sine(freq: float, seconds: float, rate: int, amp: float = 0.5, phase: float = 0.0):
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def chunks_of(samples: np.ndarray, rate: int, seed: int = 0):
    """Cut ``samples`` into chunks of random sizes (1 sample to 50 ms)."""
    rng = np.random.default_rng(seed)
    pos = 0
    while pos < samples.size:
        n = int(rng.integers(1, rate // 20))
        yield AudioChunk(samples[pos:pos + n], rate)
        pos += n


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


def wav_sizes(path: Path) -> tuple[int, int, int]:
    """(RIFF size, data size, file size) read from raw bytes: wave's reader hides bad sizes."""
    raw = path.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE" and raw[36:40] == b"data"
    riff = struct.unpack_from("<I", raw, 4)[0]
    data = struct.unpack_from("<I", raw, 40)[0]
    return riff, data, len(raw)


# -- resampling ------------------------------------------------------------------
@pytest.mark.parametrize(("src", "dst"), [(22050, 48000), (24000, 44100), (48000, 16000)])
def test_resampler_keeps_frequency_and_length(src, dst):
    x = sine(1000.0, 1.0, src)
    res = ChunkResampler(dst)
    y = np.concatenate([res.push(c) for c in chunks_of(x, src)] + [res.flush()])
    assert abs(y.size - round(x.size * dst / src)) <= 2
    assert peak_frequency(y, dst) == pytest.approx(1000.0, abs=1.5)
    mid = y[dst // 10: -dst // 10]
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_chunked_resampling_is_seamless():
    """Random chunk sizes give the same signal as resampling it in one piece."""
    x = sine(440.0, 0.5, 24000)
    res = ChunkResampler(48000)
    y = np.concatenate([res.push(c) for c in chunks_of(x, 24000, seed=3)] + [res.flush()])
    whole = soxr.resample(x, 24000, 48000, quality="HQ")
    assert y.size == whole.size
    assert np.max(np.abs(y - whole)) < 1e-4


def test_rate_change_flushes_the_previous_rate_first():
    res = ChunkResampler(16000)
    a = np.concatenate([res.push(AudioChunk(sine(300, 0.25, 24000), 24000))])
    b = res.push(AudioChunk(sine(300, 0.25, 16000), 16000))  # holds a's tail + b
    total = a.size + b.size + res.flush().size
    assert total == 4000 + 4000


def test_gain_and_mixdown():
    res = ChunkResampler(8000, gain=0.5)
    stereo = np.stack([np.full(10, 0.8), np.full(10, 0.4)], axis=1).astype(np.float32)
    out = res.push(AudioChunk(stereo, 8000))  # type: ignore[arg-type]
    np.testing.assert_allclose(out, 0.3, rtol=1e-6)


# -- WAV -------------------------------------------------------------------------
def test_wav_sink_writes_valid_file_with_correct_sizes(tmp_path):
    path = tmp_path / "out.wav"
    x = sine(440.0, 0.6, 22050)
    with open_sink(str(path), 24000) as sink:
        assert isinstance(sink, Sink)
        for c in chunks_of(x, 22050):
            sink.write(c)
            riff, data, size = wav_sizes(path)  # valid after every write
            assert riff == size - 8 and data == size - 44
        marks: list[float] = []
        sink.mark(marks.append)
        assert len(marks) == 1 and sink.pending_seconds() == 0.0
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 24000
    assert abs(audio.size - 0.6 * 24000) <= 2
    assert peak_frequency(audio, rate) == pytest.approx(440.0, abs=2)


def test_wav_volume_scales_and_clips(tmp_path):
    path = tmp_path / "v.wav"
    with WavSink(path, 8000, volume=3.0) as sink:
        sink.write(AudioChunk(np.array([0.1, 0.5, -0.5], dtype=np.float32), 8000))
    audio, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(audio, [round(0.3 * 32767), 32767, -32767])


def test_wav_joins_have_no_clicks(tmp_path):
    """A continuous sine cut into random chunks (resampled) has no discontinuity."""
    path = tmp_path / "joins.wav"
    x = sine(440.0, 1.0, 24000)
    with WavSink(path, 48000) as sink:
        for c in chunks_of(x, 24000, seed=7):
            sink.write(c)
    y, _ = sf.read(path, dtype="float32")
    core = y[2000:-2000]
    step = np.max(np.abs(np.diff(core)))
    ideal = 0.5 * 2 * np.pi * 440 / 48000  # largest step of a clean sine
    assert step < ideal * 1.05


_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from yomiage.audio import open_sink
    from yomiage.records import AudioChunk
    t = np.arange(800) / 16000
    chunk = AudioChunk((0.3 * np.sin(2 * np.pi * 500 * t)).astype(np.float32), 16000)
    with open_sink(sys.argv[1], 16000) as sink:
        n = 0
        while True:
            sink.write(chunk)
            n += 1
            if n == 20:
                print("ready", flush=True)
            time.sleep(0.002)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_wav_stays_valid_when_the_writer_is_killed(tmp_path, sig):
    path = tmp_path / f"killed-{sig.name}.wav"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=10)
    assert proc.returncode != 0
    riff, data, size = wav_sizes(path)
    assert riff == data + 36
    assert data % 2 == 0 and data >= 20 * 800 * 2
    assert 0 <= size - 44 - data < 800 * 2  # at most one chunk not yet in the header
    if sig == signal.SIGINT:  # Ctrl-C closes the sink: header and file agree exactly
        assert data == size - 44
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16000 and audio.size == data // 2
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


# -- raw PCM ---------------------------------------------------------------------
def test_raw_sink_writes_s16le_and_announces_format():
    buf = io.BytesIO()
    err = io.StringIO()
    x = sine(300.0, 0.1, 24000)
    with RawPcmSink(24000, stream=buf, announce=err) as sink:
        for c in chunks_of(x, 24000):
            sink.write(c)
    line = err.getvalue()
    assert line.count("\n") == 1
    assert "s16le, 24000 Hz, mono" in line and "aplay" in line and "ffplay" in line
    pcm = np.frombuffer(buf.getvalue(), dtype="<i2")
    np.testing.assert_array_equal(pcm, AudioChunk(x, 24000).to_int16())


def test_raw_sink_on_real_stdout_resamples_to_the_stated_rate():
    code = textwrap.dedent(
        """
        import numpy as np
        from yomiage.audio import open_sink
        from yomiage.records import AudioChunk
        with open_sink("-", 16000) as sink:
            sink.write(AudioChunk(np.zeros(4800, dtype=np.float32), 48000))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert b"s16le, 16000 Hz, mono" in proc.stderr
    assert len(proc.stdout) == 1600 * 2


# -- null and timing -------------------------------------------------------------
def test_null_sink_counts_and_marks_at_once():
    sink = NullSink()
    with sink:
        sink.write(AudioChunk(np.zeros(2400, dtype=np.float32), 24000))
        fired: list[float] = []
        sink.mark(fired.append)
        assert len(fired) == 1
    assert sink.seconds == pytest.approx(0.1) and sink.chunks == 1


def test_timing_sink_marks_fire_in_order_when_audio_would_end():
    fired: list[tuple[str, float]] = []
    with TimingSink() as sink:
        t0 = time.perf_counter()
        sink.mark(lambda t: fired.append(("start", t)))
        sink.write(AudioChunk(np.zeros(4800, dtype=np.float32), 24000))  # 0.2 s
        sink.mark(lambda t: fired.append(("a", t)))
        sink.write(AudioChunk(np.zeros(1600, dtype=np.float32), 16000))  # 0.1 s
        sink.mark(lambda t: fired.append(("b", t)))
        assert sink.pending_seconds() == pytest.approx(0.3, abs=0.02)
        sink.drain()
        assert time.perf_counter() - t0 >= 0.3
        assert sink.pending_seconds() == 0.0
    assert [n for n, _ in fired] == ["start", "a", "b"]
    assert fired[1][1] - t0 == pytest.approx(0.2, abs=0.02)
    assert fired[2][1] - t0 == pytest.approx(0.3, abs=0.02)


def test_timing_sink_gapless_and_stop_fires_waiting_marks_now():
    fired: list[float] = []
    sink = TimingSink()
    try:
        for _ in range(10):
            sink.write(AudioChunk(np.zeros(2400, dtype=np.float32), 24000))
        sink.mark(fired.append)
        assert sink.pending_seconds() == pytest.approx(1.0, abs=0.02)
        t_stop = time.perf_counter()
        sink.stop()
        assert sink.pending_seconds() == 0.0
        deadline = time.perf_counter() + 1
        while not fired and time.perf_counter() < deadline:
            time.sleep(0.005)
        assert fired and fired[0] - t_stop < 0.05
    finally:
        sink.close()


def test_timing_sink_back_pressure():
    with TimingSink(capacity_seconds=0.1) as sink:
        t0 = time.perf_counter()
        for _ in range(3):
            sink.write(AudioChunk(np.zeros(2400, dtype=np.float32), 24000))  # 0.1 s each
        assert time.perf_counter() - t0 == pytest.approx(0.2, abs=0.05)
        sink.stop()


def test_open_sink_kinds(tmp_path):
    assert isinstance(open_sink("null", 24000), NullSink)
    timing = open_sink("timing", 24000)
    assert isinstance(timing, TimingSink)
    timing.close()  # type: ignore[attr-defined]
    with open_sink(str(tmp_path / "x.wav"), 22050) as sink:
        assert isinstance(sink, WavSink) and sink.rate == 22050
    with pytest.raises(OSError):
        open_sink(os.path.join(str(tmp_path), "no", "such", "dir.wav"), 22050)


def test_raw_sink_refuses_a_terminal():
    from yomiage.audio.raw import TerminalOutput

    class Tty(io.BytesIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(TerminalOutput, match="aplay"):
        RawPcmSink(24000, stream=Tty(), announce=None)


def test_raw_sink_into_a_closed_pipe_ends_quietly():
    """`yomiage … --out - | head -c 100`: BrokenPipeError once, no noise at exit."""
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from yomiage.audio import open_sink
        from yomiage.records import AudioChunk
        sink = open_sink("-", 16000)
        try:
            with sink:
                for _ in range(1000):
                    sink.write(AudioChunk(np.zeros(1600, dtype=np.float32), 16000))
        except BrokenPipeError:
            sys.exit(0)
        sys.exit(3)
        """
    )
    proc = subprocess.run(f"{sys.executable} -c '{code}' | head -c 100 > /dev/null",
                          shell=True, capture_output=True, text=True, timeout=30)
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1  # only the format line
