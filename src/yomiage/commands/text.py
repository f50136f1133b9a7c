"""`yomiage text [FILE|-]`: print the sentences that would be spoken (no models loaded)."""

from __future__ import annotations

import logging
import sys
from typing import BinaryIO, cast

import orjson

from yomiage.config import Config
from yomiage.text.events import read_lines
from yomiage.text.flow import iter_sentences, sentence_json
from yomiage.text.sanitize import sanitize

log = logging.getLogger(__name__)


def run_text(source: str, cfg: Config, as_json: bool = False) -> int:
    """`yomiage text FILE|-`: print the sentences that would be spoken, one per line.

    Each is printed (and flushed) as soon as the line completing it is read; clauses cut
    from a long sentence are printed as they come, on that sentence's line. With
    ``as_json``, one object per piece (see :func:`sentence_json`). Returns the exit code.
    """
    if source == "-" and sys.stdin.isatty():
        log.error("no stream on stdin: pipe one in (claude -p \"…\" --output-format "
                  "stream-json --verbose | yomiage text) or give a file")
        return 1
    try:
        stream = cast(BinaryIO, sys.stdin.buffer if source == "-" else open(source, "rb"))  # noqa: SIM115
    except OSError as exc:
        log.error("cannot read %s: %s", source, exc.strerror or exc)
        return 1
    out = sys.stdout
    try:
        for s in iter_sentences(read_lines(stream), cfg):
            text = sanitize(s.text)  # clean from the text half already; a last guard
            if as_json:
                obj = sentence_json(s)
                obj["text"] = text
                if s.message_id is not None:  # JSON escapes controls, not bidi overrides
                    obj["message_id"] = sanitize(s.message_id)
                out.write(orjson.dumps(obj).decode() + "\n")
            elif s.continues:  # a clause of a longer sentence: the rest follows on this line
                out.write(text + ("" if text[-1:] >= "\u3000" else " "))
            else:
                out.write(text + "\n")
            out.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0
