"""Small read helpers shared by the checks: does a table exist, and the failing rows of a check query.

Every check is written as one SELECT that returns exactly the rows breaking its rule, so "passed" is
"no rows", the failure count is its row count, and the sample shows the offending rows themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

SAMPLE_SIZE = 5


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """True when `schema.table` exists as a table or a view."""
    schema, table = qualified.split(".", 1)
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()
    return bool(row and row[0])


def missing_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> list[str]:
    return [t for t in tables if not table_exists(con, t)]


def jsonable(value: object) -> object:
    """A value as Dagster JSON metadata can hold it: decimals as exact strings, dates as ISO text."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class Failures:
    count: int
    sample: list[dict[str, object]]  # at most SAMPLE_SIZE rows, ordered by all columns (deterministic)


def failing_rows(con: duckdb.DuckDBPyConnection, sql: str, sample_size: int = SAMPLE_SIZE) -> Failures:
    """Count the rows of `sql` (rows that break a rule) and fetch a small deterministic sample of them."""
    count = con.execute(f"SELECT count(*) FROM ({sql}) AS failing").fetchone()[0]
    if not count:
        return Failures(0, [])
    cursor = con.execute(f"SELECT * FROM ({sql}) AS failing ORDER BY ALL LIMIT {int(sample_size)}")
    names = [d[0] for d in cursor.description]
    return Failures(count, [{n: jsonable(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()])
