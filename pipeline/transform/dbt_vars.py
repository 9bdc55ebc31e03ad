"""Builds the `--vars` passed to every dbt invocation. Pure, so the rules are unit-tested without dbt."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

# Defaults that mean "every period": a plain `dbt build` without a window builds all history.
ALL_HISTORY = (dt.date(1900, 1, 1), dt.date(9999, 1, 1))


def dbt_vars(
    warehouse_path: str | Path,
    reporting_currency: str,
    activity_window_days: int | None,
    window: tuple[dt.date, dt.date] | None = None,
    duckdb_memory_limit: str = "4GB",
) -> dict[str, object]:
    """Vars for one dbt run; `window` is [start, end) of the quarters being rebuilt, None for all history."""
    start, end = window or ALL_HISTORY
    if start >= end:
        raise ValueError(f"empty window: {start} .. {end}")
    result: dict[str, object] = {
        "warehouse_path": str(Path(warehouse_path).resolve()),
        "reporting_currency": reporting_currency,
        "duckdb_memory_limit": duckdb_memory_limit,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
    }
    if activity_window_days is not None:
        result["activity_window_days"] = activity_window_days
    return result


def vars_arg(values: dict[str, object]) -> list[str]:
    return ["--vars", json.dumps(values, sort_keys=True)]
