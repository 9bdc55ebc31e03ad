"""The generated files satisfy the landing-data contract and carry the promised quirks."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.contract import ENTITIES, INVOICE_STATUSES, ORDER_STATUSES

DAILY = re.compile(r"^(?P<folder>[a-z_]+)_(?P<label>\d{4}-\d{2}-\d{2})\.(csv|parquet)$")
MONTHLY = re.compile(r"^(?P<folder>[a-z_]+)_(?P<label>\d{4}-\d{2})\.(csv|parquet)$")
MONTHLY_FOLDERS = {"fx_rates", "acquisition_costs"}
PARQUET_FOLDERS = {"orders", "fx_rates"}


def _columns(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8").splitlines()[0].split(",")
    return [row[0] for row in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]


def _invoices(out: Path) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"SELECT *, regexp_extract(filename, 'invoices_(.*)\\.csv', 1) AS file_day "
        f"FROM read_csv('{out}/invoices/*.csv', all_varchar = true, header = true, filename = true)"
    )


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.folder)
def test_every_file_has_the_contract_columns(landing, entity):
    out, _ = landing
    expected = [c.name for c in entity.columns]
    pattern = MONTHLY if entity.folder in MONTHLY_FOLDERS else DAILY
    suffix = ".parquet" if entity.folder in PARQUET_FOLDERS else ".csv"
    for path in (out / entity.folder).iterdir():
        match = pattern.match(path.name)
        assert match and match["folder"] == entity.folder and path.suffix == suffix, path.name
        assert _columns(path) == expected, path.name


def test_csv_and_parquet_are_both_present(landing):
    out, _ = landing
    suffixes = {p.suffix for p in out.rglob("*") if p.is_file()}
    assert suffixes == {".csv", ".parquet"}


def test_statuses_are_allowed_except_the_malformed_row(landing):
    out, _ = landing
    invoice_statuses = {r[0] for r in _invoices(out).aggregate("status").fetchall()}
    assert invoice_statuses == set(INVOICE_STATUSES) | {"pending"}
    orders = duckdb.sql(f"SELECT DISTINCT status FROM read_parquet('{out}/orders/*.parquet')").fetchall()
    assert {r[0] for r in orders} <= set(ORDER_STATUSES)


def test_period_end_after_start_for_every_valid_line(landing):
    out, _ = landing
    bad = (
        _invoices(out)
        .filter("try_cast(period_start AS DATE) IS NOT NULL AND period_end::DATE <= period_start::DATE")
        .fetchall()
    )
    assert bad == []


def test_restated_keys_appear_in_more_than_one_file(landing):
    out, _ = landing
    restated = _invoices(out).aggregate("invoice_id, line_id, count(DISTINCT filename) AS n").filter("n > 1")
    assert len(restated.fetchall()) > 0
    orders = duckdb.sql(
        f"SELECT order_id FROM read_parquet('{out}/orders/*.parquet', filename = true) "
        "GROUP BY order_id HAVING count(DISTINCT filename) > 1"
    ).fetchall()
    assert len(orders) > 0


def test_some_lines_arrive_late(landing):
    out, _ = landing
    late = _invoices(out).filter("try_cast(issued_at AS TIMESTAMP)::DATE < file_day::DATE").fetchall()
    assert len(late) > 0


def test_malformed_rows_are_exactly_the_documented_three(landing):
    out, _ = landing
    rows = (
        _invoices(out)
        .filter(
            "try_cast(period_start AS DATE) IS NULL OR try_cast(amount AS DECIMAL(18, 2)) IS NULL "
            f"OR status NOT IN {tuple(INVOICE_STATUSES)}"
        )
        .select("period_start, amount, status")
        .fetchall()
    )
    assert len(rows) == 3
    assert sum(bool(re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", r[0])) for r in rows) == 1
    assert sum(r[1] == "n/a" for r in rows) == 1
    assert sum(r[2] == "pending" for r in rows) == 1
