"""The shape every SQL-rule check shares: open the warehouse, skip when its tables are not built, count the
failing rows, report count + sample as metadata.

Missing tables: a check whose table (or warehouse file) does not exist yet *passes* with `skipped = true` and a
note. Nothing has been published from a table that does not exist, so nothing is wrong yet; failing would make
a fresh install (or a check run by hand before the first materialization) look broken. Inside a run the check
only executes after its asset materialized, so a skip there means the asset wrote nothing.
"""


from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.lib.warehouse import Warehouse
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


def sql_rule_check(
    *,
    name: str,
    asset: Sequence[str],
    tables: Sequence[str],
    sql: str,
    description: str,
    blocking: bool,
    severity: Severity = Severity.ERROR,
    additional_deps: Sequence[Sequence[str]] = (),
) -> dg.AssetChecksDefinition:
    """An asset check that passes when `sql` (the rows breaking the rule) returns no rows."""

    @dg.asset_check(
        asset=dg.AssetKey(list(asset)),
        name=name,
        description=description,
        blocking=blocking,
        pool=POOL,
        additional_deps=[dg.AssetKey(list(d)) for d in additional_deps],
        metadata={"severity": severity.value, "blocking": blocking},
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with open_warehouse(warehouse) as con:
            if con is None:
                return skipped([warehouse.path])
            missing = missing_tables(con, tables)
            if missing:
                return skipped(missing)
            failures = failing_rows(con, sql)
        return dg.AssetCheckResult(
            passed=failures.count == 0, severity=severity, metadata=failures_metadata(failures)
        )

    return _check
