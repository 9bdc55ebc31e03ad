"""Great Expectations suites as Dagster asset checks, one per suite in `expectations.py`.

Each check is declared blocking: a failed *critical* expectation yields an ERROR result, which stops the assets
downstream of the checked asset in the same run; when only non-critical expectations fail (implausible
amounts) the result is a WARN and nothing is blocked. Every execution is stored in
quality.validation_results (see results.py); the check metadata carries the summary and the run_id to look up.

A raw-table suite validates the rows of the ingest batches that no earlier validation accepted (normally this
run's): older rows were validated when they arrived, and sampling a 16M-row table to find them again took
seconds at L. When there are none, it passes with `new_rows = 0` and a note, and stores nothing.
"""


import datetime as dt
import time

import dagster as dg
import duckdb

from pipeline.quality import results
from pipeline.quality.expectations import SUITES, Params, Suite
from pipeline.quality.gx_run import Outcome, load_sample, validate
from pipeline.quality.runner import CheckRun, Rule, Severity, grouped_checks, rule_spec
from pipeline.quality.settings import QualitySettings


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def suite_rule(suite: Suite) -> Rule:
    asset_key = dg.AssetKey(list(suite.asset))
    scope = "the rows of ingest batches not validated yet" if suite.by_batch else "the table"

    def evaluate(con: duckdb.DuckDBPyConnection, run: CheckRun) -> dg.AssetCheckResult:
        return _validate(con, run.run_id, suite, asset_key, run.quality)

    spec = rule_spec(
        asset_key,
        suite.check_name,
        f"Great Expectations suite on {suite.table} (bounded sample of {scope}): {suite.description}",
        blocking=True,
        severity="ERROR when a critical expectation fails, else WARN",
    )
    return Rule(spec=spec, tables=[suite.table], evaluate=evaluate)


def _validate(
    con: duckdb.DuckDBPyConnection, run_id: str, suite: Suite, asset_key: dg.AssetKey, quality: QualitySettings
) -> dg.AssetCheckResult:
    """Validates a sample of the suite's population, stores the result and says what it found."""
    now = _utc_now()
    params = Params(now=now, max_amount=quality.max_plausible_amount)
    total = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
    key = asset_key.to_user_string()
    batches = results.pending_batches(con, suite.check_name, key, suite.table) if suite.by_batch else None
    if batches is not None and batches.rows == 0:
        return _nothing_new(batches, total)
    population = (batches.where(), batches.rows) if batches else (None, total)
    df = load_sample(con, suite, params, quality.gx_sample_rows, population)
    started = time.perf_counter()
    outcome = validate(df, f"{suite.table}.{suite.check_name}", suite.build(params))
    seconds = time.perf_counter() - started
    results.store(
        con, run_id=run_id, check_name=suite.check_name, asset_key=key, outcome=outcome,
        evaluated_rows=len(df), table_rows=total, validated_at=now, batches=batches,
    )
    batch_metadata = {"new_rows": batches.rows, "batches": f"{batches.first}..{batches.last}"} if batches else {}
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=Severity.WARN if outcome.failed and not outcome.critical_failure else Severity.ERROR,
        metadata={
            "evaluated_rows": len(df),
            "table_rows": total,
            **batch_metadata,
            "expectations": outcome.evaluated_expectations,
            "failed_expectations": len(outcome.failed),
            "unexpected_values": outcome.unexpected,
            "failures": dg.MetadataValue.md(_failures_table(outcome)),
            "gx_seconds": round(seconds, 3),
            "stored_in": f"quality.validation_results WHERE run_id = '{run_id}'",
            "skipped": False,
        },
    )


def _nothing_new(batches: results.Batches, total: int) -> dg.AssetCheckResult:
    """No row arrived since the last accepted validation: nothing to validate, nothing stored."""
    if batches.after is None:
        note = "the table has no rows yet"
    else:
        note = f"no rows loaded since batch {batches.after}, which an earlier validation accepted"
    return dg.AssetCheckResult(
        passed=True,
        metadata={"evaluated_rows": 0, "table_rows": total, "new_rows": 0, "note": note, "skipped": False},
    )


def _failures_table(outcome: Outcome) -> str:
    if not outcome.failed:
        return "none"
    header = "| expectation | columns | critical | unexpected | sample |\n|---|---|---|---|---|\n"
    return header + "\n".join(
        f"| {f.expectation} | {f.columns} | {'yes' if f.critical else 'no'} | {f.unexpected_count} | {f.sample} |"
        for f in outcome.failed
    )


def gx_checks() -> list[dg.AssetChecksDefinition]:
    """Two steps: the raw tables' suites (after ingest) and the marts' (after dbt). They write their results."""
    raw = [suite_rule(s) for s in SUITES if s.by_batch]
    marts = [suite_rule(s) for s in SUITES if not s.by_batch]
    return [grouped_checks("raw_table_suites", raw, writes=True), grouped_checks("mart_suites", marts, writes=True)]
