"""Runs a suite with Great Expectations 1.x on a bounded pandas sample read from DuckDB.

Why pandas and not GX's SQL datasource: on DuckDB the SQL datasource fails every expectation with a
MetricResolutionError, so each check reads at most `sample_rows` rows (the whole table, in key order, when it
is smaller; otherwise a seeded reservoir sample) into a DataFrame and validates that. Whole-table guarantees
on keys come from the dbt unique/not_null tests on the staging views; the reconciliation checks read whole
tables in SQL.

GX is imported inside `validate` only: the import takes seconds and code-location loading must stay fast.
The ephemeral context keeps no files on disk; results are stored by `results.py`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.quality.expectations import Expect, Params, Suite
from pipeline.quality.sql import jsonable

SAMPLE_SEED = 42
GX_MODULES = ("great_expectations", "great_expectations.expectations")


def no_usage_statistics() -> None:
    """No usage-statistics calls from a batch pipeline; GX reads this when it is imported."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def sample_sql(suite: Suite, params: Params, total_rows: int, limit: int) -> str:
    columns = ", ".join(f'"{c}"' for c in suite.columns(params))
    if total_rows <= limit:
        return f"SELECT {columns} FROM {suite.table} ORDER BY {suite.order_by}"
    return f"SELECT {columns} FROM {suite.table} USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE ({SAMPLE_SEED})"


def load_sample(con: duckdb.DuckDBPyConnection, suite: Suite, params: Params, limit: int) -> tuple[pd.DataFrame, int]:
    """The rows to validate and the table's total row count."""
    total = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
    return con.execute(sample_sql(suite, params, total, limit)).df(), total


@dataclass(frozen=True)
class Failed:
    expectation: str
    columns: str
    critical: bool
    unexpected_count: int | None
    sample: list[object]


@dataclass(frozen=True)
class Outcome:
    success: bool
    evaluated_expectations: int
    failed: list[Failed]
    unexpected: int  # unexpected values summed over the expectations
    result_json: str  # the GX ExpectationSuiteValidationResult as JSON

    @property
    def critical_failure(self) -> bool:
        return any(f.critical for f in self.failed)


def _gx_expectation(gxe, index: int, spec: Expect):
    return getattr(gxe, spec.kind)(**spec.kwargs, meta={"index": index, "critical": spec.critical})


def validate(df: pd.DataFrame, name: str, expectations: list[Expect]) -> Outcome:
    """Validate `df` against the expectations with an ephemeral GX context."""
    no_usage_statistics()
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    batch = context.data_sources.add_pandas(name).add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for index, spec in enumerate(expectations):
        suite.add_expectation(_gx_expectation(gxe, index, spec))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")

    failed, unexpected = [], 0
    for r in result.results:
        count = (r.result or {}).get("unexpected_count")
        unexpected += count or 0
        if r.success:
            continue
        spec = expectations[r.expectation_config.meta["index"]]
        sample = [jsonable(v) for v in (r.result or {}).get("partial_unexpected_list", [])[:5]]
        if r.exception_info and r.exception_info.get("raised_exception"):
            sample = [r.exception_info.get("exception_message")]
        failed.append(Failed(spec.kind, ", ".join(sorted(spec.columns)), spec.critical, count, sample))
    failed.sort(key=lambda f: (f.expectation, f.columns))
    payload = json.dumps(result.to_json_dict(), default=str, sort_keys=True)
    return Outcome(bool(result.success), len(result.results), failed, unexpected, payload)
