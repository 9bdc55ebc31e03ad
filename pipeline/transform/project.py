"""The dbt project as dagster-dbt sees it: its manifest, and the vars every dbt invocation gets from the settings.

The manifest is parsed with the same vars as the builds, so that a build finds dbt's partial-parse state current.
It is parsed again only when a project file is newer than it (the make rule): `dbt parse` costs a dbt process,
and every process that loads the definitions (the CLI, `dagster dev`, each run it launches) needs the manifest.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipeline.settings import Settings

GENERATED = {"target", "logs", "dbt_packages"}


def dbt_vars(settings: Settings) -> dict[str, object]:
    """The vars of every dbt invocation, from the settings: constant for a deployment."""
    return {
        "warehouse_path": str(settings.warehouse.resolve()),
        "reporting_currency": settings.reporting_currency,
        "start": settings.start.isoformat(),
        "activity_window_days": settings.activity_window_days,
        "duckdb_memory_limit": settings.duckdb_memory_limit,
        "duckdb_threads": settings.duckdb_threads or os.cpu_count() or 1,
    }


def vars_args(settings: Settings) -> list[str]:
    return ["--vars", json.dumps(dbt_vars(settings), sort_keys=True)]


def dbt_executable() -> str:
    """dbt from this interpreter's environment, whether or not the virtualenv is activated."""
    return str(Path(sys.executable).with_name("dbt"))


def newest_source_mtime(project_dir: Path) -> int:
    """The newest modification time of the files dbt reads (models, macros, YAML, profiles)."""
    newest = 0
    for folder, subfolders, names in os.walk(project_dir):
        if Path(folder) == project_dir:
            subfolders[:] = [d for d in subfolders if d not in GENERATED]
        newest = max([newest, *((Path(folder) / name).stat().st_mtime_ns for name in names)])
    return newest


def prepare(project: DbtProject, args: list[str]) -> None:
    """Runs `dbt parse` when the manifest is missing or older than a project file; one process at a time."""
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime_ns >= newest_source_mtime(project.project_dir):
            return
        result = subprocess.run(
            [dbt_executable(), "parse", "--quiet", *args],
            cwd=project.project_dir,
            env={**os.environ, "DBT_TARGET_PATH": str(project.target_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {project.project_dir}:\n{result.stdout}{result.stderr}")


def load_dbt_project(settings: Settings) -> DbtProject:
    """The DbtProject with a current manifest.json."""
    project = DbtProject(project_dir=settings.dbt_project_dir.resolve())
    prepare(project, vars_args(settings))
    return project
