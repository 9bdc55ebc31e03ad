"""Reads landing files into one staged view of text columns, many files per DuckDB read.

Files are grouped by reader and header (CSV: the exact first line; Parquet: the column names), so a thousand
daily exports with the same layout are read, checked and loaded in one SQL pass instead of a thousand. The
staged view has `_file` (path relative to the landing folder), `_row` (1-based data row in that file) and
every column of the files as VARCHAR. It is a view over the one table the read fills, so the text of a
large load is written once, not copied.

Row numbers come from the reading order (DuckDB preserves it), counted with a streaming `row_number() OVER ()`
under an internal name, so a file's own columns (`rowid`, `file_row_number`, ...) can never shadow them; a
file's rows are numbered from its first ordinal. File columns named like the staged view's own `_file` and
`_row`, or starting with the checking query's prefix `_ingest_`, are left out: they are never contract
columns, and extra columns are ignored anyway.

CSV dialect sniffing costs more than parsing (it reads up to 20,480 rows of every file), so a group of plain
files is read with the dialect sniffed from its first file (see `plain_csv_reader`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.ingest.plain_csv import plain_csv_reader
from pipeline.ingest.validation import INTERNAL, quote_ident

READERS = {".csv": "csv", ".parquet": "parquet"}
STAGED = "_ingest_staged"  # a view over READ
READ = "_ingest_read"
FILES = "_ingest_files"  # path, _file, batch_id, content_hash, size_bytes, file_order of the staged files
PATH, ORDINAL = "_ingest_path", "_ingest_ordinal"  # internal columns of the read; file columns cannot clash
RESERVED = {PATH, ORDINAL, "_file", "_row"}  # compared lower-case: DuckDB identifiers ignore case
CSV_OPTIONS = f"header = true, all_varchar = true, null_padding = true, filename = '{PATH}'"
GZIP_MAGIC = b"\x1f\x8b"
# DuckDB expands glob patterns in every path it reads; a character class matches each of these literally.
GLOB_ESCAPES = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def duckdb_path(path: Path) -> str:
    """The path for DuckDB's readers: `star*.csv` must read that one file, not every file it matches."""
    return str(path).translate(GLOB_ESCAPES)


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
        names = con.execute("SELECT name FROM parquet_schema(?) WHERE num_children IS NULL", [duckdb_path(file.path)]).fetchall()
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


def _read_sql(reader: str, encoding: str, parallel: bool) -> str:
    """The sniffing reader: every file's dialect detected on its own."""
    if reader == "csv":
        return f"read_csv(?, {CSV_OPTIONS}, encoding = '{encoding}', parallel = {str(parallel).lower()})"
    return f"read_parquet(?, filename = '{PATH}')"


def _is_blank(path: Path) -> bool:
    """Nothing but whitespace in the file; stops reading at the first other byte."""
    with path.open("rb") as handle:
        return not any(chunk.strip() for chunk in iter(lambda: handle.read(1 << 16), b""))


def _check_readable(file: LandingFile) -> None:
    """Reject, with a clear message, files that DuckDB would read as something they are not."""
    if _is_blank(file.path):  # blank lines alone would be read as rows of a file without the header
        raise FileRejected(f"{file.rel}: the file is empty (no header, no rows)")
    with file.path.open("rb") as handle:
        start = handle.read(len(GZIP_MAGIC))
    if file.reader == "csv" and start == GZIP_MAGIC:
        raise FileRejected(f"{file.rel}: the file is gzip-compressed, not a plain CSV: decompress it and land it again")


def stage(con: duckdb.DuckDBPyConnection, files: list[LandingFile], encoding: str = "utf-8", parallel: bool = True) -> list[str]:
    """Stage the files (all of one layout) into STAGED, and list them in FILES; returns their column names.

    `encoding` and `parallel` are CSV options for the file-by-file retries (Latin-1 exports, quoted line breaks).
    """
    for file in files:
        _check_readable(file)
    drop_staged(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FILES} AS SELECT * FROM (SELECT unnest(?) AS path, unnest(?) AS _file, "
        "unnest(?)::BIGINT AS batch_id, unnest(?) AS content_hash, unnest(?)::BIGINT AS size_bytes, "
        "generate_subscripts(?, 1) AS file_order)",
        [[str(f.path) for f in files], [f.rel for f in files], [f.batch_id for f in files],
         [f.content_hash for f in files], [f.path.stat().st_size for f in files], [f.rel for f in files]],
    )
    reader = files[0].reader
    paths = [duckdb_path(f.path) for f in files]  # the reader reports the real path, as FILES has it
    plain = None
    if reader == "csv" and encoding == "utf-8" and parallel:
        plain = plain_csv_reader(con, [f.path for f in files], paths[0], PATH)
    try:
        _read(con, plain or _read_sql(reader, encoding, parallel), paths)
    except duckdb.Error:
        if plain is None:
            raise
        _read(con, _read_sql(reader, encoding, parallel), paths)  # not so plain after all: sniff every file
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FILES} AS SELECT f.*, coalesce(o.first_ordinal, 1) AS first_ordinal "
        f"FROM {FILES} f LEFT JOIN (SELECT {PATH} AS path, min({ORDINAL}) AS first_ordinal FROM {READ} GROUP BY 1) o "
        "USING (path)"
    )
    columns = [r[0] for r in con.execute(f"DESCRIBE {READ}").fetchall() if not _reserved(r[0])]
    as_text = "".join(f", CAST(r.{quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {STAGED} AS SELECT f._file, r.{ORDINAL} - f.first_ordinal + 1 AS _row{as_text} "
        f"FROM {READ} r JOIN {FILES} f ON f.path = r.{PATH}"
    )
    return columns


def _reserved(name: str) -> bool:
    return name.lower() in RESERVED or name.lower().startswith(INTERNAL)


def _read(con: duckdb.DuckDBPyConnection, read_sql: str, paths: list[str]) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {READ} AS SELECT row_number() OVER () AS {ORDINAL}, * FROM {read_sql}", [paths])


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Free the staged text once a group is loaded (the view goes first: it depends on the table)."""
    con.execute(f"DROP VIEW IF EXISTS {STAGED}")
    con.execute(f"DROP TABLE IF EXISTS {READ}")
