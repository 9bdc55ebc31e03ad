"""Shared by the recovery tests: a landing folder that takes every reading path, a connection that fails on
demand, and the ingest state a clean ingest must be equal to."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.ingest.contract import ENTITIES
from pipeline.ingest.loader import ingest_landing
from tests.ingest.conftest import INVOICE_HEADER, ORDER_HEADER, invoice_row, write, write_parquet


def land_small(landing: Path) -> None:
    """Two files of one layout (the second Latin-1, so the group is loaded in parts) with a restatement across
    them and a bad row, a file rejected for a missing column, an entity whose changes read another's rows."""
    write(landing / "invoices" / "2024-01-01.csv", [INVOICE_HEADER, invoice_row(customer="c1"),
                                                    invoice_row(invoice="i2", customer="c2", status="??")])
    (landing / "invoices" / "2024-01-02.csv").write_bytes("\n".join([
        INVOICE_HEADER, invoice_row(customer="c1", status="refunded"), invoice_row(invoice="i3", customer="c3"),
        invoice_row(invoice="M\u00e4rz", customer="c4", start="2024-02-01", end="2024-03-01"), ""]).encode("latin-1"))
    write(landing / "orders" / "c.csv", ["order_id,customer_id,ordered_at,currency,status", "o3,c7,2024-03-03,USD,completed"])
    write(landing / "customers" / "c.csv", ["customer_id,name,segment", "c1,Ada,smb", "c3,Bo,enterprise"])


def land_mixed(landing: Path) -> None:
    """The small landing folder, plus orders as CSV and Parquet and exchange rates (whose changes read invoices
    and orders)."""
    land_small(landing)
    write(landing / "orders" / "a.csv", [ORDER_HEADER, "o1,c1,2024-03-01 08:00:00,10.00,EUR,completed"])
    write_parquet(landing / "orders" / "b.parquet", "SELECT 'o2' AS order_id, 'c6' AS customer_id, "
                  "TIMESTAMP '2024-03-02 08:00:00' AS ordered_at, 12.5 AS amount, 'USD' AS currency, 'completed' AS status")
    write(landing / "fx_rates" / "fx.csv", ["date,currency,rate", "2024-01-01,EUR,1.1"])


def ingest_state(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What an ingest leaves, without what differs between two equal ingests (batch ids, load times)."""
    state: dict[str, object] = {}
    for entity in ENTITIES:
        state[entity.qualified] = con.execute(
            f"SELECT * EXCLUDE (_batch_id, _loaded_at) FROM {entity.qualified} ORDER BY _source_file, _source_row"
        ).fetchall()
    state["manifest"] = con.execute(
        "SELECT path, arg_max((content_hash, rows_read, rows_loaded, rows_quarantined, error), batch_id) "
        "FROM ingest.manifest GROUP BY path ORDER BY path"
    ).fetchall()
    state["quarantine"] = con.execute(
        'SELECT entity, file, row_number, "column", raw_value, reason, raw_record FROM ingest.quarantine '
        "ORDER BY ALL"
    ).fetchall()
    return state


def changed_customers(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every customer the loads recorded; fails when a load recorded one twice (dbt's uniqueness test)."""
    total, distinct = con.execute(
        "SELECT count(*), count(DISTINCT (loaded_at, entity, customer_id)) FROM ingest.changed_customers"
    ).fetchone()
    assert total == distinct, "one row per (loaded_at, entity, customer_id)"
    return {c for (c,) in con.execute("SELECT customer_id FROM ingest.changed_customers").fetchall()}


def clean_ingest(landing: Path) -> tuple[dict[str, object], set[str]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        ingest_landing(con, landing)
        return ingest_state(con), changed_customers(con)


class Faulty:
    """A connection whose n-th `execute` raises `error` instead of running: DuckDB statements are atomic, so a
    failing statement has no effect, and an interruption between two statements is one before the second."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fail_at: int = 0, error: BaseException | None = None):
        self.con, self.fail_at, self.error = con, fail_at, error
        self.calls = 0
        self.statement: str | None = None  # the statement the error replaced

    def execute(self, sql: str, *args):
        self.calls += 1
        if self.calls == self.fail_at:
            self.statement = sql
            raise self.error
        return self.con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.con, name)
