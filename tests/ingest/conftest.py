from __future__ import annotations

import duckdb
import pytest


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path):
    root = tmp_path / "landing"
    root.mkdir()
    return root


INVOICE_HEADER = "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at"


def invoice_row(invoice="i1", line="1", customer="c1", amount="100.00", currency="USD", start="2024-01-01",
                end="2024-02-01", status="paid", issued="2024-01-01 10:00:00", subscription="s1") -> str:
    return ",".join([invoice, line, customer, subscription, amount, currency, start, end, status, issued])


def write(path, lines: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ORDER_HEADER = "order_id,customer_id,ordered_at,amount,currency,status"


def write_parquet(path, select_sql: str):
    """Write the rows of `select_sql` as a Parquet file (DuckDB writes it: the project has no pyarrow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = str(path).replace("'", "''")
    with duckdb.connect() as writer:
        writer.execute(f"COPY ({select_sql}) TO '{target}' (FORMAT parquet)")
    return path
