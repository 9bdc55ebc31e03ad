"""Shared by the end-to-end tests: the `retention` command as a subprocess, in a folder of its own.

A workspace is one folder holding everything a deployment writes (landing folder, warehouse, its dbt state,
serving file, exports, report, Dagster home). Tests that change a workspace work on a clone of the session's
sample workspace (tests/conftest.py), so the suite builds the sample once.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The published dbt marts, then the Python value tables.
DBT_MARTS = (
    "customer_periods", "retention", "revenue_churn", "cohort_retention", "retention_by_segment",
    "revenue_churn_by_segment", "churn_reasons", "customer_value", "unit_economics", "customer_contacts",
)
MARTS = (*DBT_MARTS, "at_risk_customers", "customer_purchase_predictions", "subscription_survival",
         "customer_lifetime_value")


def retention(args: list[str], env: dict[str, str], **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, capture_output=True, text=True,
                          timeout=900, **popen)


def pipeline_env(tmp: Path) -> dict[str, str]:
    """Every path the pipeline writes, under `tmp`, with a Dagster instance of its own in tmp/dagster_home."""
    (tmp / "dagster_home").mkdir(parents=True, exist_ok=True)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RETENTION_")},
        "RETENTION_LANDING_DIR": str(tmp / "landing"),
        "RETENTION_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "RETENTION_SERVING_FILE": str(tmp / "serving.duckdb"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "RETENTION_EXPORT_DIR": str(tmp / "exports"),
        "RETENTION_REPORT_PATH": str(tmp / "reports" / "retention_report.html"),
    }


@dataclass(frozen=True)
class Workspace:
    path: Path
    env: dict[str, str]

    @property
    def warehouse(self) -> Path:
        return self.path / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.path / "serving.duckdb"

    @property
    def landing(self) -> Path:
        return self.path / "landing"

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return retention(list(args), {**self.env, **env})

    def clone(self, path: Path, landing_only: bool = False) -> "Workspace":
        """A copy of this workspace at `path` (only its landing folder with `landing_only`: a fresh build)."""
        if landing_only:
            shutil.copytree(self.landing, path / "landing")
        else:
            shutil.copytree(self.path, path)
        return Workspace(path, pipeline_env(path))


def sample_workspace(path: Path, customers: int, seed: int, density: str = "standard") -> Workspace:
    workspace = Workspace(path, pipeline_env(path))
    generated = workspace.run("sample-data", "--customers", str(customers), "--seed", str(seed), "--density", density)
    assert generated.returncode == 0, generated.stderr[-3000:]
    return workspace


def sample_and_run(tmp: Path, customers: int, seed: int) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    workspace = sample_workspace(tmp, customers, seed)
    return workspace.env, workspace.run("run")


def table_hashes(path, tables=MARTS) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every mart's content."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*), coalesce(sum(hash(m)), 0) FROM marts.{t} m").fetchone() for t in tables
        }
