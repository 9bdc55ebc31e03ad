"""The report's count of rejected files: files whose latest version was rejected, each once."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.ingest.tables import create_warehouse_tables
from pipeline.reporting.data import INGEST_SQL


def test_a_file_read_again_counts_once_and_a_fixed_file_not_at_all():
    with duckdb.connect() as con:
        create_warehouse_tables(con)
        rows = [  # batch, path, error
            (1, "invoices/a.csv", None),
            (2, "invoices/b.csv", "invoices/b.csv: the file is empty"),
            (3, "invoices/b.csv", "invoices/b.csv: the file is empty"),  # --retry-rejected read it again
            (4, "invoices/c.csv", "invoices/c.csv: missing required column(s) 'amount'"),
            (5, "invoices/c.csv", None),  # fixed and loaded
        ]
        for batch, path, error in rows:
            con.execute("INSERT INTO ingest.manifest VALUES (?, 'invoices', ?, 'h', 1, 1, ?, 0, ?, ?, NULL)",
                        [batch, path, 0 if error else 1, dt.datetime(2025, 1, batch), error])
        files_loaded, files_rejected, *_ = con.execute(INGEST_SQL).fetchone()
    assert (files_loaded, files_rejected) == (2, 1)
