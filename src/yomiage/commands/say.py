"""`yomiage say "text"`: speak one line with the best voice for its language."""

from __future__ import annotations

import logging
import sys
import time

from yomiage.config import Config
from yomiage.early import sigint_ends_process

log = logging.getLogger(__name__)


def run_say(text: str, cfg: Config, lang: str | None = None) -> int:
    """Speak ``text`` (no translation) with the best voice for ``lang`` into ``cfg.out``."""
    from yomiage.audio import NoAudioDevice, open_sink

    text = text.strip()
    if not text:
        print("yomiage: say: nothing to say (the text is empty)", file=sys.stderr)
        return 2
    lang = lang or cfg.target_lang
    try:
        from yomiage.tts.registry import load_voice

        t0 = time.perf_counter()
        with sigint_ends_process():  # Ctrl-C while the voice loads: at once
            voice = load_voice(cfg, lang)
        loaded = time.perf_counter() - t0
    except ImportError:
        print("yomiage: say: the voice registry is not available", file=sys.stderr)
        return 1
    except (ValueError, LookupError, RuntimeError, OSError) as exc:
        print(f"yomiage: say: {exc}", file=sys.stderr)
        return 1
    # Voices built from cfg already apply cfg.volume; do not apply it twice.
    gain = 1.0 if getattr(voice, "volume", None) == cfg.volume else cfg.volume
    try:
        sink = open_sink(cfg.out, voice.sample_rate, gain)
    except NoAudioDevice as exc:
        print(f"yomiage: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"yomiage: cannot write {cfg.out}: {exc}", file=sys.stderr)
        return 1
    seconds = 0.0
    first: float | None = None
    t0 = time.perf_counter()
    try:
        with sink:
            for chunk in voice.stream(text):
                if first is None:
                    first = time.perf_counter() - t0
                sink.write(chunk)
                seconds += chunk.duration
    except OSError as exc:  # a full disk, a closed pipe
        print(f"yomiage: cannot write the audio to {sink.name}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    log.info("%s: loaded in %.2f s, first audio after %.0f ms, %.2f s of audio",
             voice.name, loaded, (first or 0.0) * 1000, seconds)
    if cfg.out not in (None, "", "-", "null", "timing"):
        print(f"yomiage: wrote {cfg.out} ({seconds:.2f} s, {voice.name})", file=sys.stderr)
    return 0
