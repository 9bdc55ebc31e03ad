"""Why a landing file failed to load, and what that means for the manifest.

A failure is a verdict on the file only when it is about the file's bytes: a CSV that is neither UTF-8 nor
Latin-1, a CSV whose structure DuckDB cannot parse, a corrupt Parquet file, a missing required column. Such a
file is recorded in the manifest with its content hash and its error, and read again once its bytes change
(or when `retention run --retry-rejected` asks for it).

Anything else says nothing about the file: DuckDB ran out of memory, the disk is full, a lock is held, an IO
call failed, the run was interrupted. Recording that as a verdict would skip valid rows for good, so such a
file is *deferred*: not recorded, read again on the next run, and reported by this run. An interruption (or a
DuckDB error that invalidates the connection) stops the ingest at once; the open transaction rolls back, so
nothing of the file being loaded is kept.
"""

from __future__ import annotations

import enum

import duckdb

from pipeline.lib.retries import is_transient


class FileRejected(Exception):
    """The file as a whole cannot be loaded; the message names the file."""


class Failure(enum.Enum):
    CONTENT = "content"  # about the bytes: recorded with the content hash
    TRANSIENT = "transient"  # about the moment: deferred to the next run
    STOP = "stop"  # the run must stop now: interrupted, or the connection can no longer be trusted


# DuckDB errors that are about the environment, not about what a file holds.
TRANSIENT_ERRORS = (
    duckdb.OutOfMemoryException,
    duckdb.IOException,
    duckdb.TransactionException,
    duckdb.ConnectionException,
    duckdb.PermissionException,
)
STOP_ERRORS = (duckdb.InterruptException, duckdb.FatalException, duckdb.InternalException)


def classify(error: BaseException) -> Failure:
    """The kind of a failure raised while reading or loading one group of files."""
    if isinstance(error, (KeyboardInterrupt, SystemExit, *STOP_ERRORS)):
        return Failure.STOP
    if isinstance(error, FileRejected):  # the loader's own verdict: its message names the file, whatever its name
        return Failure.CONTENT
    first_line = (str(error).splitlines() or [""])[0]  # later lines may quote the file's own text
    if isinstance(error, (*TRANSIENT_ERRORS, OSError, MemoryError)) or is_transient(first_line):
        return Failure.TRANSIENT
    return Failure.CONTENT

