"""Real playback: PortAudio → ALSA's pulse plugin → a PulseAudio null sink, recorded back.

These machines have no sound card, so the test starts its own PulseAudio server (as
whatever user runs the tests, root included) with a null sink, plays through the real
speakers sink in a child process, records the sink's monitor with ``parec`` and checks
that the recording is what was sent. The no-device error is tested here too.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr

from yomiage.audio import NoAudioDevice, open_sink

RATE = 24000
SINK = "yomiage_test"

PLAYER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from yomiage.audio.speakers import SpeakersSink
    from yomiage.records import AudioChunk

    def sine(freq, seconds, rate):
        t = np.arange(int(seconds * rate)) / rate
        return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)

    mode = sys.argv[1]
    marks = []
    t0 = time.perf_counter()
    # 100 ms of output buffer: a loaded 2-core CI box must not underflow (gaps would be
    # real there); the gapless logic does not depend on the buffer size.
    with SpeakersSink(24000, latency=0.1) as sink:
        sink.mark(lambda t: marks.append(("start", t - t0)))
        if mode == "play":
            # sentence 1 at 22050 Hz (resampled by the sink), in uneven chunks
            a = sine(440, 0.4, 22050)
            for i in range(0, a.size, 1234):
                sink.write(AudioChunk(a[i:i + 1234], 22050))
            sink.mark(lambda t: marks.append(("mid", t - t0)))
            # sentence 2 at the device rate, right after (gapless)
            b = sine(880, 0.4, 24000)
            for i in range(0, b.size, 2400):
                sink.write(AudioChunk(b[i:i + 2400], 24000))
            sink.mark(lambda t: marks.append(("end", t - t0)))
            pending = sink.pending_seconds()
            sink.drain()
        else:  # stop: 2 s queued, cut after 0.3 s
            sink.write(AudioChunk(sine(440, 2.0, 24000), 24000))
            sink.mark(lambda t: marks.append(("end", t - t0)))
            pending = sink.pending_seconds()
            time.sleep(0.3)
            t_stop = time.perf_counter() - t0
            sink.stop()
            marks.append(("stopped", t_stop))
            time.sleep(0.2)
        print(json.dumps({"name": sink.name, "rate": sink.rate, "pending": pending,
                          "underflows": sink.underflows, "marks": marks}))
    """
)


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies (Linux), so no server leaks."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _alsa_pulse_plugin() -> bool:
    return bool(glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so")
                or glob.glob("/usr/lib*/alsa-lib/libasound_module_pcm_pulse.so"))


@pytest.fixture(scope="module")
def pulse_env() -> Iterator[dict[str, str]]:
    """Start a private PulseAudio with a null sink; yield the environment that reaches it."""
    for tool in ("pulseaudio", "parec", "pactl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs it)")
    if not _alsa_pulse_plugin():
        pytest.skip("ALSA's pulse plugin is missing (Debian: libasound2-plugins), so "
                    "PortAudio cannot reach PulseAudio")
    runtime = tempfile.mkdtemp(prefix="yomiage-pulse-")  # short: socket paths are limited
    socket = os.path.join(runtime, "native")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "PIPEWIRE_"))}
    env.update(HOME=runtime, XDG_RUNTIME_DIR=runtime, XDG_CONFIG_HOME=runtime,
               PULSE_SERVER=f"unix:{socket}", DBUS_SESSION_BUS_ADDRESS="disabled:")
    log_path = os.path.join(runtime, "pulse.log")
    cmd = [
        "pulseaudio", "--daemonize=no", "--system=false", "-n", "--exit-idle-time=-1",
        "--disallow-exit", "--use-pid-file=false", "--realtime=false",
        "--high-priority=false", f"--log-target=file:{log_path}",
        f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
        f"--load=module-null-sink sink_name={SINK} rate={RATE} channels=1 format=s16le",
    ]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + 10
        while True:
            ok = subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0
            if ok:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                tail = Path(log_path).read_text(errors="replace")[-600:] \
                    if os.path.exists(log_path) else ""
                pytest.skip(f"PulseAudio did not start (exit {server.poll()}): {tail.strip()}")
            time.sleep(0.05)
        subprocess.run(["pactl", "set-default-sink", SINK], env=env, check=True)
        yield env
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def recording_path(pulse_env: dict[str, str]) -> Iterator[Path]:
    """Record the null sink's monitor for the whole module (s16le mono at RATE)."""
    folder = Path(tempfile.mkdtemp(prefix="yomiage-rec-"))
    raw = folder / "monitor.raw"
    with raw.open("wb") as out:
        rec = subprocess.Popen(
            ["parec", "-d", f"{SINK}.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10"], env=pulse_env, stdout=out,
            preexec_fn=_die_with_parent)
        try:
            # The null sink sleeps up to 2 s between wake-ups until a low-latency client
            # is attached; the first recorded bytes show it now runs at 10 ms. (A real
            # device's sink wakes up at once when a stream starts.)
            deadline = time.monotonic() + 10
            while raw.stat().st_size == 0:
                if rec.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"parec recorded nothing from {SINK}.monitor")
                time.sleep(0.01)
            yield raw
        finally:
            rec.send_signal(signal.SIGINT)
            rec.wait(timeout=5)
            shutil.rmtree(folder, ignore_errors=True)


def _play_and_record(env: dict[str, str], mode: str, raw: Path) -> tuple[dict, np.ndarray]:
    """Run the player in ``mode``; return its report and what the monitor heard meanwhile."""
    start = raw.stat().st_size // 2 * 2
    player = subprocess.run([sys.executable, "-c", PLAYER, mode], env=env,
                            capture_output=True, text=True, timeout=30)
    time.sleep(0.2)  # let the recorder write out the tail
    assert player.returncode == 0, player.stderr
    result = json.loads(player.stdout.strip().splitlines()[-1])
    with raw.open("rb") as f:
        f.seek(start)
        data = f.read()
    recording = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32)
    return result, recording / 32768.0


def _active(x: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    assert loud.size, "the recording is silent"
    return x[loud[0]:loud[-1] + 1]


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / RATE)[np.argmax(spec)])


def _min_window_rms(x: np.ndarray, win: int = RATE // 200) -> float:
    """The quietest 5 ms window of ``x`` (0.0 where the sound dropped out)."""
    frames = x[: x.size // win * win].reshape(-1, win)
    return float(np.sqrt(np.mean(frames**2, axis=1)).min())


@pytest.mark.audio
def test_speakers_play_what_was_sent(pulse_env, recording_path):
    # The chain below our sink (ALSA's pulse plugin → PulseAudio → null sink → parec)
    # can drop a few ms on a busy 2-core machine without PortAudio seeing an underflow
    # (seen once in 4 clean CI runs). One fresh try is allowed; every check below
    # still applies, unchanged, to the try that is kept.
    # (A drop inside the recording also shows as a sample-level mismatch: seen once at
    # similarity 0.86 in a full local run, the same code passing alone.)
    t1 = np.arange(int(0.4 * 22050)) / 22050
    t2 = np.arange(int(0.4 * RATE)) / RATE
    sent = np.concatenate([
        soxr.resample((0.5 * np.sin(2 * np.pi * 440 * t1)).astype(np.float32), 22050, RATE),
        (0.5 * np.sin(2 * np.pi * 880 * t2)).astype(np.float32),
    ])
    for attempt in range(2):
        result, recording = _play_and_record(pulse_env, "play", recording_path)
        active = _active(recording)
        tone_rms = 0.5 / np.sqrt(2)  # the sent tones' level
        if (_min_window_rms(active) > 0.5 * 0.95 * tone_rms
                and _similarity(recording, sent) > 0.99) or attempt == 1:
            break
    assert result["name"].startswith("speakers:")
    assert result["underflows"] == 0, result
    marks = dict(result["marks"])
    assert [m[0] for m in result["marks"]] == ["start", "mid", "end"]
    # "start" fired on an idle device, before the first write: sound began a little later
    assert 0.37 < marks["mid"] - marks["start"] < 0.6
    assert marks["end"] - marks["mid"] == pytest.approx(0.4, abs=0.03)
    assert result["pending"] == pytest.approx(0.9, abs=0.1)  # + the output buffer

    assert active.size / RATE == pytest.approx(0.8, abs=0.02)
    rms = float(np.sqrt(np.mean(active**2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    # no dropouts anywhere: every 5 ms window carries the tone
    assert _min_window_rms(active) > 0.5 * rms
    half = active.size // 2
    assert _peak_hz(active[: half - 500]) == pytest.approx(440, abs=3)
    assert _peak_hz(active[half + 500:]) == pytest.approx(880, abs=3)
    # sample-level match with what was sent (sentence 1 resampled the same way)
    assert _similarity(recording, sent) > 0.99


def _similarity(recording: np.ndarray, sent: np.ndarray) -> float:
    """Cosine similarity of ``sent`` with the part of ``recording`` it best lines up with."""
    corr = np.correlate(recording, sent, mode="valid")
    lag = int(np.argmax(corr))
    seg = recording[lag:lag + sent.size]
    return float(np.dot(seg, sent) / (np.linalg.norm(seg) * np.linalg.norm(sent)))


@pytest.mark.audio
def test_speakers_stop_cuts_at_once(pulse_env, recording_path):
    result, recording = _play_and_record(pulse_env, "stop", recording_path)
    marks = dict(result["marks"])
    assert result["pending"] == pytest.approx(2.1, abs=0.1)  # + the output buffer
    # the 2 s mark fired at the cut (as heard: after the 0.1 s output buffer), not 2 s later
    assert marks["end"] - marks["stopped"] < 0.25
    active = _active(recording)
    assert 0.25 < active.size / RATE < 0.6  # ~0.3 s played + the output buffer
    tail = active[-RATE // 200:]  # faded, not cut mid-wave at full amplitude
    assert np.max(np.abs(tail)) < 0.5


def test_no_device_is_one_line_that_suggests_out(monkeypatch):
    sd = pytest.importorskip("sounddevice")

    def no_devices(*_a, **_k):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", no_devices)
    with pytest.raises(NoAudioDevice) as err:
        open_sink(None, RATE)
    message = str(err.value)
    assert "\n" not in message and "--out file.wav" in message


def test_no_device_when_portaudio_finds_none(tmp_path):
    """PortAudio itself, on a machine without a sound card and no sound server in reach."""
    if glob.glob("/dev/snd/pcm*") or sys.platform != "linux":
        pytest.skip("this machine has a sound card; the unit test above covers the error")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "PIPEWIRE_"))}
    env.update(XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path))
    code = textwrap.dedent(
        """
        from yomiage.audio import NoAudioDevice, open_sink
        try:
            open_sink(None, 24000)
        except NoAudioDevice as exc:
            print("NoAudioDevice:", exc)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=30)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("NoAudioDevice:"), proc
    assert "--out file.wav" in lines[0]
