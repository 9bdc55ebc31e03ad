"""Reads landing files into one staged table of text columns, many files per DuckDB read.

Files are grouped by reader and header (CSV: the exact first line; Parquet: the column names), so a thousand
daily exports with the same layout are read, checked and loaded in one SQL pass instead of a thousand. The
staged table has `_file` (path relative to the landing folder), `_row` (1-based data row in that file) and
every column of the files as VARCHAR.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.ingest.validation import quote_ident

READERS = {".csv": "csv", ".parquet": "parquet"}
STAGED = "_ingest_staged"
FILES = "_ingest_files"  # path, _file, batch_id, content_hash, size_bytes, file_order of the staged files
CSV_OPTIONS = "header = true, all_varchar = true, null_padding = true, filename = '_path'"


@dataclass(frozen=True)
class LandingFile:
    path: Path
    rel: str  # relative to the landing folder, posix separators
    content_hash: str
    batch_id: int

    @property
    def reader(self) -> str:
        return READERS[self.path.suffix.lower()]


class FileRejected(Exception):
    """The file as a whole cannot be loaded; the message names the file."""


def layout_key(con: duckdb.DuckDBPyConnection, file: LandingFile) -> tuple[str, str]:
    """Files with equal keys can be read together: same reader, same header."""
    if file.reader == "csv":
        with file.path.open("rb") as handle:
            return ("csv", handle.readline(1 << 16).hex())
    try:
        names = con.execute("SELECT name FROM parquet_schema(?) WHERE num_children IS NULL", [str(file.path)]).fetchall()
    except duckdb.Error:
        return ("parquet-unreadable", file.rel)  # alone in its group; the read reports the error
    return ("parquet", ",".join(n[0] for n in names))


def group_by_layout(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> list[list[LandingFile]]:
    """Runs of consecutive files (in path order) with the same layout.

    Only consecutive files are grouped, so groups are applied in path order and the latest batch still wins
    when the layout changes somewhere in the history.
    """
    groups: list[list[LandingFile]] = []
    previous = None
    for file in files:
        key = layout_key(con, file)
        if key != previous:
            groups.append([])
            previous = key
        groups[-1].append(file)
    return groups


def _read_sql(reader: str, encoding: str) -> str:
    if reader == "csv":
        return f"read_csv(?, {CSV_OPTIONS}, encoding = '{encoding}')"
    return "read_parquet(?, filename = '_path', file_row_number = true)"


def stage(con: duckdb.DuckDBPyConnection, files: list[LandingFile], encoding: str = "utf-8") -> list[str]:
    """Stage the files (all of one layout) into STAGED, and list them in FILES; returns their column names."""
    for file in files:
        if file.path.stat().st_size == 0:
            raise FileRejected(f"{file.rel}: the file is empty (no header, no rows)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FILES} AS SELECT * FROM (SELECT unnest(?) AS path, unnest(?) AS _file, "
        "unnest(?)::BIGINT AS batch_id, unnest(?) AS content_hash, unnest(?)::BIGINT AS size_bytes, "
        "generate_subscripts(?, 1) AS file_order)",
        [[str(f.path) for f in files], [f.rel for f in files], [f.batch_id for f in files],
         [f.content_hash for f in files], [f.path.stat().st_size for f in files], [f.rel for f in files]],
    )
    reader = files[0].reader
    paths = [str(f.path) for f in files]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ingest_read AS SELECT * FROM {_read_sql(reader, encoding)}", [paths])
    columns = [r[0] for r in con.execute("DESCRIBE _ingest_read").fetchall() if r[0] not in ("_path", "file_row_number")]
    as_text = ", ".join(f"CAST(r.{quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    # Row numbers: Parquet knows them; for CSV, rowid follows the reading order, which DuckDB preserves.
    row = "r.file_row_number + 1" if reader == "parquet" else "row_number() OVER (PARTITION BY r._path ORDER BY r.rowid)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED} AS "
        f"SELECT f._file, {row} AS _row, {as_text} FROM _ingest_read r JOIN {FILES} f ON f.path = r._path"
    )
    con.execute("DROP TABLE _ingest_read")
    return columns
