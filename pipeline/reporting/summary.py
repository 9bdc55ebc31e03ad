"""The short summary printed after a run: what was loaded and the headline KPIs as an aligned table.

Reads the warehouse read-only through the report's readers, which tolerate tables that do not exist yet, so
it works at every stage of the project and on a warehouse where a run stopped half-way, and shows the same
numbers as the HTML report.
"""

from __future__ import annotations

import duckdb

from pipeline.reporting.data import ReportData, read_report_data, table_exists
from pipeline.reporting.kpis import headline
from pipeline.reporting.tables import text_table

REJECTED_SQL = "SELECT error FROM ingest.manifest WHERE error IS NOT NULL ORDER BY path LIMIT 5"


def _ingest_lines(con: duckdb.DuckDBPyConnection, data: ReportData) -> list[str]:
    if not data.ingest:
        return ["Landing files loaded: none yet (ingest.manifest does not exist)"]
    ingest = {k: int(v or 0) for k, v in data.ingest.items() if k != "last_loaded_at"}
    lines = [
        f"Landing files loaded: {ingest['files_loaded']:,} ({ingest['files_rejected']:,} rejected); rows loaded: "
        f"{ingest['rows_loaded']:,}, quarantined: {ingest['rows_quarantined']:,} (see ingest.quarantine)"
    ]
    if table_exists(con, "ingest.manifest"):
        lines += [f"  rejected: {error}" for (error,) in con.execute(REJECTED_SQL).fetchall()]
    return lines


def summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    data = read_report_data(con)
    lines = _ingest_lines(con, data)
    head = headline(data.retention, data.revenue)
    if head.period is None:
        lines.append("No complete month yet: no headline numbers.")
    else:
        versus = f", change vs {head.previous_period:%Y-%m}" if head.previous_period else ""
        lines += ["", f"Latest complete month {head.period:%Y-%m}{versus}:"]
        rows = [[k.spec.label, k.formatted_value(), k.formatted_change() if k.change is not None else ""]
                for k in head.kpis]
        rows.append([f"At-risk customers on {data.as_of}", f"{data.at_risk_total:,}", ""])
        lines += ["  " + line for line in text_table(("metric", "value", "change"), rows)]
    if head.period is None:
        lines.append(f"At-risk customers: {data.at_risk_total:,}")
    return lines
