"""Everything ingest needs to know about a landing file's bytes, from one read of the file.

The content hash (is this file new?), the header line (which files can be read together?), whether the file
is blank or gzip-compressed (reject it with a clear message) and whether it is a plain CSV (can it skip
DuckDB's dialect sniffing?) used to be four reads of every file; at a thousand daily exports that is
gigabytes read four times. One pass over 1 MiB chunks feeds all of them: the hash sees every chunk, the byte
checks are a memchr each, and the blank check stops at the first chunk with anything but whitespace.

A file whose path is already in the manifest is most likely unchanged (a nightly run sees the whole history
again), so it is only hashed (`details=False`); the rest is looked at, in a second read, only if its hash
turns out to be new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
HEADER_LIMIT = 1 << 16  # the header line is compared up to this many bytes
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
# Bytes after which the sniffed dialect of one file may not fit another: quoting, CR line ends, comments, binary.
AMBIGUOUS = (b'"', b"\r", b"#", b"\x00")


@dataclass(frozen=True)
class FileScan:
    content_hash: str  # sha256 of the bytes, hex
    header: bytes = b""  # the first line with its line break, at most HEADER_LIMIT bytes
    blank: bool = False  # nothing but whitespace (or nothing at all)
    gzip: bool = False  # starts with the gzip magic number
    plain: bool = False  # no BOM and none of the AMBIGUOUS bytes: the dialect of another file with this header fits
    complete: bool = True  # False: only the hash was computed


def _header(first: bytes) -> bytes:
    """What `readline(HEADER_LIMIT)` returns for a file starting with `first` (at least one chunk of it)."""
    end = first.find(b"\n", 0, HEADER_LIMIT)
    return first[: end + 1] if end >= 0 else first[:HEADER_LIMIT]


def scan_file(path: Path, details: bool = True) -> FileScan:
    """Read the file once; raises OSError when it cannot be opened or read."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if not details:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
            return FileScan(digest.hexdigest(), complete=False)
        first = handle.read(CHUNK)
        plain, blank = not first.startswith(BOM), True
        chunk = first
        while chunk:
            digest.update(chunk)
            blank = blank and not chunk.strip()
            plain = plain and not any(byte in chunk for byte in AMBIGUOUS)
            chunk = handle.read(CHUNK)
    return FileScan(digest.hexdigest(), _header(first), blank, first.startswith(GZIP_MAGIC), plain)
