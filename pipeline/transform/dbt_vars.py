"""Builds the `--vars` passed to every dbt invocation, and the environment that carries the partition window.
Pure, so the rules are unit-tested without dbt.

The window travels as environment variables, not vars: dbt re-parses the whole project whenever `--vars` change,
which would cost every invocation a full parse (3-7 s), while a changed environment variable only re-parses the
few models that read it. The vars stay the same for every invocation of a deployment, so the manifest parsed at
load time is reused (partial parsing).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipeline.settings import Settings

# Defaults that mean "every period": a plain `dbt build` without a window builds all history.
ALL_HISTORY = (dt.date(1900, 1, 1), dt.date(9999, 1, 1))
# dbt tag of the models that replace one window of quarters per run (macros/partition_window.sql).
PARTITIONED_TAG = "partitioned"


# Read by macros/partition_window.sql; a `window_start` / `window_end` var (dbt unit tests) takes precedence.
WINDOW_ENV = ("DBT_RETENTION_WINDOW_START", "DBT_RETENTION_WINDOW_END")


def window_env(window: tuple[dt.date, dt.date] | None) -> dict[str, str]:
    """Environment for one dbt run; `window` is [start, end) of the quarters being rebuilt, None for all history."""
    start, end = window or ALL_HISTORY
    if start >= end:
        raise ValueError(f"empty window: {start} .. {end}")
    return {WINDOW_ENV[0]: start.isoformat(), WINDOW_ENV[1]: end.isoformat()}


def window_rows_sql(window: tuple[dt.date, dt.date]) -> str:
    """The rows of a partitioned model that a build of `window` replaces, as a SQL condition on its `grain` and
    `period_start` columns: the same rows as `in_partition_window` in macros/partition_window.sql (month and quarter
    rows starting in the window; year rows of every year the window overlaps). Publishing copies exactly these."""
    start, end = (day.isoformat() for day in window)
    return (
        f"(CASE WHEN grain = 'year' THEN period_start >= date_trunc('year', DATE '{start}') "
        f"ELSE period_start >= DATE '{start}' END AND period_start < DATE '{end}')"
    )


def dbt_vars(
    warehouse_path: str | Path,
    reporting_currency: str,
    activity_window_days: int | None,
    duckdb_memory_limit: str = "4GB",
) -> dict[str, object]:
    """Vars of every dbt invocation: the settings, the same for every run of a deployment."""
    result: dict[str, object] = {
        "warehouse_path": str(Path(warehouse_path).resolve()),
        "reporting_currency": reporting_currency,
        "duckdb_memory_limit": duckdb_memory_limit,
    }
    if activity_window_days is not None:
        result["activity_window_days"] = activity_window_days
    return result


def settings_vars(settings: Settings) -> dict[str, object]:
    """The vars of a deployment's `Settings`: what the `dbt_vars` resource holds and the load-time parse uses."""
    return dbt_vars(
        settings.warehouse, settings.reporting_currency, settings.activity_window_days, settings.duckdb_memory_limit
    )


def vars_arg(values: dict[str, object]) -> list[str]:
    return ["--vars", json.dumps(values, sort_keys=True)]
