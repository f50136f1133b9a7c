"""`yomiage voices [--lang LANG]`: engines, voices and languages, installed or not."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from yomiage.config import Config

if TYPE_CHECKING:
    from yomiage.tts.registry import VoiceInfo

log = logging.getLogger(__name__)


def voice_rows(cfg: Config) -> list[VoiceInfo] | None:
    """Every voice the registry knows, or None when the registry cannot be imported."""
    try:
        from yomiage.tts.registry import list_voices
    except ImportError:
        log.debug("no voice registry", exc_info=True)
        return None
    return list(list_voices(cfg))


def run_voices(cfg: Config, lang: str | None = None) -> int:
    """Print engines, voices, languages and what is installed (only ``lang``'s when given)."""
    from rich.console import Console
    from rich.table import Table

    rows = voice_rows(cfg)
    if rows is None:
        print("yomiage: the voice registry is not available", file=sys.stderr)
        return 1
    if lang:
        rows = [r for r in rows if lang in r.languages or "*" in r.languages]
        if not rows:
            print(f"yomiage: no voice speaks {lang!r}; see `yomiage voices`", file=sys.stderr)
            return 1
    table = Table(title=f"voices{' for ' + lang if lang else ''} (--voice takes the first column)")
    table.add_column("voice", no_wrap=True)
    for col in ("languages", "installed", "licence", "notes"):
        table.add_column(col, overflow="fold")
    order = {name: i for i, name in enumerate(("kokoro", "piper", "openjtalk", "espeak"))}
    for r in sorted(rows, key=lambda r: (not r.installed, order.get(r.engine, 9))):
        langs = " ".join(r.languages)
        if len(r.languages) > 6:
            langs = f"{len(r.languages)}: {' '.join(r.languages[:5])} …"
        table.add_row(r.voice, langs, "[green]yes[/]" if r.installed else "[dim]no[/]",
                      r.licence, r.notes)
    Console().print(table)
    return 0
