"""DDL for the warehouse tables that ingest owns: one raw table per landing entity, the manifest, the quarantine, the
logs of which days and which customers each load touched, and the requests to read rejected files again.

The raw tables always exist (empty when their folder is absent), so dbt sources and every downstream asset
work for a business that has only invoices or only orders.
"""

from __future__ import annotations

import duckdb

from pipeline.ingest.contract import ENTITIES, LINEAGE_COLUMNS, Entity

MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS ingest.manifest (
    batch_id BIGINT PRIMARY KEY,
    entity VARCHAR NOT NULL,
    path VARCHAR NOT NULL,           -- relative to the landing folder
    content_hash VARCHAR NOT NULL,   -- sha256 of the file bytes
    size_bytes BIGINT,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT,
    loaded_at TIMESTAMP NOT NULL,
    error VARCHAR,                   -- set when the file could not be read or was rejected whole
    modified_ns BIGINT               -- the file's mtime (ns) when hashed; NULL if too recent to trust (scan.py)
)
"""
# Warehouses created before modified_ns existed get it appended, where the DDL above has it too.
MANIFEST_MIGRATION = "ALTER TABLE ingest.manifest ADD COLUMN IF NOT EXISTS modified_ns BIGINT"

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS ingest.quarantine (
    batch_id BIGINT NOT NULL,
    entity VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,      -- 1-based data row (header not counted)
    "column" VARCHAR,
    raw_value VARCHAR,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,              -- the whole row as JSON of its raw text, so nothing is lost
    quarantined_at TIMESTAMP NOT NULL
)
"""

CHANGES_DDL = """
CREATE TABLE IF NOT EXISTS ingest.changes (
    loaded_at TIMESTAMP NOT NULL,
    entity VARCHAR NOT NULL,
    first_day DATE,                  -- earliest day a new or replaced row touches (NULL: no period mart reads it)
    rows_inserted BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL
)
"""

CHANGED_CUSTOMERS_DDL = """
CREATE TABLE IF NOT EXISTS ingest.changed_customers (
    loaded_at TIMESTAMP NOT NULL,    -- the load (group of files) that changed them, as in ingest.changes
    entity VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL     -- a customer whose derived numbers the load's new or replaced rows can change
)
"""

RETRY_REQUESTS_DDL = """
CREATE TABLE IF NOT EXISTS ingest.retry_requests (
    requested_at TIMESTAMP NOT NULL  -- files rejected for their content up to then are read again (manifest.py)
)
"""


def raw_table_ddl(entity: Entity) -> str:
    cols = [f'"{c.name}" {c.sql_type}' for c in entity.columns]
    cols += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS.items()]
    return f"CREATE TABLE IF NOT EXISTS {entity.qualified} (\n    " + ",\n    ".join(cols) + "\n)"


def create_warehouse_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table ingest writes to; a no-op when they exist."""
    for schema in sorted({e.source for e in ENTITIES} | {"ingest"}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for entity in ENTITIES:
        con.execute(raw_table_ddl(entity))
    con.execute(MANIFEST_DDL)
    con.execute(MANIFEST_MIGRATION)
    con.execute(QUARANTINE_DDL)
    con.execute(CHANGES_DDL)
    con.execute(CHANGED_CUSTOMERS_DDL)
    con.execute(RETRY_REQUESTS_DDL)
