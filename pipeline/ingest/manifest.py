"""What the manifest says about the files already read: which ones to skip, and which to read again.

A manifest row with a content hash is a verdict on those bytes: loaded, or rejected for its content. The
loader skips a file whose path and hash have a verdict. Two kinds of rows are no verdict, so their files are
read again:

- a rejection older than the latest retry request (`retention run --retry-rejected` adds one to
  `ingest.retry_requests`): the user fixed what made it fail outside the file, or wants to see it again;
- an error that earlier versions recorded for a transient failure (out of memory, a lock, a full disk): the
  file's rows were never judged, and the current loader never records such an error (see failures.py).

A file that could not even be opened has an empty hash and is no verdict either: it is tried on every run.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipeline.ingest.changes import utc_now
from pipeline.ingest.tables import create_warehouse_tables
from pipeline.lib.retries import TRANSIENT_MARKERS


def transient_error_sql(column: str) -> str:
    """SQL true for an error text that names a transient failure."""
    return "(" + " OR ".join(f"contains(lower({column}), '{m}')" for m in TRANSIENT_MARKERS) + ")"


VERDICTS = f"""(SELECT * FROM ingest.manifest m WHERE m.content_hash <> ''
    AND NOT coalesce(m.error IS NOT NULL AND {transient_error_sql('m.error')}, false)
    AND NOT coalesce(m.error IS NOT NULL AND m.loaded_at <= (SELECT max(requested_at) FROM ingest.retry_requests),
                     false))"""


def known_files(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple[str, str]], set[tuple[str, int, int]]]:
    """(path, content hash) of every verdict, and (path, size, mtime) of those with a trusted stamp (scan.py)."""
    seen = set(con.execute(f"SELECT path, content_hash FROM {VERDICTS}").fetchall())
    stamped = set(con.execute(
        f"SELECT path, size_bytes, modified_ns FROM {VERDICTS} WHERE modified_ns IS NOT NULL"
    ).fetchall())
    return seen, stamped


def request_retry_of_rejected(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> int:
    """Have the next ingest read again every file rejected so far; returns how many files that concerns."""
    create_warehouse_tables(con)
    now = now or utc_now()
    con.execute("INSERT INTO ingest.retry_requests VALUES (?)", [now])
    return con.execute(
        "SELECT count(*) FROM (SELECT arg_max(error IS NOT NULL, batch_id) AS rejected FROM ingest.manifest "
        "WHERE content_hash <> '' GROUP BY path) WHERE rejected"
    ).fetchone()[0]
