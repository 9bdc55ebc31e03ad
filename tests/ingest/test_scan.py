"""One read of a landing file gives what four reads gave: hash, header line, blank, gzip and plain-CSV flags."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from pipeline.ingest import scan
from pipeline.ingest.scan import scan_file

CASES = {
    "plain": b"a,b\n1,2\n",
    "no line break": b"a,b",
    "blank lines": b"\n \r\n\t\n",
    "empty": b"",
    "long header": b"x" * (scan.HEADER_LIMIT + 10) + b"\n1\n",
    "header at the limit": b"x" * (scan.HEADER_LIMIT - 1) + b"\n1\n",
    "blank first chunk": b" " * (scan.CHUNK + 5) + b"a,b\n",
    "quote after the first chunk": b"a,b\n" + b"1,2\n" * (scan.CHUNK // 4) + b'"3",4\n',
    "gzip": gzip.compress(b"a,b\n1,2\n"),
}


@pytest.mark.parametrize("name", CASES)
def test_scan_matches_separate_reads(tmp_path, name):
    content = CASES[name]
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    facts = scan_file(path)
    with path.open("rb") as handle:
        header = handle.readline(scan.HEADER_LIMIT)
    assert facts.content_hash == hashlib.sha256(content).hexdigest()
    assert facts.header == header
    assert facts.blank is (not content.strip())
    assert facts.gzip is content.startswith(b"\x1f\x8b")
    assert facts.plain is (not content.startswith(scan.BOM) and not any(b in content for b in scan.AMBIGUOUS))


def test_a_known_path_is_only_hashed(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n"1",2\n')
    facts = scan_file(path, details=False)
    assert (facts.content_hash, facts.complete) == (scan_file(path).content_hash, False)


def test_a_stamp_vouches_only_for_a_file_older_than_the_racy_margin(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n")
    modified = path.stat().st_mtime_ns
    old = scan.stamp_file(path, now_ns=lambda: modified + scan.RACY_NS + 1)
    racy = scan.stamp_file(path, now_ns=lambda: modified + scan.RACY_NS // 2)
    assert old == scan.FileStamp(8, modified)
    assert racy == scan.FileStamp(8, None)


@pytest.mark.parametrize("content, longest", [
    (b"a,b\n1,2\n", 4),  # the first line of a chunk is measured; lines within a chunk are shorter than it
    (b"a\n" + b"x" * (3 * scan.CHUNK) + b"\n1\n", 3 * scan.CHUNK + 1),
    (b"a\r" + b"x" * (2 * scan.CHUNK) + b"\r1\r", 2 * scan.CHUNK + 1),  # CR line ends count too
    (b"x" * (scan.CHUNK + 7), scan.CHUNK + 7),  # no line break at all
    (b"a\n" + b"y" * (scan.CHUNK - 2) + b"\n" + b"z" * 10, scan.CHUNK - 1),  # ends at the boundary
])
def test_the_longest_line_is_found_across_chunks(tmp_path, content, longest):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    assert scan_file(path).longest_line == longest


def test_the_listing_reports_links_and_never_follows_them(tmp_path):
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.csv").write_text("a\n1\n")
    (outside / "folder" / "inside.csv").write_text("a\n1\n")
    folder = tmp_path / "landing" / "invoices"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "real.CSV").write_text("a\n1\n")
    (folder / "notes.txt").write_text("x")
    (folder / "secret.csv").symlink_to(outside / "secret.csv")
    (folder / "linked").symlink_to(outside / "folder", target_is_directory=True)
    (folder / "gone.parquet").symlink_to(outside / "missing.parquet")
    (folder / "readme.txt").symlink_to(outside / "secret.csv")  # not a landing file either way
    listing = scan.list_folder(folder, {".csv", ".parquet"})
    assert listing.files == [folder / "sub" / "real.CSV"]
    assert listing.links == [folder / "gone.parquet", folder / "linked", folder / "secret.csv"]
    (tmp_path / "landing" / "orders").symlink_to(outside, target_is_directory=True)
    assert scan.list_folder(tmp_path / "landing" / "orders", {".csv"}) == scan.Listing([], [tmp_path / "landing" / "orders"])


def test_a_file_swapped_for_a_link_after_the_listing_is_not_opened(tmp_path):
    (tmp_path / "secret.csv").write_text("a\n1\n")
    (tmp_path / "f.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(OSError):
        scan_file(tmp_path / "f.csv")
