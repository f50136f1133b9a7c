"""Where the shared narrator fixtures live (../shared/fixtures beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"


def fixtures_dir() -> Path:
    """The fixtures folder, or skip the test with the reason when it is absent."""
    candidates = [os.environ.get("YOMIAGE_FIXTURES", ""), REPO.parent / "shared" / "fixtures",
                  REPO / "shared" / "fixtures"]
    for c in candidates:
        if c and (Path(c) / "SCHEMA.md").is_file():
            return Path(c)
    pytest.skip("shared fixtures not found at ../shared/fixtures (set YOMIAGE_FIXTURES)")


def fixture(name: str) -> Path:
    """Path of one fixture file, e.g. fixture("08_hostile_input.ndjson")."""
    return fixtures_dir() / name


def expected(stem: str) -> list[str]:
    """Expected sentences: our reviewed copy in tests/golden if any, else the fixture's."""
    ours = GOLDEN / f"{stem}.expected.txt"
    path = ours if ours.is_file() else fixture(f"{stem}.expected.txt")
    return path.read_text(encoding="utf-8").splitlines()
