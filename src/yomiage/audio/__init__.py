"""Where audio goes: speakers, a WAV file, raw PCM on stdout, or nowhere.

``open_sink`` turns the ``--out`` value into a :class:`~yomiage.audio.base.Sink`.
Every sink takes chunks of any sample rate (resampled with soxr where needed).
"""

from __future__ import annotations

from yomiage.audio.base import Sink
from yomiage.audio.null import NullSink, TimingSink
from yomiage.audio.speakers import NoAudioDevice

__all__ = ["NoAudioDevice", "NullSink", "Sink", "TimingSink", "open_sink"]


def open_sink(out: str | None, sample_rate: int, volume: float = 1.0) -> Sink:
    """The sink for ``out``: None = speakers, "-" = raw PCM on stdout, "null", "timing"
    (plays nothing at real-time pace), anything else = a WAV file path.

    ``sample_rate`` is the rate audio will mostly arrive at (the voice's): files and raw
    PCM are written at it; speakers use it when the device accepts it, else the
    device's own rate. Raises NoAudioDevice (speakers) or OSError (file).
    """
    if out is None or out == "":
        from yomiage.audio.speakers import SpeakersSink

        return SpeakersSink(sample_rate, volume=volume)
    if out == "-":
        from yomiage.audio.raw import RawPcmSink

        return RawPcmSink(sample_rate, volume=volume)
    if out == "null":
        return NullSink()
    if out == "timing":
        return TimingSink()
    from yomiage.audio.wav import WavSink

    return WavSink(out, sample_rate, volume=volume)
