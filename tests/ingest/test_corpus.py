"""A corpus of broken landing files (issue 5), each with the outcome the loader must produce.

Every case lands a few small files, runs `ingest_landing` once and checks, file by file, the manifest (rows
loaded, rows quarantined, error) and the quarantine (row number and reason of every rejected row). Behind every
case stands the rule the pipeline lives by: no file crashes the run, no row is lost (for a file that could be
read, rows read = rows loaded + rows quarantined = its data rows), and a file that cannot be read gets an error
naming it and stays in the landing folder. The outcomes are documented in docs/data-contract.md
("Broken files"); a case that changes outcome must change the contract too.

The files are generated here rather than checked in, so the bytes that matter (BOM, Latin-1, gzip, truncated
Parquet) are visible next to the expected outcome.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.ingest import loader
from pipeline.ingest.contract import ENTITIES_BY_FOLDER
from pipeline.ingest.loader import ingest_landing
from tests.ingest.conftest import INVOICE_HEADER, ORDER_HEADER, invoice_row, write_parquet

Content = bytes | str | Callable[[Path], object] | None  # None: a directory of that name


@dataclass(frozen=True)
class Outcome:
    """What the manifest and the quarantine must say about one file."""

    loaded: int = 0
    quarantined: tuple[tuple[int, str], ...] = ()  # (row_number, reason) of every rejected row
    error: tuple[str, ...] = ()  # words the manifest error must contain; empty: no error
    unreadable: bool = False  # the file could not be read at all: rows_read is NULL
    superseded: int = 0  # loaded rows that a later file of the same run restated
    recorded: bool = True  # False: never read, so not in the manifest (a symbolic link)

    @property
    def rows_read(self) -> int | None:
        return None if self.unreadable else self.loaded + len(self.quarantined)


def loaded(rows: int, *quarantined: tuple[int, str]) -> Outcome:
    return Outcome(loaded=rows, quarantined=quarantined)


def unreadable(*words: str) -> Outcome:
    return Outcome(error=words, unreadable=True)


def not_followed(*words: str) -> Outcome:
    """A symbolic link: reported with these words, never read, not in the manifest."""
    return Outcome(error=("symbolic link", "not read", *words), unreadable=True, recorded=False)


def rejected(rows: int, *words: str) -> Outcome:
    """A file without a required column: every row quarantined as missing_column."""
    return Outcome(quarantined=tuple((n, "missing_column") for n in range(1, rows + 1)), error=words)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, Content]  # path under the landing folder -> bytes, text, writer or None (a directory)
    outcomes: dict[str, Outcome]  # every file the run must report, and nothing else
    check: Callable | None = None  # further assertions on the warehouse: check(con, landing)


def csv(*lines: str, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def invoices(*rows: str, **kwargs) -> bytes:
    return csv(INVOICE_HEADER, *rows, **kwargs)


def order(order_id="o1", amount="10.00", status="completed") -> str:
    return ",".join([order_id, "c1", "2024-03-01 08:00:00", amount, "EUR", status])


def parquet(select_sql: str) -> Callable[[Path], object]:
    return lambda path: write_parquet(path, select_sql)


def truncated_parquet(select_sql: str) -> Callable[[Path], object]:
    def write(path: Path) -> None:
        write_parquet(path, select_sql)
        path.write_bytes(path.read_bytes()[:60])

    return write


def parquet_invoice(invoice_id="i1", amount="12.50::DECIMAL(10,2)", start="DATE '2024-01-01'",
                    end="DATE '2024-02-01'", issued="TIMESTAMP '2024-01-01 10:00:00'") -> str:
    """SELECT of one invoice line with typed columns; pass SQL expressions to change a column's type."""
    return (f"SELECT '{invoice_id}' AS invoice_id, 1 AS line_id, 'c1' AS customer_id, NULL AS subscription_id, "
            f"{amount} AS amount, 'USD' AS currency, {start} AS period_start, {end} AS period_end, "
            f"'paid' AS status, {issued} AS issued_at")


def link_to(target: str, content: bytes | None) -> Callable[[Path], object]:
    """A symbolic link to `target` beside the landing folder: a file with `content`, or a folder of CSV files."""
    def write(path: Path) -> None:
        outside = path.parents[1].parent / target  # path is <landing>/<entity>/<name>
        if content is None:
            outside.mkdir(parents=True, exist_ok=True)
            (outside / "inside.csv").write_bytes(invoices(invoice_row(invoice="from-a-linked-folder")))
        else:
            outside.write_bytes(content)
        path.symlink_to(outside, target_is_directory=content is None)

    return write


PASSWD = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def nothing_from_outside(con, landing):
    """Not a line of the linked files reached a table, the quarantine or the manifest."""
    for table, column in (("ingest.quarantine", "raw_record"), ("billing.invoices", "invoice_id"), ("ingest.manifest", "path")):
        values = [str(v) for (v,) in con.execute(f"SELECT {column} FROM {table}").fetchall()]
        assert not [v for v in values if "root:x" in v or "from-a-linked-folder" in v or "passwd" in v], values


def each_customer_once_per_load(con, landing):
    """The group failed as a whole and loaded in parts under one loaded_at: still one row per customer."""
    total, distinct, customers = con.execute(
        "SELECT count(*), count(DISTINCT (loaded_at, entity, customer_id)), count(DISTINCT customer_id) "
        "FROM ingest.changed_customers").fetchone()
    assert (total, distinct, customers) == (3, 3, 3)


LONG = "x" * 3_000_000  # DuckDB's own line limit is 2,000,000 bytes
LONGER = "y" * 9_000_000
QUOTED_LINES = ("z" * 99 + "\n") * 30_000  # no line of the file is long, the CSV row is


def rows_of(con, table: str, *columns: str) -> list[tuple]:
    return con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY _source_file, _source_row").fetchall()


def ids_are_literal(*expected: str):
    def check(con, landing):
        assert [r[0] for r in rows_of(con, "billing.invoices", "invoice_id")] == list(expected)

    return check


def tables_intact(con, landing):
    """The SQL-looking ids were data: every table still exists and holds what was loaded."""
    ids_are_literal("inv'; DROP TABLE billing.invoices; --", 'say "hi", then leave', "a'b")(con, landing)
    for table in ("billing.invoices", "shop.orders", "ingest.manifest", "ingest.quarantine"):
        con.execute(f"SELECT count(*) FROM {table}").fetchone()


def latest_file_wins(con, landing):
    assert rows_of(con, "billing.invoices", "status", "_source_file") == [("refunded", "invoices/2024-01-02.csv")]


def first_row_of_a_duplicate_key_wins(con, landing):
    assert rows_of(con, "billing.invoices", "amount", "_source_row") == [(100, 1)]


def source_rows_follow_the_file(con, landing):
    """A file column named rowid must not reorder the rows: row numbers are the file's own."""
    assert rows_of(con, "billing.invoices", "line_id", "_source_row") == [("1", 1), ("2", 2), ("3", 3)]


ODD_NAMES = ("invoices/März export 2024.csv", "invoices/o'brien.csv", "invoices/x[1].csv", "invoices/x1.csv",
             "invoices/star*.csv", "invoices/star_b.csv", "invoices/what?.csv", "invoices/whatX.csv",
             "invoices/[2024]/a.csv", "invoices/b{1,2}.csv")


def names_stored_literally(con, landing):
    """Each file loaded its own row once: `star*.csv` is one file, not a glob matching `star_b.csv` too."""
    assert rows_of(con, "billing.invoices", "invoice_id, _source_file") == [(name, name) for name in sorted(ODD_NAMES)]


def value_is(table: str, column: str, expected):
    def check(con, landing):
        assert [r[0] for r in rows_of(con, table, column)] == expected

    return check


TYPED_ORDER = ("SELECT 'o1' AS order_id, 'c1' AS customer_id, TIMESTAMP '2024-03-01 08:00:00' AS ordered_at, "
               "10.0 AS amount, 'USD' AS currency, 'completed' AS status")

CASES = [
    Case("empty file", {"invoices/a.csv": b""}, {"invoices/a.csv": unreadable("invoices/a.csv", "empty")}),
    Case("only blank lines", {"invoices/a.csv": b"\n \r\n\n"}, {"invoices/a.csv": unreadable("invoices/a.csv", "empty")}),
    Case("header only", {"invoices/a.csv": invoices()}, {"invoices/a.csv": loaded(0)}),
    Case("header only, no line break", {"invoices/a.csv": INVOICE_HEADER}, {"invoices/a.csv": loaded(0)}),
    Case("semicolon delimiter is detected",
         {"invoices/a.csv": invoices(invoice_row(), invoice_row(line="2", amount="5.50")).replace(b",", b";")},
         {"invoices/a.csv": loaded(2)}, value_is("billing.invoices", "amount", [100, 5.5])),
    Case("tab delimiter is detected", {"invoices/a.csv": invoices(invoice_row()).replace(b",", b"\t")},
         {"invoices/a.csv": loaded(1)}),
    Case("UTF-8 BOM", {"invoices/a.csv": b"\xef\xbb\xbf" + invoices(invoice_row(invoice="Ärger"))},
         {"invoices/a.csv": loaded(1)}, ids_are_literal("Ärger")),
    Case("Latin-1 bytes", {"invoices/a.csv": invoices(invoice_row(invoice="März"), encoding="latin-1")},
         {"invoices/a.csv": loaded(1)}, ids_are_literal("März")),
    Case("Latin-1 bytes after 3000 UTF-8-clean rows",
         {"invoices/a.csv": invoices(*(invoice_row(line=str(n)) for n in range(3000)), invoice_row(invoice="Müller"),
                                     encoding="latin-1")},
         {"invoices/a.csv": loaded(3001)}),
    Case("Latin-1 bytes and a quoted line break (two retries)",
         {"invoices/a.csv": invoices(invoice_row(invoice='"Zeile\neins"'), invoice_row(invoice="Sé"), encoding="latin-1")},
         {"invoices/a.csv": loaded(2)}, ids_are_literal("Zeile\neins", "Sé")),
    Case("duplicate keys in one file: the first row is kept",
         {"invoices/a.csv": invoices(invoice_row(), invoice_row(amount="999.00"))},
         {"invoices/a.csv": loaded(1, (2, "duplicate_key_in_file"))}, first_row_of_a_duplicate_key_wins),
    Case("the same key in two files: a restatement, the latest file wins",
         {"invoices/2024-01-01.csv": invoices(invoice_row(status="open")),
          "invoices/2024-01-02.csv": invoices(invoice_row(status="refunded"))},
         {"invoices/2024-01-01.csv": Outcome(loaded=1, superseded=1), "invoices/2024-01-02.csv": loaded(1)},
         latest_file_wins),
    Case("numbers too large, infinite or not a number",
         {"invoices/a.csv": invoices(invoice_row(line="1", amount="1e30"), invoice_row(line="2", amount="99999999999999.99999"),
                                     invoice_row(line="3", amount="inf"), invoice_row(line="4", amount="nan"),
                                     invoice_row(line="5", amount="99999999999999.9999"))},
         {"invoices/a.csv": loaded(1, (1, "number_out_of_range"), (2, "number_out_of_range"), (3, "number_out_of_range"),
                                   (4, "unparseable_number"))}),
    Case("impossible and non-ISO dates",
         {"invoices/a.csv": invoices(invoice_row(line="1", start="2024-02-30"), invoice_row(line="2", start="20240101"),
                                     invoice_row(line="3", end="31/01/2024"))},
         {"invoices/a.csv": loaded(0, (1, "unparseable_date"), (2, "unparseable_date"), (3, "unparseable_date"))}),
    Case("lenient dates: no zero padding, a time of day after the date",
         {"invoices/a.csv": invoices(invoice_row(start="2024-1-5"), invoice_row(line="2", start="2024-01-05 10:30:00"))},
         {"invoices/a.csv": loaded(2)}, value_is("billing.invoices", "period_start", [dt.date(2024, 1, 5)] * 2)),
    Case("dates in the year 3000 are quarantined as out of range",
         {"invoices/a.csv": invoices(invoice_row(start="3000-01-01", end="3000-02-01", issued="3000-01-01 10:00:00"),
                                     invoice_row(line="2", issued="3024-01-01 10:00:00"), invoice_row(line="3"))},
         {"invoices/a.csv": loaded(1, (1, "date_out_of_range"), (2, "date_out_of_range"))}),
    Case("negative and empty service periods",
         {"invoices/a.csv": invoices(invoice_row(line="1", start="2024-02-01", end="2024-01-01"),
                                     invoice_row(line="2", start="2024-02-01", end="2024-02-01"), invoice_row(line="3"))},
         {"invoices/a.csv": loaded(1, (1, "period_end_not_after_period_start"), (2, "period_end_not_after_period_start"))}),
    Case("negative order amount", {"orders/a.csv": csv(ORDER_HEADER, order("o1"), order("o2", amount="-0.01"))},
         {"orders/a.csv": loaded(1, (2, "negative_amount"))}),
    Case("SQL-looking ids, embedded quotes and commas load literally",
         {"invoices/a.csv": invoices(invoice_row(invoice='"inv\'; DROP TABLE billing.invoices; --"'),
                                     invoice_row(invoice='"say ""hi"", then leave"'), invoice_row(invoice="a'b"))},
         {"invoices/a.csv": loaded(3)}, tables_intact),
    Case("ids starting with # are data, not comments",
         {"invoices/a.csv": invoices(invoice_row(invoice="#1"), invoice_row(invoice="#2"))},
         {"invoices/a.csv": loaded(2)}, ids_are_literal("#1", "#2")),
    Case("file names with spaces, umlauts, quotes and glob characters",
         {name: invoices(invoice_row(invoice=f'"{name}"')) for name in ODD_NAMES},
         {name: loaded(1) for name in ODD_NAMES}, names_stored_literally),
    Case("a Parquet file name with glob characters",
         {"orders/o*.parquet": parquet(TYPED_ORDER), "orders/o2.parquet": parquet(TYPED_ORDER.replace("o1", "o2"))},
         {"orders/o*.parquet": loaded(1), "orders/o2.parquet": loaded(1)}),
    Case("a file name that is not UTF-8 (Latin-1 bytes from an old file share)",
         {"invoices/caf\udce9.csv": invoices(invoice_row()), "invoices/ok.csv": invoices(invoice_row(invoice="i2"))},
         {"invoices/caf\\xe9.csv": unreadable("invoices/caf\\xe9.csv", "not valid UTF-8", "rename"),
          "invoices/ok.csv": loaded(1)}),
    Case("Parquet with the amount as text",
         {"invoices/a.parquet": parquet(f"{parquet_invoice('i1', amount=chr(39) + 'abc' + chr(39))} UNION ALL "
                                        f"{parquet_invoice('i2', amount=chr(39) + '12.50' + chr(39))}")},
         {"invoices/a.parquet": loaded(1, (1, "unparseable_number"))}),
    Case("Parquet with dates as integers",
         {"invoices/a.parquet": parquet(parquet_invoice(start="20240101", end="20240201"))},
         {"invoices/a.parquet": loaded(0, (1, "unparseable_date"))}),
    Case("Parquet with a timestamp as epoch seconds",
         {"invoices/a.parquet": parquet(parquet_invoice(issued="1704103200"))},
         {"invoices/a.parquet": loaded(0, (1, "unparseable_timestamp"))}),
    Case("Parquet with 0 rows", {"orders/a.parquet": parquet(f"{TYPED_ORDER} LIMIT 0")}, {"orders/a.parquet": loaded(0)}),
    Case("truncated Parquet: file error, the others of its layout still load",
         {"orders/1.parquet": parquet(TYPED_ORDER), "orders/2.parquet": truncated_parquet(TYPED_ORDER.replace("o1", "o2")),
          "orders/3.parquet": parquet(TYPED_ORDER.replace("o1", "o3"))},
         {"orders/1.parquet": loaded(1), "orders/2.parquet": unreadable("orders/2.parquet", "cannot be read"),
          "orders/3.parquet": loaded(1)}),
    Case("Parquet that is not Parquet", {"orders/a.parquet": b"PAR1 not really"},
         {"orders/a.parquet": unreadable("orders/a.parquet", "cannot be read")}),
    Case("rows with too few fields: the missing values are empty",
         {"invoices/a.csv": invoices(invoice_row(line="1"), "i1,2,c1", invoice_row(line="3"))},
         {"invoices/a.csv": loaded(2, (2, "missing_value"))}),
    Case("rows with too many fields: the surplus fields are dropped",
         {"invoices/a.csv": invoices(invoice_row(line="1") + ",x,y", invoice_row(line="2"))},
         {"invoices/a.csv": loaded(2)}),
    Case("an unquoted comma in a value shifts the row, which then fails its checks",
         {"invoices/a.csv": invoices(invoice_row(line="1", amount="12,50"), invoice_row(line="2"))},
         {"invoices/a.csv": loaded(1, (1, "unparseable_date"))}),
    Case("blank lines are not rows",
         {"invoices/a.csv": csv(INVOICE_HEADER, "", invoice_row(line="1"), "", "", invoice_row(line="2"), "")},
         {"invoices/a.csv": loaded(2)}, value_is("billing.invoices", "_source_row", [1, 2])),
    Case("CRLF line ends", {"invoices/a.csv": invoices(invoice_row(line="1"), invoice_row(line="2"), newline="\r\n")},
         {"invoices/a.csv": loaded(2)}, value_is("billing.invoices", "line_id", ["1", "2"])),
    Case("CR-only line ends", {"invoices/a.csv": invoices(invoice_row(line="1"), invoice_row(line="2"), newline="\r")},
         {"invoices/a.csv": loaded(2)}),
    Case("header in other case with surrounding spaces",
         {"invoices/a.csv": csv(" INVOICE_ID , Line_Id ,Customer_ID,subscription_id, AMOUNT ,currency,period_start,"
                                "period_end,STATUS,issued_at", invoice_row())},
         {"invoices/a.csv": loaded(1)}),
    Case("a repeated header column: the first one counts",
         {"invoices/a.csv": csv(INVOICE_HEADER + ",amount", invoice_row() + ",-1")}, {"invoices/a.csv": loaded(1)},
         value_is("billing.invoices", "amount", [100])),
    Case("a quoted line break inside a value",
         {"invoices/a.csv": invoices(invoice_row(invoice='"two\nlines"'), invoice_row(line="2"))},
         {"invoices/a.csv": loaded(2)}, ids_are_literal("two\nlines", "i1")),
    Case("an unbalanced quote inside a value loads literally",
         {"invoices/a.csv": invoices(invoice_row(invoice='ab"c'), invoice_row(invoice='"oops', line="2"))},
         {"invoices/a.csv": loaded(2)}, ids_are_literal('ab"c', '"oops')),
    Case("file columns named rowid, _file, _row do not disturb row numbers",
         {"invoices/a.csv": csv(INVOICE_HEADER + ",rowid,_file,_row,file_row_number",
                                *(invoice_row(line=str(n)) + f",{9 - n},x.csv,{7 * n},0" for n in (1, 2, 3)))},
         {"invoices/a.csv": loaded(3)}, source_rows_follow_the_file),
    Case("a text line before the header: the file lacks its columns",
         {"invoices/a.csv": csv("exported by ERP 7.1", INVOICE_HEADER, invoice_row())},
         {"invoices/a.csv": rejected(2, "invoices/a.csv", "missing required column", "'invoice_id'")}),
    Case("a required column missing",
         {"orders/a.csv": csv("order_id,customer_id,ordered_at,currency,status", "o1,c1,2024-01-01,USD,completed")},
         {"orders/a.csv": rejected(1, "orders/a.csv", "missing required column", "'amount'")}),
    Case("a directory named like a CSV is ignored", {"invoices/dir.csv": None, "invoices/b.csv": invoices(invoice_row())},
         {"invoices/b.csv": loaded(1)}),
    Case("a gzip'd CSV named .csv", {"invoices/a.csv": gzip.compress(invoices(invoice_row()))},
         {"invoices/a.csv": unreadable("invoices/a.csv", "gzip")}),
    Case("binary junk named .csv", {"invoices/a.csv": b"\x00\x01\x02PK\x03\x04" * 10},
         {"invoices/a.csv": rejected(0, "invoices/a.csv", "missing required column")}),
    Case("a symbolic link to a file outside the landing folder is reported, never read",
         {"customers/passwd.csv": link_to("passwd", PASSWD), "invoices/a.csv": invoices(invoice_row())},
         {"customers/passwd.csv": not_followed("customers/passwd.csv"), "invoices/a.csv": loaded(1)},
         nothing_from_outside),
    Case("a symbolic link to a folder is reported, never read",
         {"invoices/more": link_to("elsewhere", None), "invoices/a.csv": invoices(invoice_row())},
         {"invoices/more": not_followed("invoices/more"), "invoices/a.csv": loaded(1)}, nothing_from_outside),
    Case("a Latin-1 file among UTF-8 files of its layout: the rest of the group still loads, in parts",
         {"invoices/1.csv": invoices(invoice_row(invoice="i1", customer="c1")),
          "invoices/2.csv": invoices(invoice_row(invoice="M\u00e4rz", customer="c2"), encoding="latin-1"),
          "invoices/3.csv": invoices(invoice_row(invoice="i3", customer="c3"))},
         {"invoices/1.csv": loaded(1), "invoices/2.csv": loaded(1), "invoices/3.csv": loaded(1)},
         each_customer_once_per_load),
    Case("a line longer than DuckDB's limit: the file's other rows load, the long row is checked like any other",
         {"invoices/1.csv": invoices(invoice_row(invoice="i0")),
          "invoices/2.csv": invoices(invoice_row(line="1"), invoice_row(line="2", amount=LONG), invoice_row(line="3"))},
         {"invoices/1.csv": loaded(1), "invoices/2.csv": loaded(2, (2, "unparseable_number"))}),
    Case("lines of 3 MB and 9 MB: the file is read with room for the longest",
         {"invoices/a.csv": invoices(invoice_row(line="1", amount=LONG), invoice_row(line="2", customer=LONGER),
                                     invoice_row(line="3"))},
         {"invoices/a.csv": loaded(2, (1, "unparseable_number"))}, value_is("billing.invoices", "line_id", ["2", "3"])),
    Case("a quoted value of 3 MB with line breaks inside: read again with room for it",
         {"invoices/a.csv": invoices(invoice_row(line="1", customer=f'"{QUOTED_LINES}"'), invoice_row(line="2"))},
         {"invoices/a.csv": loaded(2)}, value_is("billing.invoices", "length(customer_id)", [len(QUOTED_LINES), 2])),
    Case("Windows-1252 bytes, neither UTF-8 nor Latin-1: that file is rejected with DuckDB's reason, the rest load",
         {"invoices/1.csv": invoices(invoice_row(invoice="i1")),
          "invoices/2.csv": invoices(invoice_row(invoice="i2")).replace(b"i2", b"\x93i2\x94"),
          "invoices/3.csv": invoices(invoice_row(invoice="i3"))},
         {"invoices/1.csv": loaded(1), "invoices/2.csv": unreadable("invoices/2.csv", "cannot be read", "latin-1"),
          "invoices/3.csv": loaded(1)}),
    Case("files of other types are ignored",
         {"invoices/readme.txt": "not data", "invoices/a.csv.bak": invoices(invoice_row()), "invoices/b.CSV": invoices(invoice_row())},
         {"invoices/b.CSV": loaded(1)}),
]


def land(landing: Path, files: dict[str, Content]) -> None:
    for name, content in files.items():
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
        elif callable(content):
            content(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)


def quarantined_rows(con, path: str) -> tuple[tuple[int, str], ...]:
    return tuple(con.execute(
        "SELECT row_number, reason FROM ingest.quarantine WHERE file = ? ORDER BY row_number", [path]
    ).fetchall())


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(con, landing, case):
    land(landing, case.files)
    results = {r.path: r for r in ingest_landing(con, landing)}
    assert sorted(results) == sorted(case.outcomes)
    for path, expected in case.outcomes.items():
        result = results[path]
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (
            expected.rows_read, expected.loaded, len(expected.quarantined)), path
        assert quarantined_rows(con, path) == expected.quarantined, path
        if expected.error:
            assert result.error and all(word in result.error for word in expected.error), result.error
        else:
            assert result.error is None, result.error
        manifest = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, error FROM ingest.manifest WHERE path = ?", [path]
        ).fetchone()
        recorded = (result.rows_read, result.rows_loaded, result.rows_quarantined, result.error)
        assert manifest == (recorded if expected.recorded else None)
        table = ENTITIES_BY_FOLDER[path.split("/")[0]].qualified
        in_table = con.execute(f"SELECT count(*) FROM {table} WHERE _source_file = ?", [path]).fetchone()[0]
        assert in_table == expected.loaded - expected.superseded, "the table holds what the manifest reports"
    assert all((landing / name).exists() for name in case.files), "every file stays in the landing folder"
    if case.check:
        case.check(con, landing)


def test_a_broken_file_does_not_break_a_later_run(con, landing):
    """The unreadable file is skipped on the next run (same content); once fixed, it loads as a new batch."""
    land(landing, {"invoices/a.csv": gzip.compress(invoices(invoice_row()))})
    [first] = ingest_landing(con, landing)
    assert first.error
    [again] = ingest_landing(con, landing)
    assert again.skipped
    land(landing, {"invoices/a.csv": invoices(invoice_row())})
    [fixed] = ingest_landing(con, landing)
    assert (fixed.rows_loaded, fixed.error) == (1, None)


def test_a_file_that_cannot_be_opened_is_reported_and_tried_again(con, landing, monkeypatch):
    """No read permission (chmod cannot show it when the tests run as root, so opening is made to fail)."""
    land(landing, {"invoices/locked.csv": invoices(invoice_row()), "invoices/ok.csv": invoices(invoice_row(invoice="i2"))})
    real_scan = loader.scan_file

    def locked(path: Path, details: bool = True):
        if path.name == "locked.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scan(path, details)

    monkeypatch.setattr(loader, "scan_file", locked)
    results = {r.path: r for r in ingest_landing(con, landing)}
    assert results["invoices/locked.csv"].error == "invoices/locked.csv: cannot be opened: Permission denied"
    assert results["invoices/ok.csv"].rows_loaded == 1
    monkeypatch.setattr(loader, "scan_file", real_scan)
    results = {r.path: r for r in ingest_landing(con, landing)}
    assert (results["invoices/locked.csv"].rows_loaded, results["invoices/ok.csv"].skipped) == (1, True)
