"""Shared by the end-to-end tests: the `retention` command as a subprocess, in a folder of its own."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb

MARTS = (
    "customer_periods", "retention", "revenue_churn", "cohort_retention", "retention_by_segment",
    "revenue_churn_by_segment", "churn_reasons", "customer_value", "unit_economics", "at_risk_customers",
    "customer_purchase_predictions", "subscription_survival", "customer_lifetime_value",
)


def retention(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], env=env, capture_output=True, text=True, timeout=900)


def pipeline_env(tmp: Path) -> dict[str, str]:
    """Every path the pipeline writes, under `tmp`, with a Dagster instance of its own in tmp/dagster_home."""
    (tmp / "dagster_home").mkdir(exist_ok=True)
    return {
        **os.environ,
        "RETENTION_LANDING_DIR": str(tmp / "landing"),
        "RETENTION_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "RETENTION_EXPORT_DIR": str(tmp / "exports"),
        "RETENTION_REPORT_PATH": str(tmp / "reports" / "retention_report.html"),
    }


def sample_and_run(tmp: Path, customers: int, seed: int) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    env = pipeline_env(tmp)
    generated = retention(["sample-data", "--customers", str(customers), "--seed", str(seed)], env)
    assert generated.returncode == 0, generated.stderr[-3000:]
    return env, retention(["run"], env)


def table_hashes(path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every mart's content."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*), coalesce(sum(hash(m)), 0) FROM marts.{t} m").fetchone() for t in MARTS
        }
