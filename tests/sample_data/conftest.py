"""One small generated landing folder shared by the sample-data tests (generation is the slow part)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sample_data import GenerationSummary, generate
from tests.sample_data.small import SMALL


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("landing")
    return out, generate(out, **SMALL)
