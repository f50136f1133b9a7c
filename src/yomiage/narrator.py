"""`yomiage [FILE|-]` and `yomiage demo`: load the engines, open the output, narrate.

The pieces other commands reuse (``load_engines``, ``open_output``, ``narrate_lines``)
live here too, so `yomiage run` and `yomiage bench` build the same pipeline.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, BinaryIO

from yomiage.audio.base import Sink
from yomiage.config import Config
from yomiage.pipeline import Pipeline, PipelineOptions, RunReport, sentences_from_lines
from yomiage.timeline import format_summary, write_timelines
from yomiage.translate.base import Translator
from yomiage.tts.base import Voice

log = logging.getLogger(__name__)

# Idle OpenMP threads sleep instead of spinning (unless the user chose otherwise): the
# translator and the voice share the cores, and spinning threads of one starve the other;
# on a busy 2-core machine, Marian-shape translation measured 1–30 s per sentence with
# spinning against 0.1–1 s without. Must be set before ctranslate2/torch are imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEMO_FALLBACK_WAV = "yomiage-demo.wav"
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
        return f"translation: {d.get('engine')}{model}{device}; voice: {self.voice.name}"


def lang_name(code: str) -> str:
    """English name of a language code ("ja" → "Japanese"), or the code itself."""
    return _LANG_NAMES.get(code, code)


def _load_voice(cfg: Config, lang: str) -> Voice:
    from yomiage.tts.registry import load_voice

    voice = load_voice(cfg, lang)
    voice.warmup()
    return voice


def load_engines(cfg: Config, *, degrade: bool = False) -> Engines:
    """Load and warm the translator and the voice in parallel.

    With ``degrade``, a missing translation model falls back to speaking the original
    text with a voice of the source language, and ``notes`` says so plainly. Raises
    EngineError with a one-line message otherwise.
    """
    from yomiage.models import ModelNotAvailable
    from yomiage.translate import load_translator

    started = time.perf_counter()
    notes: list[str] = []
    voice_lang = cfg.target_lang
    if cfg.translator == "none" or (degrade and _translation_missing(cfg)):
        voice_lang = cfg.source_lang  # the original text is spoken: its language's voice
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="yomiage-load") as pool:
        fut_t = pool.submit(load_translator, cfg)
        fut_v = pool.submit(_load_voice, cfg, voice_lang)
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
    target = cfg.target_lang
    if translator is None:
        from yomiage.translate.guard import PassthroughTranslator

        translator = PassthroughTranslator()
        target = cfg.source_lang
        try:
            if voice is None or voice_lang != cfg.source_lang:
                voice = _load_voice(replace(cfg, voice="auto"), cfg.source_lang)
        except Exception as exc:
            raise EngineError(f"{why}, and no {lang_name(cfg.source_lang)} voice either: "
                              f"{exc}") from None
        notes.append(f"{why}: speaking the original {lang_name(cfg.source_lang)} "
                     f"with {voice.name}")
    elif cfg.translator == "none":
        target = cfg.source_lang
    if voice is None:
        raise EngineError(f"no voice for {lang_name(voice_lang)}: {voice_error}")
    return Engines(translator, voice, time.perf_counter() - started, target, notes)


def _translation_missing(cfg: Config) -> bool:
    """True when the translation model is known not to be installed (a cheap check)."""
    from yomiage.models import ModelNotAvailable, resolve
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


def open_output(cfg: Config, sample_rate: int, *, demo: bool = False) -> tuple[Sink, str | None]:
    """The sink for ``cfg.out`` and the output actually used (a demo with no audio device
    writes ``yomiage-demo.wav`` instead and says so). Raises EngineError (one line)."""
    from yomiage.audio import NoAudioDevice, open_sink

    # The voices already apply cfg.volume; the sink must not apply it a second time.
    try:
        return open_sink(cfg.out, sample_rate, 1.0), cfg.out
    except NoAudioDevice as exc:
        if not demo:
            hint = "" if "--out" in str(exc) else "; write to a file with --out narration.wav"
            raise EngineError(f"{exc}{hint}") from None
        log.warning("no audio device: writing %s instead (choose with --out)",
                    DEMO_FALLBACK_WAV)
        try:
            return open_sink(DEMO_FALLBACK_WAV, sample_rate, 1.0), DEMO_FALLBACK_WAV
        except OSError as err:
            raise EngineError(f"cannot write {DEMO_FALLBACK_WAV}: {err}") from None
    except OSError as exc:
        raise EngineError(f"cannot open {cfg.out}: {exc}") from None


def is_realtime(out: str | None) -> bool:
    """True when ``out`` plays at the pace of speech (speakers, the timing sink)."""
    return out is None or out in ("", "timing")


def narrate_lines(lines: Iterable[Any], cfg: Config, engines: Engines, sink: Sink, *,
                  live: bool) -> RunReport:
    """Narrate stream lines (RawLine) through a fresh pipeline; returns its report."""
    from yomiage.textflow import TextFlow

    options = PipelineOptions.from_config(replace(cfg, target_lang=engines.target_lang), live)
    pipeline = Pipeline(options, engines.translator, engines.voice, sink)
    report = pipeline.run(sentences_from_lines(lines, TextFlow(cfg)))
    report.load_s = engines.load_s
    return report


def finish_report(report: RunReport, cfg: Config, engines: Engines, quiet: bool) -> int:
    """Write the timeline file, print the summary, and choose the exit code."""
    if cfg.timeline:
        try:
            write_timelines(cfg.timeline, report.timelines)
        except OSError as exc:
            log.error("cannot write the timeline to %s: %s", cfg.timeline, exc)
    if not quiet:
        sys.stderr.write(format_summary(report.timelines, report.load_s, report.wall_s,
                                        engines.summary_line()) + "\n")
    return 130 if report.interrupted else 0


def _is_regular_file(stream: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def run_narrate(source: str, cfg: Config, quiet: bool) -> int:
    """`yomiage [FILE|-]`: narrate a stream-json file or stdin; returns the exit code.

    Lag control and interruption apply to live playback of a stream (stdin that is not a
    regular file); a recorded file or any file output is narrated in full.
    """
    if source == "-" and sys.stdin.isatty():
        log.error("no stream on stdin: pipe one in (claude -p \"…\" --output-format "
                  "stream-json --verbose | yomiage), give a file, or try `yomiage demo`")
        return 2
    try:
        # stdin is read through a reader of our own on a duplicate descriptor: the reader
        # thread may still be blocked in it when Ctrl-C ends the run, and the interpreter
        # aborts at exit if sys.stdin's own buffer lock is held then.
        stream: BinaryIO = (open(os.dup(sys.stdin.fileno()), "rb") if source == "-"  # noqa: SIM115
                            else open(source, "rb"))  # noqa: SIM115
    except OSError as exc:
        log.error("cannot read %s: %s", source, exc.strerror or exc)
        return 2
    from yomiage.events import read_lines

    report: RunReport | None = None
    try:
        try:
            engines = load_engines(cfg)
            sink, out = open_output(cfg, engines.voice.sample_rate)
        except EngineError as exc:
            log.error("%s", exc)
            return 2
        live = is_realtime(out) and not _is_regular_file(stream)
        with sink:
            report = narrate_lines(read_lines(stream), cfg, engines, sink, live=live)
    finally:
        # After Ctrl-C the reader thread may still be blocked reading stdin: closing the
        # stream then would wait on its lock, and the process is about to exit anyway.
        if source != "-" or (report is not None and not report.interrupted):
            stream.close()
    return finish_report(report, cfg, engines, quiet)


def sample_session_path() -> Any:
    """The bundled demo session (a Traversable usable with ``open``)."""
    return resources.files("yomiage") / "data" / "sample_session.ndjson"


def run_demo(cfg: Config, quiet: bool, *, paced: bool = True) -> int:
    """`yomiage demo`: narrate the bundled session with whatever is installed.

    Only installed models are used (no download). Without a translation model the
    original English is spoken (and the fetch command is named); without an audio device
    the speech goes to ``yomiage-demo.wav`` in the current directory. ``paced``: the
    session's lines arrive at the pace an agent wrote them (~10 s), so the latencies in
    the report are a live listener's; otherwise all at once.
    """
    from yomiage.replay import replay

    try:  # installed models only: a demo never starts a large download
        engines = load_engines(replace(cfg, offline=True), degrade=True)
        sink, out = open_output(cfg, engines.voice.sample_rate, demo=True)
    except EngineError as exc:
        log.error("%s", exc)
        return 2
    if not quiet:
        for note in engines.notes:
            sys.stderr.write(f"yomiage: {note}\n")
        where = "the speakers" if out is None else out
        pace = "at an agent's pace" if paced else "all at once"
        sys.stderr.write(f"yomiage: demo: {engines.summary_line()}; output: {where} "
                         f"(models ready in {engines.load_s:.1f} s); the session "
                         f"arrives {pace}\n")
    lines = sample_session_path().read_bytes().splitlines()
    with sink:
        report = narrate_lines(replay(lines, realtime=paced), cfg, engines, sink, live=False)
    return finish_report(report, cfg, engines, quiet)
