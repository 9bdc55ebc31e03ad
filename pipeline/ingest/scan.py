"""Everything ingest needs to know about a landing file's bytes, from one read of the file.

The content hash (is this file new?), the header line (which files can be read together?), whether the file
is blank or gzip-compressed (reject it with a clear message) and whether it is a plain CSV (can it skip
DuckDB's dialect sniffing?) used to be four reads of every file; at a thousand daily exports that is
gigabytes read four times. One pass over 1 MiB chunks feeds all of them: the hash sees every chunk, the byte
checks are a memchr each, and the blank check stops at the first chunk with anything but whitespace.

A file whose path is already in the manifest is most likely unchanged (a nightly run sees the whole history
again), so it is only hashed (`details=False`); the rest is looked at, in a second read, only if its hash
turns out to be new. A file whose size and modification time are those the manifest recorded when it was hashed
is not read at all (rsync's quick check): at 1M customers that is 1.8 GB of history not hashed again every night.
The stamp is recorded only for a file last modified more than RACY_NS before it was hashed: a file written in
the same tick as the hash could change again without its time changing (git's "racy clean" problem), so such a
file is hashed again next time.

The scan of the landing folder never follows a symbolic link: a link to a file or a folder is reported and
not read, so a landing folder cannot make ingest read `/etc/passwd` into the quarantine. Files are opened
with O_NOFOLLOW too, so a file swapped for a link after the listing fails to open instead of being read.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
HEADER_LIMIT = 1 << 16  # the header line is compared up to this many bytes
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
# Bytes after which the sniffed dialect of one file may not fit another: quoting, CR line ends, comments, binary.
AMBIGUOUS = (b'"', b"\r", b"#", b"\x00")
RACY_NS = 2_000_000_000  # coarser than any file system's time stamps (FAT: 2 s)


@dataclass(frozen=True)
class FileScan:
    content_hash: str  # sha256 of the bytes, hex
    header: bytes = b""  # the first line with its line break, at most HEADER_LIMIT bytes
    blank: bool = False  # nothing but whitespace (or nothing at all)
    gzip: bool = False  # starts with the gzip magic number
    plain: bool = False  # no BOM and none of the AMBIGUOUS bytes: the dialect of another file with this header fits
    complete: bool = True  # False: only the hash was computed
    # The longest line (with its break, LF or CR) of those measured: the lines at either end of each chunk. A line
    # longer than a chunk, the only kind that can exceed DuckDB's line limit (2 MB), always is one of them.
    longest_line: int = 0


@dataclass(frozen=True)
class FileStamp:
    size_bytes: int | None  # None only for a file gone before it could be recorded
    modified_ns: int | None  # st_mtime_ns; None when too recent to vouch for the content


@dataclass(frozen=True)
class Listing:
    files: list[Path]  # regular files with one of the suffixes, in path order (the order batches apply)
    links: list[Path]  # symbolic links to folders, or with one of the suffixes: reported, never read


def walk_folder(folder: Path, suffixes: set[str] | dict[str, str]) -> Iterator[tuple[Path, bool]]:
    """(path, is a link) of every regular file under `folder` whose suffix (any case) is one of `suffixes`, and of
    every link to a folder or with one of the suffixes; links are never followed. In no particular order."""
    if folder.is_symlink():
        yield folder, True
        return
    if not folder.is_dir():
        return
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                path = Path(entry.path)
                if entry.is_symlink():
                    if path.suffix.lower() in suffixes or entry.is_dir():
                        yield path, True
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False) and path.suffix.lower() in suffixes:
                    yield path, False


def list_folder(folder: Path, suffixes: set[str] | dict[str, str]) -> Listing:
    """The files and links of `walk_folder`, each in path order."""
    files: list[Path] = []
    links: list[Path] = []
    for path, is_link in walk_folder(folder, suffixes):
        (links if is_link else files).append(path)
    return Listing(sorted(files), sorted(links))


def stamp_file(path: Path, now_ns: Callable[[], int] = time.time_ns) -> FileStamp:
    """Size and modification time, taken before the file is read; raises OSError like scan_file."""
    status = path.stat(follow_symlinks=False)
    racy = status.st_mtime_ns > now_ns() - RACY_NS
    return FileStamp(status.st_size, None if racy else status.st_mtime_ns)


def _header(first: bytes) -> bytes:
    """What `readline(HEADER_LIMIT)` returns for a file starting with `first` (at least one chunk of it)."""
    end = first.find(b"\n", 0, HEADER_LIMIT)
    return first[: end + 1] if end >= 0 else first[:HEADER_LIMIT]


def scan_file(path: Path, details: bool = True) -> FileScan:
    """Read the file once; raises OSError when it cannot be opened or read."""
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
        if not details:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
            return FileScan(digest.hexdigest(), complete=False)
        first = handle.read(CHUNK)
        plain, blank = not first.startswith(BOM), True
        chunk, run, longest = first, 0, 0  # run: bytes since the last line break
        while chunk:
            digest.update(chunk)
            blank = blank and not chunk.strip()
            plain = plain and not any(byte in chunk for byte in AMBIGUOUS)
            breaks = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
            if breaks:
                longest = max(longest, run + min(breaks) + 1)
                run = len(chunk) - max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) - 1
            else:
                run += len(chunk)
            chunk = handle.read(CHUNK)
    return FileScan(digest.hexdigest(), _header(first), blank, first.startswith(GZIP_MAGIC), plain, longest_line=max(longest, run))
