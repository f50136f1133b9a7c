"""`yomiage translate [TEXT|FILE|-]`: translate text line by line with the configured
engine and model, printing one translation a line, each as soon as it is ready."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from yomiage.config import Config


def source_lines(source: str, stdin: TextIO | None = None) -> Iterator[str]:
    """The lines to translate: stdin for ``-``, an existing file's lines, else ``source``
    itself (its own lines). Read lazily, so a pipe is translated as it arrives."""
    if source == "-":
        for line in stdin or sys.stdin:
            yield line.rstrip("\r\n")
        return
    path = Path(source)
    if "\n" not in source and path.is_file():
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                yield line.rstrip("\r\n")
        return
    yield from source.splitlines()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def translate_lines(lines: Iterable[str], cfg: Config, out: TextIO, *,
                    as_json: bool = False) -> int:
    """Translate each line of ``lines`` into ``out`` (an empty line stays empty); returns
    the exit code. With ``as_json`` each line is a JSON object with its timing, and a last
    object sums up (engine, load time, P50/P95)."""
    from yomiage.models.spec import ModelNotAvailable
    from yomiage.translate import describe, load_translator

    started = time.perf_counter()
    try:
        translator = load_translator(cfg)
    except ModelNotAvailable as exc:
        print(f"yomiage: translate: {exc}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError, OSError, ImportError) as exc:
        print(f"yomiage: translate: cannot load the translator: {exc}", file=sys.stderr)
        return 1
    load_s = time.perf_counter() - started
    times: list[float] = []
    for number, line in enumerate(lines, 1):
        t0 = time.perf_counter()
        text = translator.translate(line, cfg.source_lang, cfg.target_lang) \
            if line.strip() else ""
        ms = (time.perf_counter() - t0) * 1000
        if line.strip():
            times.append(ms)
        if as_json:
            out.write(json.dumps({"line": number, "source": line, "translation": text,
                                  "ms": round(ms, 2)}, ensure_ascii=False) + "\n")
        else:
            out.write(text + "\n")
        out.flush()
    if as_json:
        summary = {"summary": {**describe(translator), "load_s": round(load_s, 3),
                               "lines": len(times),
                               "p50_ms": round(_percentile(times, 0.5), 2),
                               "p95_ms": round(_percentile(times, 0.95), 2)}}
        out.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
        out.flush()
    return 0


def run_translate(source: str, cfg: Config, *, as_json: bool = False) -> int:
    """The `yomiage translate` command on stdout."""
    try:
        return translate_lines(source_lines(source), cfg, sys.stdout, as_json=as_json)
    except OSError as exc:
        print(f"yomiage: translate: cannot read {source}: {exc}", file=sys.stderr)
        return 2
