"""The dbt CLI resource, minus two start-up costs this project pays for nothing.

Before every invocation dagster-dbt's `DbtCliResource.cli` (0.29) runs `dbt --version` in a subprocess (3 s: a
full dbt import) to learn the version, and loads the dbt project and its 546 macros in the Dagster process to
hold an adapter handle (1.5-4 s). The version is that of the `dbt-core` installed beside this interpreter, which
is the `dbt` it runs (`dbt_executable`); the adapter handle only serves dagster-dbt's optional row-count and
column-metadata fetches, which this project does not use (`table_facts.py` reads row counts itself). Together
that was about a tenth of a small run. `tests/transform/test_dbt_cli.py` fails if an upgrade of dagster-dbt
renames either hook, so the saving cannot silently disappear.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging.version import Version

# The hooks of DbtCliResource that this class replaces.
VERSION_HOOK = "_cli_version"
ADAPTER_HOOK = "_initialize_dbt_core_adapter"


class DbtCli(DbtCliResource):
    """`DbtCliResource` that takes dbt's version from the installed package and holds no adapter handle."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def step_target_path(target_dir: Path, step_name: str) -> Path:
    """Where one step's dbt artifacts go: the same folder on every run, so the last run's `run_results.json` and
    logs are there to read, and target/ does not grow by a folder per invocation (dagster-dbt's default)."""
    return target_dir / "dagster" / step_name
