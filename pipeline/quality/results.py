"""quality.validation_results: every Great Expectations run, stored so a failure can be read later.

One row per check execution with the GX JSON, because the Dagster event log keeps only the summary metadata
and is not where an analyst looks. Read the latest failures with:

    SELECT validated_at, check_name, asset_key, failed_expectations, result_json
    FROM quality.validation_results WHERE NOT success ORDER BY validated_at DESC
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.quality.gx_run import Outcome

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
    failed_expectations VARCHAR         -- short list of what failed, for a quick read
)
"""


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
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS quality")
    con.execute(DDL)
    failed = "; ".join(f"{f.expectation}({f.columns})" for f in outcome.failed) or None
    con.execute(
        "INSERT INTO quality.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, check_name, asset_key, outcome.success, evaluated_rows, outcome.unexpected, validated_at,
         outcome.result_json, table_rows, failed],
    )
