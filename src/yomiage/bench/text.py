"""Benchmark of the text half: reading + parsing + narration + speech text + segmentation.

``bench_text(None, repeat)`` builds a stream of about 40 MB (~100k events) by repeating
fixture 09 (each copy gets its own message and tool ids), runs it through ``TextFlow``
from memory on one core, and reports µs per event and MB/s of thread CPU time (this machine's cores
are shared and noisy; wall time is reported too). Per-event time is measured
over batches of :data:`BATCH` lines (timer overhead would dominate single events):
``us_per_event_p50``/``p95`` are percentiles over batches of (batch time / lines). The
baseline measured in the same run is ``orjson.loads`` on every line alone, the floor of
any reader.
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from yomiage.config import Config
from yomiage.text.events import RawLine, read_lines
from yomiage.text.flow import TextFlow

BATCH = 1000
TARGET_BYTES = 40 * 1024 * 1024
FIXTURE = "09_long_session.ndjson"


def find_fixture(name: str = FIXTURE) -> Path:
    """A shared fixture file (YOMIAGE_FIXTURES, ./shared, ../shared beside the repo)."""
    roots = [os.environ.get("YOMIAGE_FIXTURES", ""), "shared/fixtures", "../shared/fixtures",
             str(Path(__file__).resolve().parents[3] / "shared" / "fixtures"),
             str(Path(__file__).resolve().parents[2] / "shared" / "fixtures")]
    for r in roots:
        if r and (Path(r) / name).is_file():
            return Path(r) / name
    raise FileNotFoundError(f"fixture {name} not found; set YOMIAGE_FIXTURES or pass a file")


def make_big_stream(target_bytes: int = TARGET_BYTES, source: Path | None = None) -> bytes:
    """Fixture 09 repeated to ``target_bytes``, ids made unique per copy."""
    base = (source or find_fixture()).read_bytes()
    if not base.endswith(b"\n"):
        base += b"\n"
    copies = max(1, target_bytes // len(base))
    parts = []
    for k in range(copies):
        tag = f"{k:06d}".encode()
        parts.append(base.replace(b'"msg_01', b'"msg_' + tag).replace(b'"toolu_01',
                                                                      b'"toolu_' + tag))
    return b"".join(parts)


def _pin_one_core() -> int | None:
    try:
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def _run_flow(data: bytes) -> tuple[list[float], float, float, int, int]:
    flow = TextFlow(Config())
    batches: list[float] = []
    clock = time.thread_time
    wall = time.perf_counter()
    sentences = 0
    n = 0
    lines = read_lines(io.BytesIO(data))
    t_all = clock()
    while True:
        t0 = clock()
        k = 0
        for raw in lines:
            sentences += len(flow.feed(raw))
            k += 1
            if k == BATCH:
                break
        dt = clock() - t0
        if k:
            batches.append(dt / k * 1e6)
            n += k
        if k < BATCH:
            break
    sentences += len(flow.finish())
    return batches, clock() - t_all, time.perf_counter() - wall, n, sentences


def _run_baseline(data: bytes) -> float:
    loads = orjson.loads
    t0 = time.thread_time()
    for raw in read_lines(io.BytesIO(data)):
        try:  # noqa: SIM105 - contextlib.suppress would add its own cost to the baseline
            loads(raw.data)
        except orjson.JSONDecodeError:
            pass
    return time.thread_time() - t0


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def bench_text(path: str | None = None, repeat: int = 3) -> dict[str, Any]:
    """Measure the text half on ``path`` (or a generated ~40 MB stream); JSON-serialisable."""
    data = Path(path).read_bytes() if path else make_big_stream()
    cpu = _pin_one_core()
    runs = []
    for _ in range(max(1, repeat)):
        base = _run_baseline(data)
        batches, total, wall, n, sentences = _run_flow(data)
        runs.append((total, batches, n, sentences, base, wall))
    total, batches, n, sentences, base, wall = min(runs, key=lambda r: r[0])
    mb = len(data) / 1e6
    return {
        "stage": "text",
        "input": path or f"generated from {FIXTURE}",
        "bytes": len(data),
        "events": n,
        "sentences": sentences,
        "repeat": len(runs),
        "us_per_event_p50": round(statistics.median(batches), 3),
        "us_per_event_p95": round(_pct(batches, 0.95), 3),
        "us_per_event_mean": round(total / n * 1e6, 3),
        "mb_per_s": round(mb / total, 1),
        "cpu_seconds": round(total, 3),
        "wall_seconds": round(wall, 3),
        "all_runs_cpu_seconds": [round(r[0], 3) for r in runs],
        "baseline": "orjson.loads of every line (read_lines included)",
        "baseline_seconds": round(base, 3),
        "baseline_mb_per_s": round(mb / base, 1),
        "ratio_vs_baseline": round(total / base, 2),
        "goal": {"us_per_event_p50": 20.0, "mb_per_s": 50.0},
        "batch_lines": BATCH,
        "cpu_pinned": cpu,
        "python": platform.python_version(),
        "machine": _cpu_name(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


__all__ = ["RawLine", "bench_text", "make_big_stream"]
