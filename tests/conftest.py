"""Shared fixtures. Tiny translation models are built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiny_models import FAMILIES, build_tiny


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """family → (Transformers checkpoint dir, CTranslate2 dir) for marian, m2m and nllb."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {family: build_tiny(family, root / family) for family in FAMILIES}
