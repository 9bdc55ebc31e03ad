"""The short summary printed after a run: what was loaded and the latest complete period's headline numbers.

Reads the warehouse read-only and tolerates tables that do not exist yet, so it works at every stage of the
project and on a warehouse where a run stopped half-way.
"""

from __future__ import annotations

import duckdb

HEADLINE_SQL = {
    "retention": """
        SELECT period_start, retention_rate, churn_rate, customers_start, customers_end
        FROM marts.retention WHERE grain = 'month' AND is_complete ORDER BY period_start DESC LIMIT 1""",
    "revenue_churn": """
        SELECT period_start, mrr_end, gross_mrr_churn_rate, net_revenue_retention
        FROM marts.revenue_churn WHERE grain = 'month' AND is_complete ORDER BY period_start DESC LIMIT 1""",
    "at_risk": "SELECT count(*) FROM marts.at_risk_customers",
}


def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def _fmt(value: object, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.1f}{suffix}"
    return f"{value:,}{suffix}" if isinstance(value, int) else f"{value}{suffix}"


def summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    lines = []
    loaded = con.execute(
        """SELECT count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL),
                  coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) FROM ingest.manifest"""
    ).fetchone()
    lines.append(
        f"Landing files loaded: {loaded[0]:,} ({loaded[1]:,} rejected); rows loaded: {loaded[2]:,}, "
        f"quarantined: {loaded[3]:,} (see ingest.quarantine)"
    )
    for error, in con.execute("SELECT error FROM ingest.manifest WHERE error IS NOT NULL ORDER BY path LIMIT 5").fetchall():
        lines.append(f"  rejected: {error}")
    if _table_exists(con, "marts.retention"):
        row = con.execute(HEADLINE_SQL["retention"]).fetchone()
        if row:
            lines.append(
                f"Latest complete month {row[0]}: retention rate {_fmt(row[1], ' %')}, churn rate {_fmt(row[2], ' %')}, "
                f"customers {row[3]:,} -> {row[4]:,}"
            )
    if _table_exists(con, "marts.revenue_churn"):
        row = con.execute(HEADLINE_SQL["revenue_churn"]).fetchone()
        if row:
            lines.append(
                f"MRR at end of {row[0]}: {_fmt(float(row[1]) if row[1] is not None else None)}; gross MRR churn "
                f"{_fmt(row[2], ' %')}, net revenue retention {_fmt(row[3], ' %')}"
            )
    if _table_exists(con, "marts.at_risk_customers"):
        lines.append(f"At-risk customers: {con.execute(HEADLINE_SQL['at_risk']).fetchone()[0]:,}")
    return lines
