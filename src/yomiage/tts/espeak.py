"""espeak-ng: the last-resort voice, robotic but small and fast, for ~100 languages.

Run as the ``espeak-ng`` program (GPL-3.0, so kept out of this process); it writes a WAV
to stdout that is read here.
"""

from __future__ import annotations

import functools
import struct
import subprocess

import numpy as np
import numpy.typing as npt

from yomiage.tts.en_reading import english_reading
from yomiage.tts.ipa import espeak_program
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions

BASE_WPM = 175  # espeak-ng's default rate in words per minute
# ISO 639-1 → espeak-ng voice where the two differ.
VOICE_FOR = {"en": "en-us", "zh": "cmn", "pt": "pt-br", "fr": "fr-fr", "ja": "ja", "no": "nb"}


@functools.lru_cache(maxsize=1)
def espeak_languages() -> frozenset[str]:
    """Language and voice names espeak-ng knows (empty when it is not installed)."""
    exe = espeak_program()
    if exe is None:
        return frozenset()
    try:
        out = subprocess.run([exe, "--voices"], capture_output=True, text=True, timeout=10,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 2:
            names.add(cols[1])
            names.add(cols[1].split("-")[0])
    return frozenset(names)


def espeak_voice_for(lang: str) -> str:
    """The espeak-ng voice for an ISO 639-1 code (or an espeak voice name, unchanged)."""
    return VOICE_FOR.get(lang, lang)


class EspeakVoice(PhrasedVoice):
    """One espeak-ng voice."""

    sample_rate = 22050

    def __init__(
        self,
        lang: str,
        *,
        speed: float = 1.0,
        volume: float = 1.0,
        phrases: PhraseOptions | None = None,
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        exe = espeak_program()
        if exe is None:
            raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
        self._exe = exe
        self.espeak_voice = espeak_voice_for(lang)
        known = espeak_languages()
        if known and self.espeak_voice not in known:
            raise ValueError(f"espeak-ng has no voice for {lang!r}")
        self.language = lang.split("-")[0]
        self.name = f"espeak:{self.espeak_voice}"

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw audio for one phrase from ``espeak-ng --stdout``."""
        wpm = max(80, min(450, round(BASE_WPM * self.speed)))
        if self.language == "en":
            phrase = english_reading(phrase)
        try:
            proc = subprocess.run(
                [self._exe, "--stdout", "-v", self.espeak_voice, "-s", str(wpm), "--", phrase],
                capture_output=True, check=True, timeout=30,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"espeak-ng failed: {exc}") from exc
        return read_wav_bytes(proc.stdout, self.sample_rate)


def read_wav_bytes(data: bytes, expected_rate: int) -> npt.NDArray[np.float32]:
    """Mono int16 WAV bytes → float32; the sizes in espeak-ng's streamed header are ignored."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not write a WAV stream")
    pos, rate, bits, channels = 12, 0, 0, 0
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, pos + 8)
            pos += 8 + size
        elif tag == b"data":
            pos += 8
            break
        else:
            pos += 8 + size
    if rate != expected_rate or bits != 16 or channels != 1:
        raise RuntimeError(f"unexpected espeak-ng output: {rate} Hz, {bits} bit, {channels} ch")
    body = data[pos:]
    pcm = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2")
    return pcm.astype(np.float32) / 32768.0
