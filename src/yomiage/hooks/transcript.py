"""This turn's reply from a Claude Code transcript, for ``Stop`` payloads without
``last_assistant_message`` (older versions).

Claude Code writes the transcript asynchronously: at ``Stop`` the last line may still be
the previous turn's. So the reader does not take the last line; it reads the entries
written after this turn's prompt (the byte offset the ``UserPromptSubmit`` hook saw, else
the last real prompt in the file) and waits, up to ``timeout`` seconds, until an
assistant entry with text has appeared there and the file has been quiet for ``quiet``
seconds. The reply is the text of the last assistant message (all its text blocks, in
order) of the main thread (subagents' sidechains are skipped).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from yomiage.text.bad_lines import BadLines
from yomiage.text.events import AssistantMessage, RawLine, TextBlock, UserMessage, parse_line

log = logging.getLogger(__name__)

MAX_READ = 64 * 1024 * 1024
"""Bytes of a transcript read at most (the tail, when it is larger)."""


def file_size(path: str | Path) -> int | None:
    """The size of ``path`` now, or None when it cannot be read."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _scan(data: bytes) -> tuple[str | None, int]:
    """(the last main-thread assistant message's text after the last prompt in ``data``,
    the number of lines seen)."""
    text_by_msg: dict[str, list[str]] = {}
    last: str | None = None
    n = 0
    bad = BadLines()  # a transcript of bad lines gets a few warnings, not one a line
    for n, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        ev = parse_line(RawLine(n, line, 0.0), bad)
        if ev is not None and bad.in_run:
            bad.good()
        if isinstance(ev, UserMessage):
            if ev.prompt and not ev.subagent and not ev.meta and not ev.compact_summary:
                text_by_msg.clear()  # a new turn: what came before is not this reply
                last = None
        elif isinstance(ev, AssistantMessage) and not ev.subagent:
            texts = [b.text for b in ev.blocks if isinstance(b, TextBlock) and b.text.strip()]
            if not texts:
                continue
            key = ev.message_id or f"line{n}"
            if key != last:
                text_by_msg[key] = []
            text_by_msg[key].extend(texts)
            last = key
    bad.finish()
    if last is None:
        return None, n
    return "\n\n".join(text_by_msg[last]), n


def wait_for_reply(path: str | Path, after: int | None = None, *, timeout: float = 5.0,
                   quiet: float = 0.3, poll: float = 0.05,
                   clock: Callable[[], float] = time.monotonic) -> str | None:
    """This turn's reply text from the transcript at ``path`` (see the module docstring),
    or None when none appears within ``timeout`` seconds or the file cannot be read."""
    deadline = clock() + timeout
    p = Path(path)
    last_size = -1
    quiet_since = clock()
    found: str | None = None
    while True:
        size = file_size(p)
        now = clock()
        if size is not None and size != last_size:
            last_size, quiet_since = size, now
            start = after if after is not None and 0 <= after <= size else 0
            start = max(start, size - MAX_READ)
            try:
                with p.open("rb") as f:
                    f.seek(start)
                    data = f.read(size - start)
            except OSError as exc:
                log.info("cannot read the transcript %s: %s", p, exc)
                return None
            found, _ = _scan(data)
        if found is not None and now - quiet_since >= quiet:
            return found
        if now >= deadline:
            if found is None:
                log.info("no reply for this turn appeared in %s within %.1f s", p, timeout)
            return found
        time.sleep(poll)


__all__ = ["file_size", "wait_for_reply"]
