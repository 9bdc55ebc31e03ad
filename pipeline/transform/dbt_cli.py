"""The dbt CLI resource, minus two start-up costs this project pays for nothing.

Before every invocation dagster-dbt's `DbtCliResource.cli` (0.29) runs `dbt --version` in a subprocess (3 s: a
full dbt import) to learn the version, and loads the dbt project and its 546 macros in the Dagster process to
hold an adapter handle (1.5-4 s). The version is that of the `dbt-core` installed beside this interpreter, which
is the `dbt` it runs (`dbt_executable`); the adapter handle only serves dagster-dbt's optional row-count and
column-metadata fetches, which this project does not use (`table_facts.py` reads row counts itself). Together
that was about a tenth of a small run. `tests/transform/test_dbt_cli.py` fails if an upgrade of dagster-dbt
renames either hook, so the saving cannot silently disappear.

It also keeps each step's partial-parse file current (`refresh_partial_parse`): dagster-dbt copies
target/partial_parse.msgpack into an invocation's target path only when none is there yet, and every step here
keeps one fixed folder, so after the load-time `dbt parse` refreshed target/ (a new warehouse path changes the
vars) the build would start from its own older file and parse the whole project again (2-2.5 s at any size).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging.version import Version

# The hooks of DbtCliResource that this class replaces.
VERSION_HOOK = "_cli_version"
ADAPTER_HOOK = "_initialize_dbt_core_adapter"
PARTIAL_PARSE = "partial_parse.msgpack"


class DbtCli(DbtCliResource):
    """`DbtCliResource` that takes dbt's version from the installed package and holds no adapter handle."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli(self, args: Sequence[str], *, target_path: Path | None = None, **kwargs) -> DbtCliInvocation:
        """`DbtCliResource.cli`, starting from the project's partial-parse file when it is newer than the step's."""
        if target_path is not None:
            project_dir = Path(self.project_dir)
            refresh_partial_parse(project_target_path(project_dir), project_dir / target_path)
        return super().cli(args, target_path=target_path, **kwargs)


def project_target_path(project_dir: Path) -> Path:
    """target/ of the project, where `dbt parse` at load time writes (and where dagster-dbt copies from)."""
    return project_dir / os.environ.get("DBT_TARGET_PATH", "target")


def refresh_partial_parse(source_target: Path, step_target: Path) -> bool:
    """Copies source_target's partial_parse.msgpack over step_target's when it is newer or the step has none.

    Newer is right in both directions: the load-time parse rewrites target/ only when the project files or the
    vars changed, so a newer target/ file is the current parse; a newer step file was written by the step's last
    build, with the same vars as target/, and may already hold the window's re-parsed models. dbt itself checks
    the file's vars, profile and file hashes, so a wrong pick costs a full parse, never a wrong manifest.
    Returns whether it copied.
    """
    source, destination = source_target / PARTIAL_PARSE, step_target / PARTIAL_PARSE
    if source.resolve() == destination.resolve() or not source.exists():
        return False
    if destination.exists() and destination.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return True


def step_target_path(target_dir: Path, step_name: str) -> Path:
    """Where one step's dbt artifacts go: the same folder on every run, so the last run's `run_results.json` and
    logs are there to read, and target/ does not grow by a folder per invocation (dagster-dbt's default)."""
    return target_dir / "dagster" / step_name
