"""quality.validation_results: every Great Expectations run, stored so a failure can be read later.

One row per check execution with the GX JSON, because the Dagster event log keeps only the summary metadata
and is not where an analyst looks. Read the latest failures with:

    SELECT validated_at, check_name, asset_key, failed_expectations, result_json
    FROM quality.validation_results WHERE NOT success ORDER BY validated_at DESC
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipeline.quality.gx_run import Outcome
from pipeline.quality.sql import table_exists

DDL = """
CREATE TABLE IF NOT EXISTS quality.validation_results (
    run_id VARCHAR NOT NULL,            -- the Dagster run
    check_name VARCHAR NOT NULL,
    asset_key VARCHAR NOT NULL,         -- e.g. billing/invoices
    success BOOLEAN NOT NULL,
    evaluated BIGINT NOT NULL,          -- rows validated (the sample)
    unexpected BIGINT NOT NULL,         -- unexpected values summed over the expectations
    validated_at TIMESTAMP NOT NULL,    -- UTC
    result_json JSON NOT NULL,          -- the GX ExpectationSuiteValidationResult
    table_rows BIGINT,                  -- rows in the table (evaluated < table_rows: a sample)
    failed_expectations VARCHAR,        -- short list of what failed, for a quick read
    first_batch BIGINT,                 -- raw tables: the _batch_id range the sample was drawn from
    last_batch BIGINT,                  --   (NULL: a mart, validated whole)
    critical_failure BOOLEAN            -- a critical expectation failed: the check blocked
)
"""
# Columns added after the table first shipped: warehouses created before get them on the next store.
ADDED_COLUMNS = {"first_batch": "BIGINT", "last_batch": "BIGINT", "critical_failure": "BOOLEAN"}


@dataclass(frozen=True)
class Batches:
    """The rows a raw-table suite validates: those of ingest batches after `after` (every row when None)."""

    after: int | None  # the newest batch an earlier validation of this check accepted
    rows: int
    first: int | None  # lowest and highest _batch_id among them (None when there are none)
    last: int | None

    def where(self) -> str | None:
        return after_batch(self.after)


def after_batch(batch_id: int | None) -> str | None:
    """The condition for rows of batches after `batch_id`; None (every row) when there is no such batch."""
    return None if batch_id is None else f"_batch_id > {int(batch_id)}"


def pending_batches(con: duckdb.DuckDBPyConnection, check_name: str, asset_key: str, table: str) -> Batches:
    """Rows of `table` from batches no validation of this check accepted yet (accepted: no critical failure).
    Normally that is what this run's ingest loaded; after a blocking failure the failed batches stay pending
    until a validation passes them (or a later file replaces their rows). The check holds the warehouse's one
    writing connection, so no batch arrives between this count and the sample."""
    after = None
    if table_exists(con, "quality.validation_results"):
        _migrate(con)
        after = con.execute(
            "SELECT max(last_batch) FROM quality.validation_results "
            "WHERE check_name = ? AND asset_key = ? AND NOT critical_failure",
            [check_name, asset_key],
        ).fetchone()[0]
    where = f" WHERE {after_batch(after)}" if after is not None else ""
    rows, first, last = con.execute(f"SELECT count(*), min(_batch_id), max(_batch_id) FROM {table}{where}").fetchone()
    return Batches(after, rows, first, last)


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    for column, sql_type in ADDED_COLUMNS.items():
        con.execute(f"ALTER TABLE quality.validation_results ADD COLUMN IF NOT EXISTS {column} {sql_type}")


def store(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    check_name: str,
    asset_key: str,
    outcome: Outcome,
    evaluated_rows: int,
    table_rows: int,
    validated_at: dt.datetime,
    batches: Batches | None = None,
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(DDL)
    _migrate(con)
    failed = "; ".join(f"{f.expectation}({f.columns})" for f in outcome.failed) or None
    con.execute(
        "INSERT INTO quality.validation_results (run_id, check_name, asset_key, success, evaluated, unexpected, "
        "validated_at, result_json, table_rows, failed_expectations, first_batch, last_batch, critical_failure) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, check_name, asset_key, outcome.success, evaluated_rows, outcome.unexpected, validated_at,
         outcome.result_json, table_rows, failed, batches.first if batches else None, batches.last if batches else None,
         outcome.critical_failure],
    )
