"""Row numbers and the raw tables' row order come from DuckDB's reading order, so the two statements that
carry the rows (the check, reading the files into the checked table, and the insert into the raw table) must
keep it: no join and no sort in their plans. DuckDB then fills them in batch order; a join (an IN list becomes
one) would let the threads interleave their rows."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.ingest.contract import ENTITIES_BY_FOLDER
from pipeline.ingest.loader import ingest_landing
from tests.ingest.conftest import INVOICE_HEADER, ORDER_HEADER, invoice_row, write, write_parquet


class Explaining:
    """A connection that explains every statement that fills the checked table or a raw table, then runs it."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.plans = con, {}

    def execute(self, sql: str, *args):
        for prefix in ("CREATE OR REPLACE TEMP TABLE _ingest_checked", *(f"INSERT INTO {e.qualified} " for e in ENTITIES_BY_FOLDER.values())):
            if sql.startswith(prefix):
                self.plans.setdefault(prefix, []).append(self.con.execute(f"EXPLAIN {sql}", *args).fetchall()[0][1])
        return self.con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.con, name)


def _land_every_entity(landing):
    write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row(), invoice_row(line="2", status="??")])
    write(landing / "invoices" / "b.csv", [INVOICE_HEADER, invoice_row(status="open")])
    write_parquet(landing / "orders" / "o.parquet", "SELECT 'o1' AS order_id, 'c1' AS customer_id, "
                  "TIMESTAMP '2024-03-01 08:00:00' AS ordered_at, 10.0 AS amount, 'USD' AS currency, 'completed' AS status")
    write(landing / "customers" / "c.csv", ["customer_id,name,created_at", "c1,Ada,2024-01-01T10:00:00+02:00"])
    write(landing / "fx_rates" / "fx.csv", ["date,currency,rate", "2024-01-01,EUR,1.1"])
    write(landing / "acquisition_costs" / "a.csv", ["period_start,channel,amount", "2024-01-01,search,100"])
    write(landing / "churn_feedback" / "f.csv", ["customer_id,submitted_at,reason,comment", 'c1,2024-02-01 09:00:00,price,"too, much"'])


def test_the_check_and_the_insert_neither_join_nor_sort(con, landing):
    _land_every_entity(landing)
    explaining = Explaining(con)
    ingest_landing(explaining, landing)
    checks = explaining.plans.pop("CREATE OR REPLACE TEMP TABLE _ingest_checked")
    assert len(checks) == 6 and len(explaining.plans) == 6, "one check and one insert per entity"
    for plan in [*checks, *(p for plans in explaining.plans.values() for p in plans)]:
        assert "Join" not in plan and "Order" not in plan and "Window" not in plan, plan
        assert "Batch" in plan, "DuckDB keeps the order only in its batch insert"


@pytest.mark.parametrize("threads", [1, 2])
def test_many_large_files_keep_their_row_numbers_and_order(tmp_path, landing, threads):
    """Several files of several row groups each, read by two threads: every row keeps its file and number."""
    con = duckdb.connect(config={"threads": threads})
    con.execute("SET TimeZone = 'UTC'")
    rows_per_file = 150_000
    for day in (1, 2, 3):
        lines = [invoice_row(invoice=f"d{day}r{n}", line=str(n % 3)) for n in range(1, rows_per_file + 1)]
        write(landing / "invoices" / f"2024-01-0{day}.csv", [INVOICE_HEADER, *lines])
    write(landing / "orders" / "o.csv", [ORDER_HEADER, *(f"o{n},c1,2024-03-01 08:00:00,{n}.00,EUR,completed" for n in range(50_000))])
    ingest_landing(con, landing)
    wrong = con.execute(
        "SELECT count(*) FROM billing.invoices WHERE invoice_id <> 'd' || substr(_source_file, 19, 1) || 'r' || _source_row"
    ).fetchone()[0]
    assert wrong == 0
    in_order = con.execute(
        "SELECT bool_and(ok) FROM (SELECT (_source_file, _source_row) > lag((_source_file, _source_row)) OVER (ORDER BY rowid) "
        "AS ok FROM billing.invoices) WHERE ok IS NOT NULL"
    ).fetchone()[0]
    assert in_order, "the raw table holds the rows in file, then row order"
    assert con.execute("SELECT count(*) FROM shop.orders WHERE order_id <> 'o' || (_source_row - 1)").fetchone()[0] == 0
    con.close()
