"""Writes a checked group to the warehouse: quarantine, replaced rows, change logs, the new rows, the manifest.

Everything is derived from the one checked table (see validation.py and decisions.py) and from narrow
queries over it; the good rows are copied once, into the raw table. That copy has no join or sort in its
plan, so the rows go in reading order (file, then row) as before, and the file, row number and batch of each
row are constant-list lookups by the file's position. The target's rows that the group replaces (rows of
re-read files, rows with a key the group brings again) are found in one scan of the target and deleted by row
id; a target that is still empty (a first load) is not scanned at all.
"""

from __future__ import annotations

import duckdb

from pipeline.ingest.contract import Entity
from pipeline.ingest.decisions import CHECKED
from pipeline.ingest.staging import FILES, file_lists
from pipeline.ingest.validation import FILE_ORDER, RAW, RAW_VALUE, RULE, quote_ident, quote_literal

REPLACED = "_ingest_replaced"  # row id, first day touched and customer columns of the target rows replaced
RID = "_ingest_rid"
GOOD = f"{CHECKED} r WHERE r.{RULE} IS NULL"


def count_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Per file: its first row id (rows are numbered from it), rows read and rows without a broken rule."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FILES} AS SELECT f.* EXCLUDE (first_ordinal), c.first AS first_ordinal, "
        f"coalesce(c.n_read, 0) AS n_read, coalesce(c.n_good, 0) AS n_good FROM {FILES} f LEFT JOIN ("
        f"SELECT {FILE_ORDER} AS file_order, min(rowid) AS first, count(*) AS n_read, "
        f"count(*) FILTER (WHERE {RULE} IS NULL) AS n_good FROM {CHECKED} GROUP BY 1) c USING (file_order)"
    )


def quarantine(con: duckdb.DuckDBPyConnection, entity: Entity, stamp: str, reason: str, column: str) -> None:
    """Every checked row with a rule, with its raw record completed by its file and row number."""
    row = "c.rowid - f.first_ordinal + 1"
    record = (f"'{{\"_file\":' || to_json(f._file)::VARCHAR || ',\"_row\":' || CAST({row} AS VARCHAR) || "
              f"CASE WHEN c.{RAW} = '{{}}' THEN '}}' ELSE ',' || substr(c.{RAW}, 2) END")
    con.execute(
        f"INSERT INTO ingest.quarantine SELECT f.batch_id, {quote_literal(entity.folder)}, f._file, {row}, "
        f"{column}, c.{RAW_VALUE}, {reason}, {record}, {stamp} "
        f"FROM {CHECKED} c JOIN {FILES} f ON f.file_order = c.{FILE_ORDER} WHERE c.{RULE} IS NOT NULL"
    )


def find_replaced(con: duckdb.DuckDBPyConnection, entity: Entity) -> bool:
    """The target rows this group replaces, in REPLACED; False (and no table) when the target is empty."""
    target = entity.qualified
    if con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {target})").fetchone()[0]:
        return False
    match = " AND ".join(f"w.{quote_ident(k)} = r.{quote_ident(k)}" for k in entity.key)
    first_day = entity.touches_from or "NULL::DATE"
    extra = "".join(f", r.{quote_ident(c)}" for c in entity.touched_customer_columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REPLACED} AS SELECT r.rowid AS {RID}, {first_day} AS first_day{extra} "
        f"FROM {target} r WHERE r._source_file IN (SELECT _file FROM {FILES}) "
        f"OR EXISTS (SELECT 1 FROM {CHECKED} w WHERE w.{RULE} IS NULL AND {match})"
    )
    return True


def record_changes(con: duckdb.DuckDBPyConnection, entity: Entity, stamp: str, replaced: bool) -> None:
    """Log the earliest day the rows about to be inserted or replaced touch, so a nightly run rebuilds from there."""
    old_days = f" UNION ALL SELECT first_day FROM {REPLACED}" if replaced else ""
    first_day = (f"(SELECT min(d) FROM (SELECT {entity.touches_from} AS d FROM {GOOD}{old_days}))"
                 if entity.touches_from else "NULL")
    n_replaced = f"(SELECT count(*) FROM {REPLACED})" if replaced else "0"
    con.execute(
        f"INSERT INTO ingest.changes SELECT {stamp}, {quote_literal(entity.folder)}, {first_day}, "
        f"(SELECT count(*) FROM {GOOD}), {n_replaced}"
    )


def record_customers(con: duckdb.DuckDBPyConnection, entity: Entity, stamp: str, replaced: bool) -> None:
    """Log the customers whose derived numbers the new and replaced rows can change (ingest.changed_customers)."""
    if entity.touches_customers is None:
        return
    columns = ", ".join(quote_ident(c) for c in entity.touched_customer_columns)
    rows = f"(SELECT {columns} FROM {GOOD}" + (f" UNION ALL SELECT {columns} FROM {REPLACED})" if replaced else ")")
    entity_name = quote_literal(entity.folder)
    # One row per (load, entity, customer) whatever the reading path: a group that failed as a whole is loaded
    # in parts under the same stamp, and a customer of two parts is recorded once.
    con.execute(
        f"INSERT INTO ingest.changed_customers SELECT DISTINCT {stamp}, {entity_name}, customer_id "
        f"FROM ({entity.touches_customers.format(rows=rows)}) t WHERE NOT EXISTS (SELECT 1 FROM ingest.changed_customers "
        f"c WHERE c.loaded_at = {stamp} AND c.entity = {entity_name} AND c.customer_id = t.customer_id)"
    )


def replace_and_insert(con: duckdb.DuckDBPyConnection, entity: Entity, stamp: str, replaced: bool) -> None:
    """Delete the replaced target rows, then append the good rows in reading order."""
    target = entity.qualified
    if replaced:
        con.execute(f"DELETE FROM {target} WHERE rowid IN (SELECT {RID} FROM {REPLACED})")
    paths, batches, firsts = file_lists(con)
    columns = ", ".join(f"r.{quote_ident(c.name)}" for c in entity.columns)
    position = f"r.{FILE_ORDER}"
    con.execute(
        f"INSERT INTO {target} SELECT {columns}, list_extract(?, {position}), r.rowid - list_extract(?, {position}) + 1, "
        f"list_extract(?, {position}), {stamp} FROM {GOOD}",
        [paths, firsts, batches],
    )


def record_manifest(con: duckdb.DuckDBPyConnection, entity: Entity, stamp: str, error: str) -> list[tuple]:
    """One manifest row per file of the group; returns (path, rows read, loaded, quarantined, error) of each."""
    return con.execute(
        f"""INSERT INTO ingest.manifest
            SELECT batch_id, {quote_literal(entity.folder)}, _file, content_hash, size_bytes, n_read, n_good,
                   n_read - n_good, {stamp}, {error}, modified_ns
            FROM {FILES} f
            RETURNING path, rows_read, rows_loaded, rows_quarantined, error"""
    ).fetchall()


def drop_replaced(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {REPLACED}")
