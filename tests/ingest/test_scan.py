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
