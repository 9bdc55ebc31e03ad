"""Reads a group of landing files as one relation of text columns, many files per DuckDB read.

Files are grouped by reader and header (CSV: the exact first line; Parquet: the column names), so a thousand
daily exports with the same layout are read, checked and loaded in one SQL pass instead of a thousand. A
group's `Source` is a relation with `_ingest_file` (the file's 1-based position in the group) and every
column of the files as VARCHAR, in reading order (DuckDB preserves it). Nothing is materialized here: the
check (see validation.py) reads the source once, straight into the typed table it needs, so the text of a
large load is never stored.

Row numbers come from that reading order: the checked table is filled by a plan with no join or sort, so its
row ids follow the reader, and a file's rows are numbered from its first row id (`number_rows`). A file's
own columns (`rowid`, `file_row_number`, ...) cannot shadow them. File columns named like the quarantine
record's own `_file` and `_row`, or starting with the checking query's prefix `_ingest_`, are left out: they
are never contract columns, and extra columns are ignored anyway.

CSV dialect sniffing costs more than parsing (it reads up to 20,480 rows of every file), so a group of plain
files is read with the dialect sniffed from its first file (see `plain_csv_reader`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb

from pipeline.ingest.failures import Failure, FileRejected, classify
from pipeline.ingest.plain_csv import plain_csv_reader
from pipeline.ingest.scan import FileScan, FileStamp, scan_file, stamp_file
from pipeline.ingest.validation import FILE_ORDER, INTERNAL, quote_ident, quote_literal

READERS = {".csv": "csv", ".parquet": "parquet"}
DEFAULT_MAX_LINE_SIZE = 2_000_000  # DuckDB's own limit on a CSV line, in bytes
FILES = "_ingest_files"  # _file, batch_id, content_hash, size_bytes, modified_ns, file_order, first_ordinal
PATH = "_ingest_path"  # the reader's file name column; file columns cannot clash (INTERNAL prefix)
RESERVED = {"_file", "_row"}  # compared lower-case: DuckDB identifiers ignore case
CSV_OPTIONS = f"header = true, all_varchar = true, null_padding = true, filename = '{PATH}'"
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
    scan: FileScan | None = None  # from the read that hashed the file; read again when absent or incomplete
    stamp: FileStamp | None = None  # size and mtime taken before that read; taken now when absent

    @property
    def reader(self) -> str:
        return READERS[self.path.suffix.lower()]

    @cached_property
    def recorded_stamp(self) -> FileStamp:
        return self.stamp or stamp_file(self.path)

    @cached_property
    def facts(self) -> FileScan:
        return self.scan if self.scan and self.scan.complete else scan_file(self.path)

    @property
    def long_lines(self) -> bool:
        """A CSV line longer than DuckDB's limit: the file is read alone, with room for it (a read that fails on
        the limit costs seconds per megabyte in DuckDB's sniffer)."""
        return self.reader == "csv" and self.facts.longest_line > DEFAULT_MAX_LINE_SIZE


@dataclass(frozen=True)
class Source:
    """A group's files as one relation: FILE_ORDER, then every staged column as VARCHAR, in reading order."""

    relation: str  # a parenthesised SELECT with `?` placeholders for `params`
    params: list
    columns: list[str]  # the staged columns, in file order


def layout_key(con: duckdb.DuckDBPyConnection, file: LandingFile) -> tuple[str, str]:
    """Files with equal keys can be read together: same reader, same header."""
    if file.long_lines:
        return ("csv-long-lines", file.rel)  # alone in its group, see LandingFile.long_lines
    if file.reader == "csv":
        return ("csv", file.facts.header.hex())
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


def _check_readable(file: LandingFile) -> None:
    """Reject, with a clear message, files that DuckDB would read as something they are not."""
    facts = file.facts
    if facts.blank:  # blank lines alone would be read as rows of a file without the header
        raise FileRejected(f"{file.rel}: the file is empty (no header, no rows)")
    if file.reader == "csv" and facts.gzip:
        raise FileRejected(f"{file.rel}: the file is gzip-compressed, not a plain CSV: decompress it and land it again")


def _reserved(name: str) -> bool:
    return name.lower() in RESERVED or name.lower().startswith(INTERNAL)


def _source(files: list[LandingFile], reader_sql: str, columns: list[str]) -> Source:
    """The staged relation over one reader call: which file a row is from, and its columns as text."""
    staged = [c for c in columns if not _reserved(c)]
    as_text = "".join(f", CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in staged)
    paths = [duckdb_path(f.path) for f in files]
    if "file_index" not in {c.lower() for c in columns}:  # DuckDB's virtual column: the file's place in the list
        return Source(f"(SELECT CAST(file_index + 1 AS BIGINT) AS {FILE_ORDER}{as_text} FROM {reader_sql})", [paths], staged)
    # A file column shadows it: look the file name up instead (one constant per chunk, so one lookup per chunk).
    # DuckDB reports each file by its real path, as given before the glob escapes.
    relation = f"(SELECT list_position(?, {PATH}) AS {FILE_ORDER}{as_text} FROM {reader_sql})"
    return Source(relation, [[str(f.path) for f in files], paths], staged)


def _sniffing_source(con: duckdb.DuckDBPyConnection, files: list[LandingFile], encoding: str, parallel: bool,
                     max_line_size: int | None) -> Source:
    """Every file's dialect detected on its own (CSV), or Parquet with its own types."""
    if files[0].reader == "csv":
        reader_sql = f"read_csv(?, {CSV_OPTIONS}, encoding = {quote_literal(encoding)}, parallel = {str(parallel).lower()}"
        if max_line_size:  # DuckDB's buffers default to 16 times the line limit: two are enough for one line
            reader_sql += f", max_line_size = {int(max_line_size)}, buffer_size = {2 * int(max_line_size)}"
        reader_sql += ")"
    else:
        reader_sql = f"read_parquet(?, filename = '{PATH}')"
    described = con.execute(f"DESCRIBE SELECT * FROM {reader_sql}", [[duckdb_path(f.path) for f in files]]).fetchall()
    return _source(files, reader_sql, [row[0] for row in described if row[0] != PATH])


def _plain_source(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> Source | None:
    if not all(f.facts.plain for f in files):
        return None
    plain = plain_csv_reader(con, duckdb_path(files[0].path), PATH)
    return _source(files, *plain) if plain else None


def _list_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile]) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FILES} AS SELECT * FROM (SELECT unnest(?) AS _file, "
        "unnest(?)::BIGINT AS batch_id, unnest(?) AS content_hash, unnest(?)::BIGINT AS size_bytes, "
        "unnest(?)::BIGINT AS modified_ns, generate_subscripts(?, 1) AS file_order, NULL::BIGINT AS first_ordinal)",
        [[f.rel for f in files], [f.batch_id for f in files], [f.content_hash for f in files],
         [f.recorded_stamp.size_bytes for f in files], [f.recorded_stamp.modified_ns for f in files],
         [f.rel for f in files]],
    )


def stage(con: duckdb.DuckDBPyConnection, files: list[LandingFile], read: Callable[[Source], None],
          encoding: str = "utf-8", parallel: bool = True, max_line_size: int | None = None) -> Source:
    """List the files (all of one layout) in FILES and have `read` read them; returns the source it read.

    `read` gets the plain reader first where the files allow it, and the sniffing reader when that fails.
    `encoding`, `parallel` and `max_line_size` are CSV options for the file-by-file retries (Latin-1 exports,
    quoted line breaks, a line longer than DuckDB's default limit).
    """
    for file in files:
        _check_readable(file)
    _list_files(con, files)
    if files[0].reader == "csv" and encoding == "utf-8" and parallel and max_line_size is None:
        plain = _plain_source(con, files)
        if plain is not None:
            try:
                read(plain)
                return plain
            except duckdb.Error as exc:
                if classify(exc) is not Failure.CONTENT:
                    raise  # memory, disk, an interruption: the sniffing reader would not fare better
                # not so plain after all: sniff every file
    source = _sniffing_source(con, files, encoding, parallel, max_line_size)
    read(source)
    return source


LINE_SIZE = re.compile(r"actual size: ?(\d+)")


def _retry_option(exc: duckdb.Error, options: dict[str, object], file: LandingFile) -> dict[str, object] | None:
    """The CSV read option that gets past this error, or None when no retry can help."""
    message = str(exc).lower()
    if "unicode" in message and "encoding" not in options:
        # not UTF-8: exports from older systems are often Latin-1, which maps every byte to a character
        return {"encoding": "latin-1"}
    if "parallel=false" in message and "parallel" not in options:
        # quoted line breaks inside values: DuckDB's parallel reader cannot pad short rows around them
        return {"parallel": False}
    limit = int(options.get("max_line_size") or DEFAULT_MAX_LINE_SIZE)
    if "maximum line size" in message and limit <= (file.recorded_stamp.size_bytes or 0):
        # a line longer than the limit: read with room for it (and twice the last limit, should a later line
        # be longer still); no line is longer than the file, so the retries end
        actual = LINE_SIZE.search(message)
        return {"max_line_size": max(int(actual.group(1)) + 1 if actual else 0, 2 * limit)}
    return None


def stage_alone(con: duckdb.DuckDBPyConnection, file: LandingFile, read: Callable[[Source], None]) -> Source:
    """Read one file, retrying with the read options its errors ask for (they may need more than one)."""
    options: dict[str, object] = {"max_line_size": file.facts.longest_line + 1} if file.long_lines else {}
    while True:
        try:
            return stage(con, [file], read, **options)
        except duckdb.Error as exc:
            if classify(exc) is not Failure.CONTENT:
                raise
            extra = _retry_option(exc, options, file)
            if extra is None:
                raise
            options |= extra


def number_rows(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Record each file's first row id in `table` (filled in reading order): row n of a file is that id + n - 1."""
    con.execute(
        f"UPDATE {FILES} f SET first_ordinal = o.first FROM (SELECT {FILE_ORDER} AS file_order, min(rowid) AS first "
        f"FROM {table} GROUP BY 1) o WHERE f.file_order = o.file_order"
    )


def file_lists(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[int], list[int]]:
    """Paths, batch ids and first row ids of the group, by file order: constant lookups instead of a join."""
    rows = con.execute(f"SELECT _file, batch_id, coalesce(first_ordinal, 0) FROM {FILES} ORDER BY file_order").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def drop_files(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {FILES}")
