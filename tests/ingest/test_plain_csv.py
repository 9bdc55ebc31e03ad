"""The plain-CSV reader (no per-file sniffing) must stage exactly what the sniffing reader stages, and the
set-based checks must keep file, row, column and reason of every bad row in a many-file group."""

from __future__ import annotations

import json

import pytest

from pipeline.ingest import staging
from pipeline.ingest.loader import ingest_landing
from pipeline.ingest.plain_csv import plain_csv_reader
from pipeline.ingest.scan import scan_file
from pipeline.ingest.staging import LandingFile, Source, stage
from tests.ingest.conftest import INVOICE_HEADER, invoice_row, write


@pytest.mark.parametrize(
    ("content", "plain"),
    [
        (b"a,b\n1,2\n", True),
        (b'a,b\n"1",2\n', False),
        (b"a,b\r\n1,2\r\n", False),
        (b"a,b\n#1,2\n", False),
        (b"\xef\xbb\xbfa,b\n1,2\n", False),
        (b"a,b\n1\x00,2\n", False),
    ],
)
def test_is_plain(tmp_path, content, plain):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    assert scan_file(path).plain is plain


GROUPS = {
    "regular": [[INVOICE_HEADER, invoice_row(), invoice_row(line="2")], [INVOICE_HEADER, invoice_row(invoice="i2")]],
    "semicolons": [[INVOICE_HEADER.replace(",", ";"), invoice_row().replace(",", ";")]] * 2,
    "spaces and a repeated column in the header": [[" A , b ,a,c", "1, 2 ,3,4", "5,6,7,8"]] * 2,
    "blank lines": [["a,b", "", "1,2", "", "3,4", ""], ["a,b", "5,6"]],
    "a short row in a later file": [["a,b,c", "1,2,3"], ["a,b,c", "4,5", "6,7,8"]],
    "a long row": [["a,b", "1,2,3", "4,5"]],
    "header only": [["a,b"], ["a,b", "1,2"]],
    "Latin-1 bytes in a later file": [["a,b", "1,2"], ["a,b", "M\xe4rz,2"]],
}


def _staged(con, tmp_path, lines_per_file, sniff_only: bool, monkeypatch) -> list[tuple]:
    """The staged rows in reading order (file position first), as the check reads them."""
    files = []
    for n, lines in enumerate(lines_per_file):
        path = tmp_path / f"{'sniffed' if sniff_only else 'plain'}{n}.csv"
        path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
        files.append(LandingFile(path, f"x/{n}.csv", "hash", n + 1))
    if sniff_only:
        monkeypatch.setattr(staging, "plain_csv_reader", lambda *args: None)
    rows: list[tuple] = []

    def read(source: Source) -> None:
        rows[:] = con.execute(f"SELECT * FROM {source.relation}", source.params).fetchall()

    try:
        stage(con, files, read)
    except Exception as exc:  # both readers must then fail alike
        return [type(exc).__name__]
    finally:
        monkeypatch.undo()
    return rows


@pytest.mark.parametrize("name", GROUPS)
def test_plain_reader_stages_what_the_sniffing_reader_stages(con, tmp_path, monkeypatch, name):
    plain = _staged(con, tmp_path, GROUPS[name], False, monkeypatch)
    sniffed = _staged(con, tmp_path, GROUPS[name], True, monkeypatch)
    assert plain == sniffed


def test_plain_files_skip_sniffing_and_others_do_not(con, tmp_path):
    plain = write(tmp_path / "a.csv", [INVOICE_HEADER, invoice_row()])
    quoted = write(tmp_path / "b.csv", [INVOICE_HEADER, invoice_row(invoice='"i,1"')])
    reader, columns = plain_csv_reader(con, str(plain), "_path")
    assert "auto_detect = false" in reader and columns == INVOICE_HEADER.split(",")
    relations = []
    for group in ([plain], [plain, quoted]):
        files = [LandingFile(path, path.name, "hash", n) for n, path in enumerate(group, 1)]
        stage(con, files, lambda source: relations.append(source.relation))
    assert "auto_detect = false" in relations[0]
    assert "auto_detect = false" not in relations[1]


def test_bad_values_in_a_many_file_group_keep_file_row_column_and_reason(con, landing):
    write(landing / "invoices" / "d1.csv", [INVOICE_HEADER, invoice_row(), invoice_row(line="2", amount="n/a")])
    write(landing / "invoices" / "d2.csv", [INVOICE_HEADER, invoice_row(invoice="i2"), invoice_row(invoice="i3", start="01.02.2024"),
                                            invoice_row(invoice="i2", status="paid")])
    write(landing / "invoices" / "d3.csv", [INVOICE_HEADER, invoice_row(invoice="i4", status="pending")])
    results = ingest_landing(con, landing)
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 1, 1), (3, 1, 2), (1, 0, 1)]
    rows = con.execute(
        'SELECT file, row_number, "column", raw_value, reason, raw_record FROM ingest.quarantine ORDER BY file, row_number'
    ).fetchall()
    assert [r[:5] for r in rows] == [
        ("invoices/d1.csv", 2, "amount", "n/a", "unparseable_number"),
        ("invoices/d2.csv", 2, "period_start", "01.02.2024", "unparseable_date"),
        ("invoices/d2.csv", 3, "line_id", "1", "duplicate_key_in_file"),
        ("invoices/d3.csv", 1, "status", "pending", "unknown_status"),
    ]
    record = json.loads(rows[1][5])
    assert (record["_file"], record["_row"], record["invoice_id"], record["period_start"]) == (
        "invoices/d2.csv", 2, "i3", "01.02.2024")


def test_equal_typed_keys_in_one_file_the_later_row_wins(con, landing):
    """'2024-1-5' and '2024-01-05' differ as text (no duplicate in the file) but are one key once typed."""
    write(landing / "fx_rates" / "fx.csv", ["date,currency,rate", "2024-1-5,EUR,1.1", "2024-01-05,eur,1.2", "2024-01-06,EUR,1.3"])
    write(landing / "fx_rates" / "fx2.csv", ["date,currency,rate", "2024-01-06,EUR,1.4"])
    ingest_landing(con, landing)
    assert con.execute("SELECT date::VARCHAR, rate::DOUBLE, _source_file, _source_row FROM finance.fx_rates ORDER BY 1").fetchall() == [
        ("2024-01-05", 1.2, "fx_rates/fx.csv", 2), ("2024-01-06", 1.4, "fx_rates/fx2.csv", 1)
    ]
    assert con.execute("SELECT rows_inserted, rows_replaced FROM ingest.changes").fetchall() == [(2, 0)]
