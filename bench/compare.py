"""Reads what the harness needs from the pipeline's warehouse and checks the reference against it.

Both sides define MRR from invoice lines only (subscription revenue), so their monthly totals must agree to
the cent; a difference means one of them misreads the data, and the benchmark result is not trusted.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

COLUMNS = ("mrr_start", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr", "mrr_end")
TOLERANCE = 0.005  # half a cent


def pipeline_movements(warehouse: Path) -> list[dict[str, object]]:
    """marts.revenue_churn at grain month, in the reference's shape."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"SELECT period_start, {', '.join(COLUMNS)} FROM marts.revenue_churn WHERE grain = 'month' ORDER BY 1"
        ).fetchall()
    return [{"month_start": r[0].isoformat(), **{c: float(v) for c, v in zip(COLUMNS, r[1:], strict=True)}} for r in rows]


def differences(pipeline: list[dict[str, object]], reference: list[dict[str, object]]) -> list[str]:
    """One line per month and column where the two disagree by more than TOLERANCE (a missing month is 0)."""
    by_month = {r["month_start"]: r for r in pipeline}, {r["month_start"]: r for r in reference}
    zero = dict.fromkeys(COLUMNS, 0.0)
    found = []
    for month in sorted(set(by_month[0]) | set(by_month[1])):
        left, right = by_month[0].get(month, zero), by_month[1].get(month, zero)
        for column in COLUMNS:
            if abs(left[column] - right[column]) > TOLERANCE:
                found.append(f"{month} {column}: pipeline {left[column]:.4f}, reference {right[column]:.4f}")
    return found


def row_counts(warehouse: Path) -> dict[str, int]:
    """Rows in the raw invoice-line and order tables (restatements replace rows, so these are distinct keys)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = con.execute("SELECT count(*) FROM billing.invoices").fetchone()[0]
        orders = con.execute("SELECT count(*) FROM shop.orders").fetchone()[0]
    return {"invoice_lines": int(lines), "orders": int(orders)}


def rows_loaded_from(warehouse: Path, paths: list[str]) -> int:
    """Rows the manifest says were loaded from these landing-relative files."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0) FROM ingest.manifest WHERE path IN (SELECT unnest(?))", [paths]
        ).fetchone()[0]
    return int(loaded)
