"""A reader for groups of plain CSV files that skips DuckDB's per-file dialect sniffing.

Sniffing reads up to 20,480 rows of every file to guess its delimiter, quoting, comments and line ends; for
a thousand daily exports that is several times the cost of parsing them. Files of one group share their
exact header line, so when none of them holds a byte that makes the dialect ambiguous (a quote, a carriage
return, a comment sign, a NUL, a byte-order mark), the dialect sniffed from the first file is the dialect of
every file: they are read with it and `auto_detect = false`. Those bytes are looked for in the one read of
each file that also hashes it (`scan.py`).

Strict mode makes the plain read fail on any row whose field count differs from the header's; the caller then
reads the group with the sniffing reader, so ragged rows and blank-line quirks keep their sniffed handling
and the plain read never produces a result the sniffing reader would not.
"""

from __future__ import annotations

import duckdb


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def plain_csv_reader(con: duckdb.DuckDBPyConnection, first: str, path_column: str) -> tuple[str, list[str]] | None:
    """The `read_csv(?, ...)` call for a group of plain files (see `scan.FileScan.plain`) without sniffing, and
    its column names; None when the first file's dialect is not plain after all.

    `first` is the first file's path as DuckDB's readers take it (glob characters escaped).
    """
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
    reader = (
        f"read_csv(?, auto_detect = false, header = true, delim = {_literal(delimiter)}, quote = '', escape = '', "
        f"new_line = '\\n', skip = 0, comment = '', strict_mode = true, null_padding = false, "
        f"columns = {{{names}}}, filename = {_literal(path_column)})"
    )
    return reader, [c["name"] for c in columns]
