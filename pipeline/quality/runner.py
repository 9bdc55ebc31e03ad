"""How every asset check here runs: in groups, one Dagster step and one warehouse connection per group.

Each check used to be its own step, with its own Dagster events and its own DuckDB open before queries that
take milliseconds. The 26 checks are now 5 groups, one `multi_asset_check` each: at S that took the ingest
checks from 1.8 to 1.3 s and the checks between dbt and publishing from 1.75 to 1.3 s (medians of 3 nightly
runs). Each check of a group keeps its own key, description, blocking flag and result, and the UI can still run
one alone (the group can be subset). A group holds checks of assets that one step materializes, so no check
waits longer than before. A blocking check that fails still stops what is downstream: Dagster fails a step once
it has yielded all of its results, if a blocking one among them failed with ERROR.

A check that raises does not stop the others: the group evaluates the rest, then fails with every error.

Missing tables: a check whose table (or warehouse file) does not exist yet *passes* with `skipped = true` and a
note. Nothing has been published from a table that does not exist, so nothing is wrong yet; failing would make
a fresh install (or a check run by hand before the first materialization) look broken. Inside a run the check
only executes after its asset materialized, so a skip there means the asset wrote nothing.
"""


from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.lib.warehouse import Warehouse
from pipeline.quality.settings import QualitySettings
from pipeline.quality.sql import Failures, failing_rows, missing_tables

POOL = "warehouse"  # DuckDB allows one writer process and no readers beside it: checks queue with the writers

Severity = dg.AssetCheckSeverity


@contextmanager
def open_warehouse(warehouse: Warehouse, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A connection, or None when a read-only open finds no warehouse file yet (nothing ingested)."""
    if read_only and not Path(warehouse.path).exists():
        yield None
        return
    with warehouse.connect(read_only=read_only) as con:
        yield con


def skipped(missing: Sequence[str]) -> dg.AssetCheckResult:
    note = f"not checked: {', '.join(missing)} does not exist yet (nothing published from it)"
    return dg.AssetCheckResult(passed=True, metadata={"skipped": True, "note": note})


def failures_metadata(failures: Failures) -> dict[str, object]:
    return {"failing_rows": failures.count, "sample": dg.MetadataValue.json(failures.sample), "skipped": False}


@dataclass(frozen=True)
class CheckRun:
    """What a check may need besides its connection."""

    run_id: str
    quality: QualitySettings


@dataclass(frozen=True)
class Rule:
    """One asset check of a group: its spec, the tables it reads (skipped while one is missing), how to evaluate it."""

    spec: dg.AssetCheckSpec
    tables: Sequence[str]
    evaluate: Callable[[duckdb.DuckDBPyConnection, CheckRun], dg.AssetCheckResult]


def rule_spec(
    asset: Sequence[str] | dg.AssetKey,
    name: str,
    description: str,
    blocking: bool,
    severity: str,
    additional_deps: Sequence[Sequence[str]] = (),
) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=name,
        asset=asset if isinstance(asset, dg.AssetKey) else dg.AssetKey(list(asset)),
        description=description,
        blocking=blocking,
        additional_deps=[dg.AssetKey(list(d)) for d in additional_deps],
        metadata={"severity": severity, "blocking": blocking},
    )


def _keyed(result: dg.AssetCheckResult, spec: dg.AssetCheckSpec) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=result.severity,
        metadata=result.metadata,
        description=result.description,
        asset_key=spec.asset_key,
        check_name=spec.name,
    )


def grouped_checks(name: str, rules: Sequence[Rule], writes: bool = False) -> dg.AssetChecksDefinition:
    """One step for `rules`; `writes` when a rule stores something (the GX suites store their results)."""
    by_key = {rule.spec.key: rule for rule in rules}

    @dg.multi_asset_check(specs=[rule.spec for rule in rules], name=name, can_subset=True, pool=POOL)
    def _group(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, quality: QualitySettings
    ) -> Iterator[dg.AssetCheckResult]:
        selected = [rule for key, rule in by_key.items() if key in context.selected_asset_check_keys]
        run = CheckRun(context.run.run_id, quality)
        errors: list[str] = []
        exists = Path(warehouse.path).exists()
        with open_warehouse(warehouse, read_only=not writes or not exists) as con:
            for rule in selected:
                if con is None:
                    yield _keyed(skipped([warehouse.path]), rule.spec)
                    continue
                if missing := missing_tables(con, rule.tables):
                    yield _keyed(skipped(missing), rule.spec)
                    continue
                try:
                    result = rule.evaluate(con, run)
                except Exception as error:  # the other checks still run; the step fails below
                    context.log.exception(f"check {rule.spec.key.to_user_string()} raised")
                    errors.append(f"{rule.spec.key.to_user_string()}: {error!r}")
                    continue
                yield _keyed(result, rule.spec)
        if errors:
            raise dg.Failure(f"{len(errors)} of {len(selected)} checks raised", metadata={"errors": errors})

    return _group


def sql_rule(
    *,
    name: str,
    asset: Sequence[str],
    tables: Sequence[str],
    sql: str,
    description: str,
    blocking: bool,
    severity: Severity = Severity.ERROR,
    additional_deps: Sequence[Sequence[str]] = (),
) -> Rule:
    """A check that passes when `sql` (the rows breaking the rule) returns no rows."""

    def evaluate(con: duckdb.DuckDBPyConnection, _run: CheckRun) -> dg.AssetCheckResult:
        failures = failing_rows(con, sql)
        return dg.AssetCheckResult(passed=failures.count == 0, severity=severity, metadata=failures_metadata(failures))

    spec = rule_spec(asset, name, description, blocking, severity.value, additional_deps)
    return Rule(spec=spec, tables=list(tables), evaluate=evaluate)
