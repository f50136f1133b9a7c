"""Loading and warming the translator and the voice, together, with a plain fallback."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from yomiage.config import Config
from yomiage.translate.base import Translator
from yomiage.tts.base import Voice

log = logging.getLogger(__name__)

# Idle OpenMP threads sleep instead of spinning (unless the user chose otherwise): the
# translator and the voice share the cores, and spinning threads of one starve the other;
# on a busy 2-core machine, Marian-shape translation measured 1–30 s per sentence with
# spinning against 0.1–1 s without. Must be set before ctranslate2/torch are imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_LANG_NAMES = {"en": "English", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
               "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
               "pt": "Portuguese", "hi": "Hindi", "ar": "Arabic", "tr": "Turkish",
               "fa": "Persian", "ru": "Russian"}


class EngineError(RuntimeError):
    """An engine could not be loaded; the message is one line for the user."""


@dataclass
class Engines:
    """A loaded, warmed translator and voice, and what it took to get them."""

    translator: Translator
    voice: Voice
    load_s: float
    target_lang: str
    notes: list[str] = field(default_factory=list)
    """Plain sentences about what was used instead of what was asked for."""
    voice_note: str = ""
    """Why ``voice = auto`` passed over a better installed voice ("kokoro is too slow on
    this CPU (RTF 0.94); --voice kokoro to use it anyway"), or ""."""

    def describe(self) -> dict[str, Any]:
        """Engine, model and device of the translator, and the voice, for reports."""
        from yomiage.translate import describe

        info = dict(describe(self.translator))
        info["voice"] = self.voice.name
        info["voice_language"] = self.voice.language
        return info

    def summary_line(self) -> str:
        """One line naming the translator and voice."""
        d = self.describe()
        model = f" {d['model']}" if d.get("model") else ""
        device = f" on {d['device']}" if d.get("device") else ""
        note = f" — {self.voice_note}" if self.voice_note else ""
        return f"translation: {d.get('engine')}{model}{device}; voice: {self.voice.name}{note}"

    def voice_line(self) -> str:
        """The narrator's first line when ``auto`` passed over a better voice, else ""."""
        return f"voice: {self.voice.name} — {self.voice_note}" if self.voice_note else ""


def lang_name(code: str) -> str:
    """English name of a language code ("ja" → "Japanese"), or the code itself."""
    return _LANG_NAMES.get(code, code)


def load_warm_voice(cfg: Config, lang: str, *, warm: Callable[[], bool] | None = None) -> Voice:
    """The configured voice for ``lang``, loaded and warmed up — unless ``warm`` (asked
    once the voice is loaded) says no: a caller with speech already waiting skips the
    warm-up, whose one-time costs the first real phrase pays anyway."""
    from yomiage.tts.registry import load_voice

    voice = load_voice(cfg, lang)
    if warm is None or warm():
        voice.warmup()
    return voice


def load_engines(cfg: Config, *, degrade: bool = False,
                 warm: Callable[[], bool] | None = None) -> Engines:
    """Load and warm the translator and the voice in parallel.

    With ``degrade``, a missing translation model falls back to speaking the original
    text with a voice of the source language, and ``notes`` says so plainly. Raises
    EngineError with a one-line message otherwise. ``warm``: see :func:`load_warm_voice`.
    """
    from yomiage.models.spec import ModelNotAvailable
    from yomiage.translate import load_translator

    started = time.perf_counter()
    notes: list[str] = []
    voice_lang = cfg.target_lang
    if cfg.translator == "none" or (degrade and _translation_missing(cfg)):
        voice_lang = cfg.source_lang  # the original text is spoken: its language's voice
    # Not a `with` block: after Ctrl-C it would wait for the models to finish loading.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="yomiage-load")
    try:
        fut_t = pool.submit(load_translator, cfg)
        if _will_calibrate(cfg, voice_lang):  # time the voices on a CPU the load leaves
            wait([fut_t])
        fut_v = pool.submit(load_warm_voice, cfg, voice_lang, warm=warm)
        try:
            translator = fut_t.result()
        except ModelNotAvailable as exc:
            if not degrade:
                raise EngineError(str(exc)) from None
            translator = None
            why = (f"no {cfg.source_lang}→{cfg.target_lang} translation model is installed "
                   f"(fetch one with `{exc.fetch_command}`)")
        except (ValueError, RuntimeError, OSError) as exc:
            if not degrade:
                raise EngineError(f"cannot load the translator: {exc}") from None
            translator = None
            why = f"the translator could not be loaded ({exc})"
        voice: Voice | None = None
        voice_error = ""
        try:
            voice = fut_v.result()
        except Exception as exc:  # any engine failure becomes one line
            voice_error = str(exc)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    target = cfg.target_lang
    if translator is None:
        from yomiage.translate.guard import PassthroughTranslator

        translator = PassthroughTranslator()
        target = cfg.source_lang
        try:
            if voice is None or voice_lang != cfg.source_lang:
                voice = load_warm_voice(replace(cfg, voice="auto"), cfg.source_lang)
        except Exception as exc:
            raise EngineError(f"{why}, and no {lang_name(cfg.source_lang)} voice either: "
                              f"{exc}") from None
        notes.append(f"{why}: speaking the original {lang_name(cfg.source_lang)} "
                     f"with {voice.name}")
    elif cfg.translator == "none":
        target = cfg.source_lang
    if voice is None:
        raise EngineError(f"no voice for {lang_name(voice_lang)}: {voice_error}")
    return Engines(translator, voice, time.perf_counter() - started, target, notes,
                   _voice_note(cfg, voice))


def _will_calibrate(cfg: Config, lang: str) -> bool:
    """True when loading the voice will first time the installed voices (tts/calibrate.py):
    then the translator loads first, so that its loading does not slow the measurement."""
    from yomiage.tts.registry import needs_calibration

    try:
        return needs_calibration(cfg, lang)
    except (ValueError, OSError):
        return False


def _voice_note(cfg: Config, voice: Voice) -> str:
    """Why ``auto`` chose ``voice`` (tts/registry.voice_note); "" when that cannot be told."""
    from yomiage.tts.registry import voice_note

    try:
        return voice_note(cfg, voice.language, voice.name)
    except (ValueError, OSError) as exc:
        log.debug("no note on the voice choice: %s", exc)
        return ""


def _translation_missing(cfg: Config) -> bool:
    """True when the translation model is known not to be installed (a cheap check)."""
    from yomiage.models.manager import resolve
    from yomiage.models.spec import ModelNotAvailable
    from yomiage.translate import model_name

    if cfg.translator == "none" or cfg.source_lang == cfg.target_lang:
        return False
    try:
        resolve(model_name(cfg), cfg, download=False)
    except ModelNotAvailable:
        return True
    except (ValueError, OSError):
        return False
    return False
