"""One small generated landing folder per density shared by the sample-data tests (generation is the slow part).

Every contract and determinism test runs on both profiles: the dense one must keep the same promises.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sample_data import GenerationSummary, generate
from tests.sample_data.small import SMALL


@pytest.fixture(scope="session", params=["standard", "dense"])
def landing(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp(f"landing-{request.param}")
    return out, generate(out, **SMALL, density=request.param)
