"""Opening the sink that ``--out`` names, with the demo's fallback to a WAV file."""

from __future__ import annotations

import logging
import os

from yomiage.audio.base import Sink
from yomiage.config import Config
from yomiage.narrate.engines import EngineError
from yomiage.safe_io import same_file

log = logging.getLogger(__name__)

DEMO_FALLBACK_WAV = "yomiage-demo.wav"

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


def outputs_over_input(source: os.stat_result, cfg: Config) -> list[str]:
    """The flags (``--out``, ``--timeline``) that name the file being read, which
    writing would destroy: the same path, a symlink to it or a hard link."""
    named = {"--out": cfg.out if cfg.out not in (None, "", "-", "null", "timing") else None,
             "--timeline": cfg.timeline}
    return [flag for flag, path in named.items() if path and same_file(source, path)]


def is_realtime(out: str | None) -> bool:
    """True when ``out`` plays at the pace of speech (speakers, the timing sink)."""
    return out is None or out in ("", "timing")
