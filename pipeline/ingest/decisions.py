"""Which rows of a checked group repeat a key within their file, and which lose to a later row of their key.

Both questions concern only keys that occur more than once in the group. One narrow aggregate over the typed
keys finds those (two rows with the same key text have the same typed key, so every duplicate in a file is
among them), and only their rows, a few per cent of a first load, are looked at further. A good row whose key
text occurred earlier in its file is quarantined as `duplicate_key_in_file`; of the good rows left, the last
one of each key (latest file, then latest row) wins and the others are dropped from the checked table before
it is inserted. The rows are never copied: the checked table is updated in place.

The raw record of a duplicate (the whole row as text) was not kept by the read, which keeps it for bad rows
only. Duplicates are rare, so their group is read again, numbered in the same reading order, and only their
records are taken from it.
"""

from __future__ import annotations

import duckdb

from pipeline.ingest.contract import Entity
from pipeline.ingest.staging import Source
from pipeline.ingest.validation import (
    DUPLICATE,
    FILE_ORDER,
    RAW,
    RAW_VALUE,
    RULE,
    key_texts,
    quote_ident,
    raw_record_sql,
    rule_number,
)

CHECKED = "_ingest_checked"
REPEATS = "_ingest_repeats"  # row id, file, rule, typed keys and key texts of the rows whose key repeats
DUPLICATES = "_ingest_duplicates"
ORD = "_ingest_ord"


def _keys(entity: Entity, alias: str = "") -> list[str]:
    return [f"{alias}{quote_ident(k)}" for k in entity.key]


def find_repeats(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    keys = ", ".join(_keys(entity))
    texts = "".join(f", c.{t}" for k, t in key_texts(entity).items() if t != quote_ident(k))
    match = " AND ".join(f"c.{k} = r.{k}" for k in _keys(entity))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REPEATS} AS SELECT c.rowid AS {ORD}, c.{FILE_ORDER}, c.{RULE}, "
        f"{', '.join(_keys(entity, 'c.'))}{texts} FROM {CHECKED} c SEMI JOIN ("
        f"SELECT {keys} FROM {CHECKED} WHERE {' AND '.join(f'{k} IS NOT NULL' for k in _keys(entity))} "
        f"GROUP BY ALL HAVING count(*) > 1) r ON {match}"
    )


def mark_duplicates(con: duckdb.DuckDBPyConnection, entity: Entity, source: Source) -> None:
    """Quarantine every good row whose key text came earlier in its file (the first row of a key is kept)."""
    texts = ", ".join(key_texts(entity).values())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DUPLICATES} AS SELECT {ORD} FROM (SELECT {ORD}, {RULE}, "
        f"min({ORD}) OVER (PARTITION BY {FILE_ORDER}, {texts}) AS first FROM {REPEATS}) "
        f"WHERE {RULE} IS NULL AND {ORD} > first"
    )
    if con.execute(f"SELECT count(*) FROM {DUPLICATES}").fetchone()[0]:
        _quarantine_duplicates(con, entity, source)
    con.execute(f"DROP TABLE {DUPLICATES}")


def _quarantine_duplicates(con: duckdb.DuckDBPyConnection, entity: Entity, source: Source) -> None:
    """Give the duplicates their rule, raw value (the last key column's text) and raw record (read again)."""
    number = rule_number(entity, DUPLICATE)
    reread = (
        f"SELECT {ORD}, {raw_record_sql(source.columns)} AS raw FROM (SELECT row_number() OVER () - 1 AS {ORD}, * "
        f"FROM {source.relation}) WHERE {ORD} IN (SELECT {ORD} FROM {DUPLICATES})"
    )
    con.execute(
        f"UPDATE {CHECKED} c SET {RULE} = {number}, {RAW_VALUE} = c.{key_texts(entity)[entity.key[-1]]}, {RAW} = d.raw "
        f"FROM ({reread}) d WHERE c.rowid = d.{ORD}",
        source.params,
    )
    con.execute(f"UPDATE {REPEATS} SET {RULE} = {number} WHERE {ORD} IN (SELECT {ORD} FROM {DUPLICATES})")


def drop_superseded(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Delete the good rows a later good row of the same key replaces: the latest file, then row, wins."""
    keys = ", ".join(_keys(entity))
    con.execute(
        f"DELETE FROM {CHECKED} WHERE rowid IN (SELECT {ORD} FROM (SELECT {ORD}, max({ORD}) OVER (PARTITION BY {keys}) "
        f"AS last FROM {REPEATS} WHERE {RULE} IS NULL) WHERE {ORD} < last)"
    )
    con.execute(f"DROP TABLE {REPEATS}")
