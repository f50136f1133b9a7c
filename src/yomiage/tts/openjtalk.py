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
        are read in katakana first (:func:`~yomiage.tts.ja_reading.japanese_reading`).
        Empty for a phrase with nothing to say."""
        # HTS synthesizes the utterance's leading and trailing silence too (~0.25 + 0.33 s
        # of a ~1.5 s phrase), which phrase shaping then trims: leaving those two labels out
        # took the first chunk from 103 to 58 ms (P50, 52 sentences) and RTF from 0.080 to
        # 0.054, kana error rate heard by Whisper base 7.1 → 6.9 % (bench --stage listen).
        labels = without_edge_silence(
            self._pyopenjtalk.extract_fullcontext(japanese_reading(phrase)))
        if not labels:
            return np.zeros(0, np.float32)
        wav, sr = self._pyopenjtalk.synthesize(labels, speed=self.speed)
        if sr != self.sample_rate:
            raise RuntimeError(f"pyopenjtalk returned {sr} Hz, expected {self.sample_rate}")
        return (np.asarray(wav, dtype=np.float32) / 32768.0).ravel()


def available() -> bool:
    """True when pyopenjtalk (pyopenjtalk-plus) can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyopenjtalk") is not None


def without_edge_silence(labels: list[str]) -> list[str]:
    """The full-context labels without the utterance's leading and trailing ``sil``."""
    start = 1 if labels and "-sil+" in labels[0] else 0
    end = len(labels) - 1 if len(labels) > start and "-sil+" in labels[-1] else len(labels)
    return labels[start:end]

