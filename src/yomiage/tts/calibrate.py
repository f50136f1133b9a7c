"""Which voice keeps up on this machine: a short calibration, once, cached.

``voice = auto`` speaks, per language, with the best installed voice that this machine
runs at a real-time factor (synthesis time / audio time) of at most :data:`RTF_LIMIT`
while translation runs beside it. Kokoro sounds best but on a small CPU without
bfloat16 units it may synthesize barely faster than it speaks (RTF ~0.9 on a 2-core
AVX2 VM), and live narration then falls behind; OpenJTalk or Piper keep up anywhere.

The calibration loads the installed engines in preference order (Kokoro > Piper >
OpenJTalk > espeak-ng), streams two short sentences with each while one core is kept
busy (the translator's share: the pipeline translates sentence N+1 while the voice
speaks N), and stops at the first engine that keeps up, which is then used (already
loaded and warm). It costs a few seconds (:data:`BUDGET_S` of synthesis at most, model
loading aside) once: the result is kept in ``<cache_dir>/voice-calibration.json``,
keyed by yomiage's version, the CPU, the cores this process may use and the settings
that change a voice's speed, and reused until one of them or the set of installed
engines changes. ``yomiage doctor --calibrate`` runs it again.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from yomiage.config import Config
from yomiage.tts.base import Voice

log = logging.getLogger(__name__)

RTF_LIMIT = 0.5
"""The slowest real-time factor a voice may have to be chosen by ``auto``: half the
CPU time left to translation and everything else."""
BUDGET_S = 10.0
"""Most seconds of synthesis one calibration spends (loading models aside)."""
FILE = "voice-calibration.json"
TEXTS: dict[str, tuple[str, str]] = {
    "ja": ("まず、設定ファイルを読み込みます。", "テストはすべて成功しました。"),
    "en": ("First, we read the configuration file.", "All of the tests pass now."),
}


def engine_of(name: str) -> str:
    """The engine of a --voice name ("kokoro:jf_alpha" → "kokoro")."""
    return name.split(":", 1)[0].strip().lower()


def engines_in_order(names: Sequence[str]) -> list[str]:
    """The engines of ``names`` (best first), each once."""
    out: list[str] = []
    for name in names:
        if engine_of(name) not in out:
            out.append(engine_of(name))
    return out


def machine_key(cfg: Config) -> str:
    """What a measured speed depends on: yomiage's version, the CPU, the usable cores
    and the settings that change how fast a voice runs."""
    from yomiage import __version__

    model, flags = "unknown CPU", set[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name") and model == "unknown CPU":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        import platform

        model = platform.processor() or platform.machine()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    bf16 = "bf16" if {"avx512_bf16", "amx_bf16"} & flags else "nobf16"
    return (f"yomiage {__version__}|{model}|{cores} cores|{bf16}|cpu_bf16={cfg.cpu_bf16}|"
            f"cpu_int8={cfg.cpu_int8}|threads={cfg.threads}|device={cfg.device}|"
            f"speed={cfg.speed}")


@dataclass
class Calibration:
    """One language's measured voice speeds on this machine."""

    lang: str
    key: str
    engines: list[str]
    """The installed engines at calibration time, best first."""
    rtf: dict[str, float | None] = field(default_factory=dict)
    """Engine → real-time factor with a core busy; None = it could not load. Engines
    after the first that keeps up are not measured (absent)."""
    seconds: float = 0.0
    """Wall time of the calibration, model loading included."""
    synth_seconds: float = 0.0
    """Time spent synthesizing (the part bounded by BUDGET_S)."""
    date: str = ""
    load_per_core: float = 0.0
    """The 1-minute load average per usable core when it started (above 1, other work
    competed for the CPU and the figures are pessimistic)."""


def state_path(cfg: Config) -> Path:
    """Where calibrations are kept (the user's cache folder)."""
    return Path(cfg.cache_dir).expanduser() / FILE


def _read_all(cfg: Config) -> dict[str, dict[str, object]]:
    path = state_path(cfg)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring the voice calibration in %s (%s)", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


_THIS_RUN: dict[tuple[str, str], Calibration] = {}
"""Calibrations made by this process, also those not cached (a busy machine)."""


def load_cached(cfg: Config, lang: str, engines: Sequence[str] | None = None) -> Calibration | None:
    """The cached calibration for ``lang`` on this machine (or one this process made),
    or None when there is none, it was made by another version/CPU/setting, or
    (``engines`` given) for another set of installed engines."""
    cal = _THIS_RUN.get((str(state_path(cfg)), lang))
    if cal is None:
        raw = _read_all(cfg).get(lang)
        if not isinstance(raw, dict):
            return None
        try:
            cal = Calibration(**raw)  # type: ignore[arg-type]
        except TypeError:
            return None
    if cal.key != machine_key(cfg):
        return None
    if engines is not None and list(engines) != list(cal.engines):
        return None
    return cal


def save(cfg: Config, cal: Calibration) -> None:
    """Keep ``cal`` (atomically; a cache that cannot be written is one warning)."""
    path = state_path(cfg)
    data = _read_all(cfg)
    data[cal.lang] = asdict(cal)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot keep the voice calibration in %s (%s)", path, exc)


def forget(cfg: Config) -> None:
    """Drop every cached calibration (the next ``auto`` choice measures again)."""
    for key in [k for k in _THIS_RUN if k[0] == str(state_path(cfg))]:
        del _THIS_RUN[key]
    state_path(cfg).unlink(missing_ok=True)


def keeps_up(rtf: float | None, limit: float = RTF_LIMIT) -> bool:
    """True when a measured real-time factor is within ``limit``."""
    return rtf is not None and rtf <= limit


def rank(names: Sequence[str], rtf: Mapping[str, float | None],
         limit: float = RTF_LIMIT) -> list[str]:
    """``names`` (best first) in the order ``auto`` tries them: the voices whose engine
    keeps up or was not measured, in their order; then the too-slow ones, fastest
    first; engines that could not load last."""
    def slow(name: str) -> bool:
        return engine_of(name) in rtf and not keeps_up(rtf[engine_of(name)], limit)

    fine = [n for n in names if not slow(n)]
    late = sorted((n for n in names if slow(n)),
                  key=lambda n: (rtf[engine_of(n)] is None, rtf[engine_of(n)] or 0.0))
    return fine + late


def choice_note(chosen: str, names: Sequence[str], rtf: Mapping[str, float | None],
                limit: float = RTF_LIMIT) -> str:
    """Why ``chosen`` and not a better installed engine, for the narrator's first line
    ("kokoro is too slow on this CPU (RTF 0.94); --voice kokoro to use it anyway"), or
    "" when it is the best one installed."""
    better = engines_in_order(names)
    better = better[:better.index(engine_of(chosen))] if engine_of(chosen) in better else []
    parts: list[str] = []
    for engine in better:
        value = rtf.get(engine)
        if engine in rtf and value is None:
            parts.append(f"{engine} could not load")
        elif value is not None and value > limit:
            parts.append(f"{engine} is too slow on this CPU (RTF {value:.2f}); "
                         f"--voice {engine} to use it anyway")
    own = rtf.get(engine_of(chosen))
    if parts and own is not None and own > limit:
        parts.append(f"no installed voice keeps up here; {engine_of(chosen)} is the "
                     f"fastest (RTF {own:.2f})")
    return "; ".join(parts)


@contextmanager
def busy_core() -> Iterator[None]:
    """Keep one core busy (a spinning child process) for the duration: the share of the
    CPU that translation takes while the voice speaks."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def measure_rtf(voice: Voice, texts: Sequence[str], budget_s: float,
                limit: float = RTF_LIMIT) -> tuple[float, float]:
    """(real-time factor, seconds spent) of streaming ``texts`` with ``voice``.

    Stops early, chunk by chunk, once at least :data:`DECIDE_AUDIO_S` of audio is in and
    the factor is far from ``limit`` (beyond ±:data:`DECIDE_MARGIN`×), or once
    ``budget_s`` is spent: a voice three times too slow costs about one phrase.
    """
    spent = audio = 0.0
    for text in texts:
        t0 = time.perf_counter()
        stream = voice.stream(text)
        try:
            for chunk in stream:
                audio += chunk.duration
                now = spent + time.perf_counter() - t0
                if now >= budget_s or (audio >= DECIDE_AUDIO_S and _decided(now / audio, limit)):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        spent += time.perf_counter() - t0
        if spent >= budget_s or (audio >= DECIDE_AUDIO_S and _decided(spent / audio, limit)):
            break
    if audio <= 0.0:
        raise RuntimeError(f"{voice.name} produced no audio")
    return spent / audio, spent


DECIDE_AUDIO_S = 0.5
"""Audio after which a clear verdict ends a voice's measurement."""
DECIDE_MARGIN = 1.5
"""A factor this many times above the limit, or below it, is a clear verdict."""


def _decided(rtf: float, limit: float) -> bool:
    return rtf > limit * DECIDE_MARGIN or rtf < limit / DECIDE_MARGIN


def calibrate(
    cfg: Config, lang: str, names: Sequence[str], load: Callable[[str], Voice], *,
    budget_s: float = BUDGET_S, limit: float = RTF_LIMIT, busy: bool = True,
    keep_if_loaded: bool = False,
) -> tuple[Calibration, Voice | None]:
    """Measure the engines of ``names`` (installed voices, best first) in order until
    one keeps up; return the calibration with that voice, loaded by ``load`` and warm
    (None when none keeps up: the caller then loads the fastest, per :func:`rank`).
    ``busy``: keep a core busy meanwhile (:func:`busy_core`). The result is cached,
    unless other work already loaded the machine (load average above the cores) and
    not ``keep_if_loaded``: such figures serve this run only, and the next first use
    measures again."""
    started = time.perf_counter()
    texts = TEXTS.get(lang, TEXTS["en"])
    cal = Calibration(lang, machine_key(cfg), engines_in_order(names),
                      date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      load_per_core=round(load_per_core(), 2))
    chosen: Voice | None = None
    with busy_core() if busy else nullcontext():
        for engine in cal.engines:
            name = next(n for n in names if engine_of(n) == engine)
            try:
                voice = load(name)
                voice.warmup()
                left = max(0.0, budget_s - cal.synth_seconds)
                rtf, spent = measure_rtf(voice, texts, left / 2, limit)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                log.warning("voice calibration: %s could not run (%s)", name, exc)
                cal.rtf[engine] = None
                continue
            cal.synth_seconds += spent
            cal.rtf[engine] = round(rtf, 3)
            log.info("voice calibration (%s): %s RTF %.2f", lang, engine, rtf)
            if keeps_up(rtf, limit):
                chosen = voice
                break
    cal.seconds = round(time.perf_counter() - started, 2)
    cal.synth_seconds = round(cal.synth_seconds, 2)
    _THIS_RUN[(str(state_path(cfg)), lang)] = cal
    if cal.load_per_core <= 1.0 or keep_if_loaded:
        save(cfg, cal)
    else:
        log.warning("voice calibration: the machine was busy (load %.1f per core), so the "
                    "choice holds for this run only; `yomiage doctor --calibrate` keeps one",
                    cal.load_per_core)
    return cal, chosen


def load_per_core() -> float:
    """The 1-minute load average divided by the usable cores (0 where unknown)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        return os.getloadavg()[0] / max(1, cores)
    except OSError:
        return 0.0


def describe(cal: Calibration, limit: float = RTF_LIMIT) -> str:
    """One line for ``yomiage doctor``: each measured engine's RTF and the choice."""
    parts = []
    for engine in cal.engines:
        if engine not in cal.rtf:
            continue
        value = cal.rtf[engine]
        verdict = "could not load" if value is None else \
            f"RTF {value:.2f} ({'keeps up' if value <= limit else 'too slow'})"
        parts.append(f"{engine} {verdict}")
    return (f"{', '.join(parts) or 'nothing measured'}; one core busy, limit {limit}; "
            f"{cal.seconds:.1f} s ({cal.synth_seconds:.1f} s synthesis) on {cal.date}, "
            f"load {cal.load_per_core:.1f} per core")
