"""Live playback through PortAudio (sounddevice), gapless, with marks from the audio clock."""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import ModuleType
from typing import Any

import numpy as np

from yomiage.audio.convert import ChunkResampler, Samples
from yomiage.audio.lifecycle import DrainOrStopOnExit
from yomiage.audio.marks import MarkCallback, MarkClock
from yomiage.audio.ring import PlaybackBuffer
from yomiage.records import AudioChunk

log = logging.getLogger(__name__)

HINT = "use --out file.wav to write a WAV file, or --out - to pipe raw PCM to a player"


class NoAudioDevice(RuntimeError):
    """There is no usable audio output (no PortAudio, no device, or it failed to open)."""


_ALSA_HANDLER: Any = None  # keeps the ctypes callback alive


def _route_alsa_messages() -> None:
    """Send libasound's own messages ("underrun occurred", probing noise) to our debug
    log instead of the user's terminal. Does nothing where ALSA is absent."""
    global _ALSA_HANDLER
    if _ALSA_HANDLER is not None or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("asound")
        if name is None:
            return
        lib = ctypes.CDLL(name)
        # void handler(const char *file, int line, const char *func, int err, const char *fmt, ...)
        proto = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_char_p)

        def handler(file: bytes, line: int, func: bytes, err: int, fmt: bytes) -> None:
            log.debug("ALSA %s: %s", func.decode(errors="replace") if func else "?",
                      fmt.decode(errors="replace") if fmt else "")

        _ALSA_HANDLER = proto(handler)
        lib.snd_lib_error_set_handler(_ALSA_HANDLER)
    except (OSError, AttributeError):
        log.debug("could not install an ALSA message handler", exc_info=True)


def import_sounddevice() -> ModuleType:
    """The sounddevice module, or NoAudioDevice when PortAudio cannot be loaded."""
    _route_alsa_messages()
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise NoAudioDevice(
            f"PortAudio is not installed ({exc}); install libportaudio2, or {HINT}"
        ) from None
    return sounddevice


def default_output(sd: ModuleType, device: int | str | None = None) -> dict[str, Any]:
    """The output device's info dict; NoAudioDevice when there is none."""
    try:
        info = sd.query_devices(device, kind="output")
    except (sd.PortAudioError, ValueError) as exc:
        log.debug("PortAudio: %s", exc)
        raise NoAudioDevice(f"no audio output device found; {HINT}") from None
    if not info or int(info.get("max_output_channels", 0)) < 1:
        raise NoAudioDevice(f"no audio output device found; {HINT}")
    return dict(info)


def choose_rate(sd: ModuleType, device: int, wanted: int, channels: int) -> int:
    """``wanted`` when the device takes it (no resampling), else the device's default rate."""
    try:
        sd.check_output_settings(device=device, samplerate=wanted, channels=channels,
                                 dtype="float32")
        return int(wanted)
    except (sd.PortAudioError, ValueError):
        info = sd.query_devices(device)
        return round(float(info["default_samplerate"]))


class SpeakersSink(DrainOrStopOnExit):
    """Plays chunks on an audio device as they arrive, without gaps between them.

    Chunks are resampled to the device rate (soxr, streaming), scaled by ``volume``,
    and queued in a ring read by PortAudio's callback. Marks fire when the audio
    written before them reaches the loudspeaker (the callback's DAC time).

    ``latency`` is the device buffer in seconds. The callback is Python and needs the
    GIL, so a very small buffer underflows (audible gaps) when other threads keep the
    interpreter busy; 50 ms held up in tests on a loaded 2-core machine.
    """

    def __init__(
        self,
        sample_rate: int,
        volume: float = 1.0,
        device: int | str | None = None,
        latency: float | str = 0.05,
        capacity_seconds: float = 32.0,
    ) -> None:
        sd = import_sounddevice()
        info = default_output(sd, device)
        index = int(info["index"])
        channels = 1
        try:
            sd.check_output_settings(device=index, channels=1, dtype="float32")
        except (sd.PortAudioError, ValueError):
            channels = min(2, int(info["max_output_channels"]))
        self.rate = choose_rate(sd, index, sample_rate, channels)
        self.name = f"speakers:{info['name']}"
        self.underflows = 0
        self._channels = channels
        self._clock = MarkClock()
        self._buffer = PlaybackBuffer(self.rate, self._clock, capacity_seconds)
        self._resampler = ChunkResampler(self.rate, volume)
        self._generation = 0
        self._reset_resampler = False
        self._dead_warned = False
        self._scratch: Samples = np.zeros(8192, dtype=np.float32)
        try:
            self._stream = sd.OutputStream(
                device=index, samplerate=self.rate, channels=channels, dtype="float32",
                latency=latency, callback=self._callback,
            )
            self._latency = float(self._stream.latency)
            self._stream.start()
        except sd.PortAudioError as exc:
            self._clock.close()
            raise NoAudioDevice(f"cannot open audio output {info['name']!r} ({exc}); {HINT}") \
                from None
        log.debug("playing on %s at %d Hz, %d ch, latency %.1f ms", info["name"], self.rate,
                  channels, self._latency * 1000)

    # -- PortAudio thread --------------------------------------------------------
    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.underflows += 1
        now = time.perf_counter()
        lat = float(time_info.outputBufferDacTime) - float(time_info.currentTime)
        if not 0.0 <= lat < 1.0:  # some host APIs report no DAC time
            lat = self._latency
        if self._scratch.size < frames:
            self._scratch = np.zeros(frames, dtype=np.float32)
        block = self._scratch[:frames]
        self._buffer.render(block, now + lat)
        outdata[:] = block[:, None]

    # -- Sink --------------------------------------------------------------------
    def write(self, chunk: AudioChunk) -> None:
        """Queue ``chunk``; blocks only while the ring (32 s) is full."""
        if self._reset_resampler:
            self._reset_resampler = False
            self._resampler.reset()
        self._queue(self._resampler.push(chunk))

    def _queue(self, samples: Samples) -> None:
        if not samples.size:
            return
        generation = self._generation

        if not self._stream.active:
            if not self._dead_warned:
                self._dead_warned = True
                log.warning("the audio stream has stopped; audio is being dropped")
            return

        def cancelled() -> bool:
            return generation != self._generation or not self._stream.active

        self._buffer.write(np.clip(samples, -1.0, 1.0), cancelled=cancelled)

    def mark(self, callback: MarkCallback) -> None:
        """Call ``callback(t)`` when all audio written so far has been heard."""
        self._queue(self._resampler.flush())
        self._buffer.add_mark(callback)

    def pending_seconds(self) -> float:
        """Seconds until everything written so far has been heard."""
        return self._buffer.pending_seconds()

    def drain(self) -> None:
        """Block until everything written so far has been heard."""
        done = threading.Event()
        self.mark(lambda _t: done.set())
        while not done.wait(0.1):
            if not self._stream.active:
                log.warning("audio stream stopped before playback finished")
                self._buffer.cut_now()
                break
        self._clock.wait_idle(1.0)

    def stop(self) -> None:
        """Drop queued audio and fade out within a few milliseconds."""
        self._generation += 1
        self._reset_resampler = True
        self._buffer.cut()
        if not self._stream.active or not self._buffer.wait_cut(0.5):
            self._buffer.cut_now()

    def close(self) -> None:
        """Stop the device stream and run any marks still waiting."""
        if self.underflows:
            log.debug("%s: %d output underflows", self.name, self.underflows)
        try:
            self._stream.stop()
            self._stream.close()
        finally:
            self._buffer.cut_now()
            self._clock.close(run_pending=True)
