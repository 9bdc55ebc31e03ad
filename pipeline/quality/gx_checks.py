"""Great Expectations suites as Dagster asset checks, one per suite in `expectations.py`.

Each check is declared blocking: a failed *critical* expectation yields an ERROR result, which stops the assets
downstream of the checked asset in the same run; when only non-critical expectations fail (implausible
amounts) the result is a WARN and nothing is blocked. Every execution is stored in
quality.validation_results (see results.py); the check metadata carries the summary and the run_id to look up.
"""


import datetime as dt
import time
from pathlib import Path

import dagster as dg

from pipeline.lib.warehouse import Warehouse
from pipeline.quality import results
from pipeline.quality.expectations import SUITES, Params, Suite
from pipeline.quality.gx_run import load_sample, validate
from pipeline.quality.runner import POOL, Severity, skipped
from pipeline.quality.settings import QualitySettings
from pipeline.quality.sql import missing_tables


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(list(suite.asset))

    @dg.asset_check(
        asset=asset_key,
        name=suite.check_name,
        description=f"Great Expectations suite on {suite.table} (bounded sample): {suite.description}",
        blocking=True,
        pool=POOL,
        metadata={"severity": "ERROR when a critical expectation fails, else WARN", "blocking": True},
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, quality: QualitySettings
    ) -> dg.AssetCheckResult:
        if not Path(warehouse.path).exists():
            return skipped([warehouse.path])
        now = _utc_now()
        params = Params(now=now, max_amount=quality.max_plausible_amount)
        with warehouse.connect() as con:  # writes quality.validation_results
            if missing := missing_tables(con, [suite.table]):
                return skipped(missing)
            df, total = load_sample(con, suite, params, quality.gx_sample_rows)
            started = time.perf_counter()
            outcome = validate(df, f"{suite.table}.{suite.check_name}", suite.build(params))
            seconds = time.perf_counter() - started
            results.store(
                con,
                run_id=context.run.run_id,
                check_name=suite.check_name,
                asset_key=asset_key.to_user_string(),
                outcome=outcome,
                evaluated_rows=len(df),
                table_rows=total,
                validated_at=now,
            )
        failed_md = "\n".join(
            f"| {f.expectation} | {f.columns} | {'yes' if f.critical else 'no'} | {f.unexpected_count} | {f.sample} |"
            for f in outcome.failed
        )
        header = "| expectation | columns | critical | unexpected | sample |\n|---|---|---|---|---|\n"
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=Severity.WARN if outcome.failed and not outcome.critical_failure else Severity.ERROR,
            metadata={
                "evaluated_rows": len(df),
                "table_rows": total,
                "expectations": outcome.evaluated_expectations,
                "failed_expectations": len(outcome.failed),
                "unexpected_values": outcome.unexpected,
                "failures": dg.MetadataValue.md(header + failed_md if failed_md else "none"),
                "gx_seconds": round(seconds, 3),
                "stored_in": f"quality.validation_results WHERE run_id = '{context.run.run_id}'",
                "skipped": False,
            },
        )

    return _check


def gx_checks() -> list[dg.AssetChecksDefinition]:
    return [suite_check(s) for s in SUITES]
