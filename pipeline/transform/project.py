"""The dbt project as dagster-dbt sees it, with its manifest ready to read."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject


def dbt_executable() -> str:
    """dbt from this interpreter's environment, whether or not the virtualenv is activated."""
    return str(Path(sys.executable).with_name("dbt"))


def load_dbt_project(project_dir: Path, refresh: bool = False) -> DbtProject:
    """The DbtProject with a manifest.json on disk.

    The manifest is parsed under `dagster dev` (so model edits show on reload), when it is missing, or when
    `refresh` is asked for (the `retention` command does, so it never runs stale models). dagster-dbt's own
    preparer is not used: it looks for dbt on PATH, which an unactivated virtualenv does not provide, and runs
    `dbt deps`, which offline machines cannot.
    """
    project = DbtProject(project_dir=project_dir.resolve())
    if refresh or project.preparer.using_dagster_dev() or not project.manifest_path.exists():
        resource = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
        resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project
