"""Copies what readers need from the warehouse into a new serving file and renames it over the old one.

DuckDB lets one process write a file, and a read-only connection from another process blocks that writer, so a
notebook or BI tool open on the warehouse would make a run fail. Readers therefore open the serving file, which a
run never writes in place: publishing writes a complete copy next to it and renames the copy over it (atomic on
one file system). A reader that opened the old file keeps reading it as it was; one that opens after the rename
sees the new one. Nobody sees half a night, and no reader can make a run wait or fail.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from pipeline.ingest.validation import quote_ident
from pipeline.lib import publication

COPY = "serving_copy"  # the new file, attached to the warehouse connection while it is written
# Besides every table of schema marts: what the report shows about data quality and the landing feed.
EXTRA_TABLES = (("quality", "validation_results"), ("ingest", "manifest"))
QUARANTINE_REASONS = "SELECT reason, count(*) AS rows FROM ingest.quarantine GROUP BY reason"


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of everything copied: the marts, then the extras that exist."""
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' ORDER BY 1, 2"
    ).fetchall()
    return [(s, t) for s, t in rows if s == "marts"] + [(s, t) for s, t in rows if (s, t) in EXTRA_TABLES]


def publish(con: duckdb.DuckDBPyConnection, serving: Path, run_id: str, as_of: dt.date | None) -> dict[str, int]:
    """Writes the serving file anew from the warehouse behind `con`; returns the row count of each table."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    partial = serving.with_name(f".{serving.name}.{run_id}.partial")
    partial.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con.execute("SET preserve_insertion_order = false")  # row order means nothing in a mart; copies in parallel
    con.execute(f"ATTACH ? AS {COPY}", [str(partial)])
    try:
        for schema, table in published_tables(con):
            target, source = f"{COPY}.{quote_ident(schema)}.{quote_ident(table)}", f"{quote_ident(schema)}.{quote_ident(table)}"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {COPY}.{quote_ident(schema)}")
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            counts[f"{schema}.{table}"] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {COPY}.ingest")
        con.execute(f"CREATE TABLE {COPY}.ingest.quarantine_reasons AS {QUARANTINE_REASONS}")
        table = f"{COPY}.main.{publication.TABLE}"
        con.execute(f"CREATE TABLE {table} ({publication.COLUMNS})")
        con.execute(
            f"INSERT INTO {table} SELECT ?, now()::TIMESTAMP, (SELECT max(loaded_at) FROM ingest.changes), ?, "
            "(SELECT min(period_start) FROM marts.retention), ?",
            [run_id, as_of, len(counts)],
        )
    finally:
        con.execute(f"DETACH {COPY}")
    os.replace(partial, serving)
    return counts
