"""A reader for groups of plain CSV files that skips DuckDB's per-file dialect sniffing.

Sniffing reads up to 20,480 rows of every file to guess its delimiter, quoting, comments and line ends; for
a thousand daily exports that is several times the cost of parsing them. Files of one group share their
exact header line, so when none of them holds a byte that makes the dialect ambiguous (a quote, a carriage
return, a comment sign, a NUL, a byte-order mark), the dialect sniffed from the first file is the dialect of
every file: they are read with it and `auto_detect = false`.

Strict mode makes the plain read fail on any row whose field count differs from the header's; the caller then
reads the group with the sniffing reader, so ragged rows and blank-line quirks keep their sniffed handling
and the plain read never produces a result the sniffing reader would not.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

# Bytes after which the sniffed dialect of one file may not fit another: quoting, CR line ends, comments, binary.
AMBIGUOUS = (b'"', b"\r", b"#", b"\x00")
BOM = b"\xef\xbb\xbf"
CHUNK = 1 << 20


def is_plain(path: Path) -> bool:
    """No byte in the file could make its dialect differ from that of a file with the same header."""
    with path.open("rb") as handle:
        first = handle.read(CHUNK)
        if first.startswith(BOM):
            return False
        chunk = first
        while chunk:
            if any(byte in chunk for byte in AMBIGUOUS):  # a memchr each, far faster than a regex
                return False
            chunk = handle.read(CHUNK)
    return True


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def plain_csv_reader(con: duckdb.DuckDBPyConnection, paths: list[Path], first: str, path_column: str) -> str | None:
    """The `read_csv(?, ...)` call for the group without sniffing, or None when the group needs sniffing.

    `first` is the first file's path as DuckDB's readers take it (glob characters escaped).
    """
    if not all(is_plain(path) for path in paths):
        return None
    try:
        sniffed = con.execute(
            "SELECT Delimiter, Quote, Escape, NewLineDelimiter, SkipRows, Comment, Columns "
            "FROM sniff_csv(?, header = true, all_varchar = true, null_padding = true)",
            [first],
        ).fetchone()
    except duckdb.Error:
        return None  # the sniffing reader reports what is wrong with the file
    delimiter, quote, escape, newline, skip, comment, columns = sniffed
    if (quote, escape, comment, newline, skip) != ("(empty)", "(empty)", "(empty)", "\\n", 0) or len(delimiter) != 1:
        return None
    names = ", ".join(f"{_literal(c['name'])}: 'VARCHAR'" for c in columns)
    return (
        f"read_csv(?, auto_detect = false, header = true, delim = {_literal(delimiter)}, quote = '', escape = '', "
        f"new_line = '\\n', skip = 0, comment = '', strict_mode = true, null_padding = false, "
        f"columns = {{{names}}}, filename = {_literal(path_column)})"
    )
