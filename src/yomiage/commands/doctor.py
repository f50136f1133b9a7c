"""`yomiage voices`, `yomiage doctor` and `yomiage say`: what works here, and trying a voice.

Each check is a small function returning :class:`Check` rows; one that crashes becomes a
failed row of its own, so the doctor always finishes its report.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from yomiage.commands.voices import voice_rows
from yomiage.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    Attributes:
        name: what was checked.
        ok: True = works, False = a problem, None = information only.
        detail: what was found.
        fix: how to fix a problem (empty when ok).
        essential: a problem here means yomiage cannot speak at all.
    """

    name: str
    ok: bool | None
    detail: str
    fix: str = ""
    essential: bool = False


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- checks --------------------------------------------------------------------------
def check_python() -> list[Check]:
    """The interpreter and yomiage itself."""
    from yomiage import __version__

    return [Check("yomiage", None, f"{__version__} on Python {platform.python_version()} "
                                   f"({platform.system()} {platform.machine()})")]


def check_audio() -> list[Check]:
    """PortAudio and the audio output devices."""
    from yomiage.audio.speakers import NoAudioDevice, default_output, import_sounddevice

    try:
        sd = import_sounddevice()
    except NoAudioDevice:
        return [Check("PortAudio", False, "libportaudio is not installed",
                      "Debian/Ubuntu: sudo apt-get install libportaudio2; macOS: brew install "
                      "portaudio (or use --out file.wav)")]
    rows = [Check("PortAudio", True, str(sd.get_portaudio_version()[1]).split(",")[0])]
    try:
        info = default_output(sd)
    except NoAudioDevice:
        rows.append(Check("audio output", False, "no output device",
                          "use --out file.wav or --out - (raw PCM to a player); on a desktop, "
                          "start PulseAudio/PipeWire or check the sound card"))
        return rows
    outputs = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    rows.append(Check("audio output", True,
                      f"{info['name']} ({info['default_samplerate']:.0f} Hz, "
                      f"{len(outputs)} output device{'s' if len(outputs) != 1 else ''})"))
    return rows


def check_espeak() -> list[Check]:
    """The espeak-ng program (fallback voice and phonemizer)."""
    path = shutil.which("espeak-ng")
    if path is None:
        return [Check("espeak-ng", False, "not found",
                      "Debian/Ubuntu: sudo apt-get install espeak-ng; macOS: brew install "
                      "espeak-ng (or run scripts/system-deps.sh)")]
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        text = out.stdout.strip()
        detail = text.splitlines()[0].split("Data at")[0].strip() if text else path
    except (OSError, subprocess.SubprocessError) as exc:
        return [Check("espeak-ng", False, f"{path} does not run: {exc}", "reinstall espeak-ng")]
    return [Check("espeak-ng", True, detail)]


def check_runtimes() -> list[Check]:
    """onnxruntime, CTranslate2 and PyTorch, with the GPUs each of them can use."""
    rows: list[Check] = []
    try:
        import onnxruntime as ort

        rows.append(Check("onnxruntime", True, f"{ort.__version__}; providers: "
                          f"{', '.join(ort.get_available_providers())}"))
    except ImportError:
        rows.append(Check("onnxruntime", False, "not installed",
                          "pip install onnxruntime (voices need it)", essential=True))
    try:
        import ctranslate2

        cuda = ctranslate2.get_cuda_device_count()
        rows.append(Check("CTranslate2", True, f"{ctranslate2.__version__}; CUDA devices: {cuda}"))
    except ImportError:
        rows.append(Check("CTranslate2", False, "not installed",
                          "pip install ctranslate2 (translation needs it)"))
    rows.append(check_torch())
    rows.append(check_bf16())
    return rows


def check_bf16() -> Check:
    """Whether Kokoro's vocoder can run in bfloat16 here (OpenVINO + bf16 CPU units)."""
    name = "OpenVINO (Kokoro bf16)"
    version = _version("openvino")
    if version is None:
        return Check(name, None, "not installed: Kokoro runs in float32 (pip install openvino "
                     "for ~1.3x faster Kokoro on CPUs with AMX or AVX512-BF16)")
    from yomiage.tts.kokoro.split import bf16_cpu

    if bf16_cpu():
        return Check(name, True, f"{version}; this CPU computes in bfloat16: Kokoro's vocoder "
                     "runs in it (config cpu_bf16), for Japanese with its residual "
                     "convolutions in int8 (config cpu_int8)")
    return Check(name, None, f"{version}; this CPU has no bfloat16 units: Kokoro runs in float32")


def check_torch() -> Check:
    """PyTorch and its CUDA devices (optional: the GPU engines)."""
    version = _version("torch")
    if version is None:
        return Check("PyTorch (GPU engines)", None,
                     "not installed (only needed for the GPU engines: pip install "
                     "'yomiage[convert]')")
    try:
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(count))
    except Exception as exc:  # a broken CUDA set-up raises many kinds of errors
        return Check("PyTorch (GPU engines)", False, f"{version}: {exc}",
                     "reinstall torch for your CUDA version, or use --device cpu")
    gpus = f"CUDA devices: {count}" + (f" ({names})" if names else "")
    return Check("PyTorch (GPU engines)", None, f"{version}; {gpus}")


def check_translation(cfg: Config) -> list[Check]:
    """The translation model the configuration asks for is installed."""
    if cfg.translator == "none" or cfg.source_lang == cfg.target_lang:
        return [Check("translation", None, "off (translator none, or same language)")]
    from pathlib import Path

    from yomiage.models.manager import fetch_command, get_spec, installed_dir
    from yomiage.translate import model_name

    pair = f"{cfg.source_lang}→{cfg.target_lang}"
    rows = [cpu_engine_row(cfg)]
    try:
        name = model_name(cfg)
    except (ValueError, LookupError) as exc:
        return [*rows, Check(f"translation {pair}", False, str(exc),
                      "pick a model from `yomiage models list` with --model", essential=True)]
    if Path(name).expanduser().is_dir():
        return [*rows, Check(f"translation {pair}", True, f"local model {name}")]
    try:
        spec = get_spec(name)
    except ValueError as exc:
        return [*rows, Check(f"translation {pair}", False, str(exc),
                      "see `yomiage models list`", essential=True)]
    if spec.format == "bundled":
        from yomiage.translate.catalog import default_model

        better = default_model(cfg.source_lang, cfg.target_lang)
        return [*rows, Check(f"translation {pair}", True,
                             f"{name}, shipped in the package; {better} translates better: "
                             f"`{fetch_command(better)}`")]
    where = installed_dir(spec, cfg)
    if where is None:
        return [*rows, Check(f"translation {pair}", False, f"{name} is not downloaded",
                      f"`{fetch_command(name)}` (while online)", essential=True)]
    return [*rows, Check(f"translation {pair}", True, f"{name} ({spec.licence}) in {where}")]


def cpu_engine_row(cfg: Config) -> Check:
    """Which engine translates on the CPU, with how many threads."""
    from yomiage.translate import prefers_openvino
    from yomiage.translate.token_engine import default_threads

    threads = cfg.threads or default_threads()
    plural = "s" if threads > 1 else ""
    if prefers_openvino(cfg):
        if _version("openvino") is None:
            return Check("translation engine (CPU)", False, "translator=openvino, but "
                         "OpenVINO is not installed", "pip install openvino")
        return Check("translation engine (CPU)", None, f"OpenVINO, {threads} thread{plural}")
    why = " (OpenVINO takes over from 2 threads: config threads)" \
        if cfg.translator == "auto" and threads < 2 else ""
    return Check("translation engine (CPU)", None, f"CTranslate2, {threads} thread{plural}{why}")


def check_models(cfg: Config) -> list[Check]:
    """Which downloadable models are in the cache."""
    from yomiage.models.manager import catalog, installed_dir, models_root

    have = [name for name, spec in catalog().items()
            if spec.format != "bundled" and installed_dir(spec, cfg) is not None]
    where = models_root(cfg)
    detail = f"{len(have)} in {where}" + (f": {', '.join(sorted(have))}" if have else "")
    return [Check("models cached", None, detail)]


def check_voices(cfg: Config) -> list[Check]:
    """A voice is installed for the listener's language (the one --voice asks for)."""
    rows = voice_rows(cfg)
    if rows is None:
        return [Check("voices", False, "the voice registry is not available",
                      "reinstall yomiage", essential=True)]
    from yomiage.tts.registry import best_voice_name

    lang = cfg.target_lang
    mine = [r for r in rows if lang in r.languages and r.installed]
    engines = sorted({r.engine for r in rows if r.installed})
    try:
        best = best_voice_name(cfg, lang)
    except ValueError as exc:
        return [Check(f"voice for {lang}", False, str(exc),
                      f"`yomiage voices --lang {lang}` shows what to install; espeak-ng "
                      "speaks most languages", essential=True)]
    return [Check(f"voice for {lang}", True,
                  f"{best} ({len(mine)} installed for {lang}); engines: {', '.join(engines)}")]


def check_voice_speed(cfg: Config, run: bool = False) -> list[Check]:
    """Which voice keeps up on this machine (tts/calibrate.py): the cached calibration,
    or (``run``: ``yomiage doctor --calibrate``) a new one, for the listener's language."""
    from yomiage.tts import calibrate as cal_mod
    from yomiage.tts.registry import installed_voices, load_named

    lang = cfg.target_lang
    name = f"voice speed ({lang})"
    if not cfg.voice.strip().lower().startswith("auto"):
        return [Check(name, None, f"--voice {cfg.voice} is set: no choice by speed")]
    names = installed_voices(cfg, lang)
    engines = cal_mod.engines_in_order(names)
    if run:
        if not names:
            return [Check(name, False, "no installed voice to measure")]
        cal, _ = cal_mod.calibrate(cfg, lang, names, lambda n: load_named(cfg, lang, n),
                                   keep_if_loaded=True)
    else:
        found = cal_mod.load_cached(cfg, lang, engines)
        if found is None:
            return [Check(name, None, "not measured yet: measured once when a voice is first "
                          "chosen (or now: yomiage doctor --calibrate)")]
        cal = found
    chosen = cal_mod.rank(names, cal.rtf)[0] if names else "none"
    ok = any(cal_mod.keeps_up(v) for v in cal.rtf.values())
    return [Check(name, ok, f"auto speaks with {chosen}: {cal_mod.describe(cal)}",
                  "" if ok else "no voice keeps up with translation beside it: narration "
                  "may fall behind (lag control drops the oldest speech)")]


CHECKS: tuple[Callable[[Config], list[Check]], ...] = (
    lambda cfg: check_python(),
    lambda cfg: check_audio(),
    lambda cfg: check_espeak(),
    lambda cfg: check_runtimes(),
    check_models,
    check_translation,
    check_voices,
)


def collect(
    cfg: Config, checks: Iterable[Callable[[Config], list[Check]]] | None = None
) -> list[Check]:
    """Every check's rows (default: CHECKS); a check that crashes becomes one failed row."""
    rows: list[Check] = []
    for check in CHECKS if checks is None else checks:
        try:
            rows.extend(check(cfg))
        except Exception as exc:  # the doctor must always finish its report
            log.debug("check failed", exc_info=True)
            rows.append(Check(getattr(check, "__name__", "check"), False,
                              f"{type(exc).__name__}: {exc}"))
    return rows


def run_doctor(cfg: Config, calibrate: bool = False) -> int:
    """Print what works on this machine and how to fix the rest; 0 when yomiage can speak.

    ``calibrate``: measure again which voice keeps up here (a few seconds)."""
    from rich.console import Console
    from rich.table import Table

    # the speed check first: check_voices (last) then names the voice it chose
    rows = collect(cfg, [*CHECKS[:-1], lambda c: check_voice_speed(c, run=calibrate),
                         *CHECKS[-1:]])
    table = Table(title="yomiage doctor", show_lines=False)
    for col in ("check", "", "found", "fix"):
        table.add_column(col, overflow="fold")
    marks = {True: "[green]ok[/]", False: "[red]no[/]", None: "[dim]·[/]"}
    for r in rows:
        table.add_row(r.name, marks[r.ok], r.detail, r.fix)
    console = Console()
    console.print(table)
    broken = [r for r in rows if r.ok is False and r.essential]
    others = [r for r in rows if r.ok is False and not r.essential]
    if broken:
        console.print(f"[red]cannot speak yet:[/] fix {', '.join(r.name for r in broken)}")
        return 1
    extra = f" ({len(others)} optional problem{'s' if len(others) != 1 else ''})" if others else ""
    console.print(f"[green]essentials work[/]{extra}")
    return 0
