"""OpenJTalk (pyopenjtalk-plus): a small, very fast Japanese voice that needs no download."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yomiage.tts.ja_reading import japanese_reading
from yomiage.tts.ja_reading import preload as preload_reading
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions

SAMPLE_RATE = 48000


class OpenJTalkVoice(PhrasedVoice):
    """Japanese speech from pyopenjtalk's HTS voice (48 kHz)."""

    name = "openjtalk"
    language = "ja"
    sample_rate = SAMPLE_RATE

    def __init__(
        self, *, speed: float = 1.0, volume: float = 1.0, phrases: PhraseOptions | None = None
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        import pyopenjtalk

        self._pyopenjtalk = pyopenjtalk
        preload_reading()

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw 48 kHz audio for one phrase, scaled from int16 range to [-1, 1]; Latin words
        are read in katakana first (:func:`~yomiage.tts.ja_reading.japanese_reading`)."""
        wav, sr = self._pyopenjtalk.tts(japanese_reading(phrase), speed=self.speed)
        if sr != self.sample_rate:
            raise RuntimeError(f"pyopenjtalk returned {sr} Hz, expected {self.sample_rate}")
        return (np.asarray(wav, dtype=np.float32) / 32768.0).ravel()


def available() -> bool:
    """True when pyopenjtalk (pyopenjtalk-plus) can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyopenjtalk") is not None
