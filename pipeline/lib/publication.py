"""The serving file's record of its publication: which loads the published marts reflect, and their as-of day.

Publishing writes it (pipeline/serving/publish.py). Ingest reads it to say from which day the next build must
rebuild: every load since the last publication counts, so the quarters of a build that failed, was stopped by a
blocking check or was killed are rebuilt by the next one. Shared here because both domains need its shape.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

TABLE = "publication"  # in the serving file's main schema: `SELECT * FROM publication`
COLUMNS = (
    "run_id VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL, loaded_through TIMESTAMP, as_of DATE, "
    "first_period DATE, tables INTEGER NOT NULL"
)


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: dt.datetime
    loaded_through: dt.datetime | None  # the newest load (ingest.changes.loaded_at) the marts reflect
    as_of: dt.date | None
    first_period: dt.date | None  # the first period of the marts: the quarter partitions start there


def last_publication(serving: Path) -> Publication | None:
    """The serving file's publication; None before the first (or in a file without one)."""
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [TABLE]).fetchone()[0]
        columns = "run_id, published_at, loaded_through, as_of, first_period"
        row = con.execute(f"SELECT {columns} FROM {TABLE}").fetchone() if exists else None
    return Publication(*row) if row else None
