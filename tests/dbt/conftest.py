"""Fixtures that build the dbt project against a throw-away DuckDB warehouse filled with synthetic raw data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import load_settings
from pipeline.transform.project import dbt_vars
from tests.dbt.synthetic import build_dataset, write_warehouse

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"


def _dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


@dataclass
class DbtProject:
    """One warehouse file plus private target and log folders, so parallel test runs never collide."""

    warehouse: Path
    work_dir: Path

    @property
    def vars(self) -> dict[str, object]:
        """The vars the pipeline passes, from the default settings, for this warehouse."""
        return dbt_vars(load_settings(warehouse=self.warehouse))

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True, **extra_vars: object):
        """`dbt <args>` on this warehouse; `env` adds environment variables, `check=False` returns a failed run."""
        variables = {**self.vars, **extra_vars}
        command = [
            _dbt_executable(),
            "--no-use-colors",
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(self.work_dir / "target"),
            "--log-path",
            str(self.work_dir / "logs"),
            "--vars",
            json.dumps(variables),
        ]
        result = subprocess.run(
            command, cwd=REPO, env={**_env(), **(env or {})}, capture_output=True, text=True, timeout=600
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def run_windows(self, windows: list[tuple[str, str]]) -> None:
        """`dbt run -s tag:partitioned` once per (window_start, window_end), parsing once (see run_windows.py)."""
        settings = self.work_dir / "windows.json"
        settings.write_text(
            json.dumps(
                {
                    "project_dir": str(PROJECT_DIR),
                    "work_dir": str(self.work_dir),
                    "vars": self.vars,
                    "windows": windows,
                }
            )
        )
        script = Path(__file__).with_name("run_windows.py")
        result = subprocess.run(
            [sys.executable, str(script), str(settings)],
            cwd=REPO,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise AssertionError(f"windowed runs failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}")


def _env() -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


def make_project(tmp_path: Path, **dataset_options: bool) -> DbtProject:
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, build_dataset(**dataset_options))
    return DbtProject(warehouse=warehouse, work_dir=tmp_path)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> tuple[DbtProject, subprocess.CompletedProcess]:
    project = make_project(tmp_path_factory.mktemp("full"))
    result = project.run("build")
    return project, result


@pytest.fixture(scope="session")
def con(built_project):
    project, _ = built_project
    connection = duckdb.connect(str(project.warehouse), read_only=True)
    yield connection
    connection.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]
