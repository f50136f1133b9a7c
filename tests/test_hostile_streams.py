"""Every hostile stream class: the good sentences around it are spoken, nothing raises,
warnings stay few, nothing printed can drive a terminal (see tests/hostile_streams.py)."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.hostile_streams import CLASSES, REPLAY_INDEX, good, sandwich

from yomiage.config import Config
from yomiage.text.events import read_lines
from yomiage.text.flow import iter_sentences

NAMES = sorted(CLASSES)
MAX_WARNINGS = 15
_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_the_corpus_has_at_least_sixty_classes() -> None:
    assert len(CLASSES) >= 60


@pytest.mark.parametrize("name", NAMES)
def test_hostile_class_is_survived(name: str, caplog: pytest.LogCaptureFixture) -> None:
    k = NAMES.index(name)
    data = sandwich(name)
    with caplog.at_level(logging.WARNING, "yomiage"):
        t = time.perf_counter()
        got = [s.text for s in iter_sentences(read_lines(io.BytesIO(data)),
                                               Config(tools="brief"))]
        took = time.perf_counter() - t
    before, after = good("before", k), good("after", k)
    assert before in got and after in got, got[:5]
    assert got.index(before) < got.index(after)
    assert got.count(before) == 1  # the replay class replays this very line
    assert len(caplog.records) <= MAX_WARNINGS, [r.getMessage() for r in caplog.records][:20]
    for s in got:
        assert _BAD.search(s) is None, repr(s)
        assert len(s) <= 200
    assert took < 10.0, took  # typically well under a second; a 17 MB line included


@pytest.mark.slow
def test_yomiage_text_survives_every_class_end_to_end(tmp_path: Path) -> None:
    """The real command, one process, all classes in a row."""
    path = tmp_path / "hostile.ndjson"
    with path.open("wb") as fh:
        for name in NAMES:
            fh.write(sandwich(name))
    done = subprocess.run([sys.executable, "-c", "import sys; from yomiage.cli import main; "
                           "sys.exit(main())", "text", "--tools", "brief", str(path)],
                          capture_output=True, timeout=300)
    assert done.returncode == 0
    out = done.stdout.decode()
    err = done.stderr.decode()
    assert "Traceback" not in err
    lines = out.splitlines()
    survived = [n for k, n in enumerate(NAMES)
                if good("before", k) in lines and good("after", k) in lines]
    assert survived == NAMES
    assert lines.count(good("before", REPLAY_INDEX)) == 1
    assert _BAD.search(out) is None and _BAD.search(err.replace("\n", "")) is None
    assert len(err.splitlines()) <= MAX_WARNINGS * 3, err[-3000:]
