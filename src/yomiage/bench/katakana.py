"""Compare English→katakana libraries on a hand-written word list.

``python -m yomiage.bench.katakana`` reads ``data/katakana_eval.tsv`` (English words a
coding assistant uses, each with the katakana a Japanese developer says, written by
hand) and reports, per installed library: exact matches, matches ignoring long-vowel
marks (サーバ = サーバー), mean character error rate, time per word, and installed size.
It is how :mod:`yomiage.tts.ja_reading` chose its fallback library. It also times
:func:`~yomiage.tts.ja_reading.japanese_reading` per benchmark sentence (the speed goal:
≤ 2 ms P50 added to the text half).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from yomiage.bench.listen import edit_distance

Converter = Callable[[str], str]


def eval_words() -> list[tuple[str, str]]:
    """(word, hand-written reading) pairs from the packaged list, duplicates dropped."""
    text = (resources.files("yomiage") / "data" / "katakana_eval.tsv").read_text("utf-8")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, reading = line.split("\t")
            pairs.setdefault(word.strip(), reading.strip())
    return list(pairs.items())


def converters() -> dict[str, tuple[Converter, str]]:
    """The installed candidate libraries: name → (converter, package folder)."""
    found: dict[str, tuple[Converter, str]] = {}
    if importlib.util.find_spec("e2k"):
        import e2k

        c2k, turbo = e2k.C2K(), e2k.C2K(model="turbo")
        found["e2k C2K"] = (c2k, e2k.__file__)
        found["e2k C2K turbo"] = (turbo, e2k.__file__)
    if importlib.util.find_spec("kanalizer"):
        import kanalizer

        found["kanalizer"] = (lambda w: kanalizer.convert(w, on_incomplete="ignore"),
                              kanalizer.__file__)
    if importlib.util.find_spec("alkana"):
        import alkana

        found["alkana"] = (lambda w: alkana.get_kana(w) or "", alkana.__file__)
    return found


def _size_mb(package_file: str) -> float:
    folder = Path(package_file).parent
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def compare(words: list[tuple[str, str]]) -> list[dict[str, object]]:
    """One row per installed library: accuracy on ``words``, speed, size."""
    rows: list[dict[str, object]] = []
    for name, (convert, package_file) in converters().items():
        convert(words[0][0])  # load and warm
        exact = loose = errors = chars = 0
        misses: list[str] = []
        t0 = time.perf_counter()
        outputs = [convert(w) for w, _ in words]
        per_word_ms = (time.perf_counter() - t0) * 1000 / len(words)
        for (word, ref), got in zip(words, outputs, strict=True):
            exact += got == ref
            loose += got.replace("ー", "") == ref.replace("ー", "")
            errors += edit_distance(ref, got)
            chars += len(ref)
            if got.replace("ー", "") != ref.replace("ー", ""):
                misses.append(f"{word}→{got or '∅'}")
        rows.append({"library": name, "words": len(words), "exact": exact / len(words),
                     "loose": loose / len(words), "cer": errors / chars,
                     "ms_per_word": per_word_ms, "size_mb": _size_mb(package_file),
                     "misses": misses})
    return rows


def reading_speed(texts: list[str]) -> dict[str, float]:
    """Milliseconds :func:`japanese_reading` adds per sentence: P50/P95/max with empty
    caches (every new word goes to the library) and P50 once its words are cached."""
    from yomiage.tts import ja_reading

    ja_reading.preload()  # the dictionary and the library, as a voice's warm-up does
    ja_reading.word_reading.cache_clear()

    def timed() -> list[float]:
        out = []
        for text in texts:
            t0 = time.perf_counter()
            ja_reading.japanese_reading(text)
            out.append((time.perf_counter() - t0) * 1000)
        return sorted(out)

    cold, warm = timed(), timed()
    return {"sentences": len(texts), "cold_p50_ms": cold[len(cold) // 2],
            "cold_p95_ms": cold[int(len(cold) * 0.95)], "cold_max_ms": cold[-1],
            "warm_p50_ms": warm[len(warm) // 2]}


def main(argv: list[str] | None = None) -> None:
    """Print the comparison as a markdown table (or JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = compare(eval_words())
    from yomiage.bench.listen import sentences

    speed = reading_speed(sentences("ja"))
    if args.json:
        print(json.dumps({"libraries": rows, "reading": speed}, ensure_ascii=False, indent=1))
        return
    print("| library | exact | ignoring ー | CER | ms/word | size MB |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['library']} | {r['exact']:.3f} | {r['loose']:.3f} | {r['cer']:.3f} | "
              f"{r['ms_per_word']:.3f} | {r['size_mb']:.1f} |")
    for r in rows:
        misses = r["misses"]
        assert isinstance(misses, list)
        print(f"{r['library']} misses ({len(misses)}): {', '.join(misses)}")
    print("japanese_reading per sentence (listen_ja.txt): " + ", ".join(
        f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in speed.items()))


if __name__ == "__main__":
    main()
