"""The sample workspace that the end-to-end tests share: 300 generated customers built once per session, the
sample's last day held back (bench/nightly.py), so a test can land it as the next night's files. Dense business
(docs/sample-data.md), so that the BG/NBD model has dropouts to fit and every at-risk reason can occur."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.nightly import hold_back, last_day
from tests.cli_runs import Workspace, sample_workspace


@dataclass(frozen=True)
class Sample:
    workspace: Workspace  # built: every quarter with data, through the day before the last
    held: Path  # the last day's daily files, in landing sub-folders
    held_files: list[str]  # their landing-relative paths
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Sample:
    tmp = tmp_path_factory.mktemp("sample")
    workspace = sample_workspace(tmp / "workspace", customers=300, seed=7, density="dense")
    held = tmp / "held"
    files = hold_back(workspace.landing, held, last_day(workspace.landing))
    run = workspace.run("run")
    assert run.returncode == 0, run.stderr[-5000:]
    return Sample(workspace, held, files, run.stdout, run.stderr)
