"""Fixtures shared across the end-to-end tests: one clean run of the sample, built once per session."""

from __future__ import annotations

import pytest

from tests.cli_runs import sample_and_run


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """`retention sample-data` (300 customers, seed 7) and `retention run` in a folder of their own: the clean
    build other tests compare with. Tests only read it (running again must change no mart)."""
    tmp = tmp_path_factory.mktemp("e2e")
    env, run = sample_and_run(tmp, customers=300, seed=7)
    return tmp, env, run
