"""Loads landing files into the raw tables: one file = one batch, many files per SQL pass, all inside DuckDB.

For each group of files with the same layout: read them once, straight into a typed table with every row's
first broken rule (see staging.py and validation.py); then, in one transaction, find duplicates and the
latest row per key from narrow queries (decisions.py), quarantine the bad rows, replace earlier rows with the
same key (the latest batch wins), insert the good rows, log what changed, and record every file in the
manifest (apply.py). A file already in the manifest with the same content hash is skipped, so re-running
changes nothing (one whose size and modification time are as recorded is not even read again, scan.py).

When a group fails, each half is loaded on its own, down to the single file that fails: one odd file costs a
few extra reads of its group, and the rest still loads. A single file that fails for its content is recorded
with its error and left where it is; one that fails for a reason that is not about its content (memory, disk,
a lock) is deferred: not recorded, read again next run (see failures.py), and so are the entity's files after
it, so that files still apply in path order and the next run gives what one clean run would. Parts of a group
share the group's `loaded_at`, and every part logs each customer once per load (apply.record_customers).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.ingest import apply, decisions
from pipeline.ingest.changes import utc_now
from pipeline.ingest.contract import ENTITIES, Entity
from pipeline.ingest.decisions import CHECKED
from pipeline.ingest.failures import Failure, classify
from pipeline.ingest.manifest import known_files
from pipeline.ingest.scan import FileStamp, list_folder, scan_file, stamp_file
from pipeline.ingest.staging import (
    READERS,
    FileRejected,
    LandingFile,
    Source,
    drop_files,
    group_by_layout,
    stage,
    stage_alone,
)
from pipeline.ingest.tables import create_warehouse_tables
from pipeline.ingest.validation import (
    MISSING_COLUMN,
    by_rule,
    checked_rows_sql,
    quote_literal,
    rejected_rows_sql,
)


@dataclass(frozen=True)
class FileResult:
    entity: str
    path: str  # relative to the landing folder
    rows_read: int | None
    rows_loaded: int
    rows_quarantined: int
    error: str | None = None
    skipped: bool = False  # already loaded with this content
    deferred: bool = False  # failed for a reason that is not about its content: not recorded, read next run
    waits: bool = False  # deferred only because an earlier file of its folder was (files apply in path order)
    ignored: bool = False  # a symbolic link: never read, not recorded


def _column_mapping(entity: Entity, file_columns: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """Contract column -> file column (case-insensitive), and the required columns the files lack."""
    by_lower: dict[str, str] = {}
    for name in file_columns:
        by_lower.setdefault(name.strip().lower(), name)
    mapping = {c.name: by_lower.get(c.name) for c in entity.columns}
    return mapping, [c.name for c in entity.columns if c.required and mapping[c.name] is None]


def _check(con: duckdb.DuckDBPyConnection, entity: Entity, source: Source) -> None:
    """Read the source once into CHECKED: typed rows with their first broken rule (all rows bad when the files
    lack a required column). Row ids follow the reading order: the plan has no join or sort."""
    mapping, missing = _column_mapping(entity, source.columns)
    utc = con.execute("SELECT current_setting('TimeZone') = 'UTC'").fetchone()[0]
    sql = (rejected_rows_sql(source.relation, source.columns) if missing
           else checked_rows_sql(entity, mapping, source.relation, source.columns, utc))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {CHECKED} AS {sql}", source.params)


def _apply(con: duckdb.DuckDBPyConnection, entity: Entity, source: Source, stamp: str) -> None:
    """Quarantine bad rows and duplicates; replace rows of re-read files and same-key rows; insert the winners."""
    decisions.find_repeats(con, entity)
    decisions.mark_duplicates(con, entity, source)
    apply.count_rows(con)
    apply.quarantine(con, entity, stamp, by_rule(entity, lambda r: quote_literal(r.reason)),
                     by_rule(entity, lambda r: quote_literal(r.column)))
    decisions.drop_superseded(con, entity)
    replaced = apply.find_replaced(con, entity)
    apply.record_changes(con, entity, stamp, replaced)
    apply.record_customers(con, entity, stamp, replaced)
    apply.replace_and_insert(con, entity, stamp, replaced)
    apply.drop_replaced(con)


def _load_checked(con: duckdb.DuckDBPyConnection, entity: Entity, source: Source, loaded_at: dt.datetime) -> list[FileResult]:
    """Apply the checked files in one transaction; returns one result per file."""
    # The load's timestamp reaches the statements below as a parameter held in a connection variable.
    con.execute("SET VARIABLE retention_loaded_at = ?", [loaded_at])
    stamp = "getvariable('retention_loaded_at')"
    _, missing = _column_mapping(entity, source.columns)
    try:  # everything below lands together, or (on any error or an interruption) not at all
        con.execute("BEGIN TRANSACTION")
        if missing:  # the group shares one header: every file is rejected, every row quarantined
            apply.count_rows(con)
            apply.quarantine(con, entity, stamp, quote_literal(MISSING_COLUMN), quote_literal(missing[0]))
        else:
            _apply(con, entity, source, stamp)
        names = ", ".join(repr(m) for m in missing)
        message = f": missing required column(s) {names}: file rejected, its rows quarantined"
        error = f"f._file || {quote_literal(message)}" if missing else "NULL"
        rows = apply.record_manifest(con, entity, stamp, error)
        results = sorted((FileResult(entity.folder, *row) for row in rows), key=lambda r: r.path)
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    try:
        _drop_checked(con)  # a large group's rows are not kept while the next group is read
    except duckdb.Error as exc:  # the group is in: the next group replaces these temporary tables anyway
        if classify(exc) is Failure.STOP:
            raise
    return results


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction; a failed COMMIT has already ended it, which is not a second error."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


def _drop_checked(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {CHECKED}")
    drop_files(con)


def _record(con: duckdb.DuckDBPyConnection, file: LandingFile, result: FileResult, loaded_at: dt.datetime) -> None:
    stamp = file.recorded_stamp if file.path.is_file() else FileStamp(None, None)
    con.execute(
        "INSERT INTO ingest.manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file.batch_id, result.entity, result.path, file.content_hash, stamp.size_bytes, result.rows_read,
         result.rows_loaded, result.rows_quarantined, loaded_at, result.error, stamp.modified_ns],
    )


def _unreadable(con: duckdb.DuckDBPyConnection, entity: Entity, file: LandingFile, exc: Exception, loaded_at: dt.datetime) -> FileResult:
    """Record a file that could not be loaded at all; it stays in the landing folder."""
    message = str(exc) if isinstance(exc, FileRejected) else f"{file.rel}: cannot be read: {_first_line(exc)}"
    result = FileResult(entity.folder, file.rel, None, 0, 0, message)
    _record(con, file, result, loaded_at)
    return result


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _deferred(entity: Entity, file: LandingFile, reason: str, waits: bool = False) -> FileResult:
    """A file not loaded for a reason that is not about its content: nothing recorded, read again next run."""
    return FileResult(entity.folder, file.rel, None, 0, 0, f"{file.rel}: left for the next run: {reason}", deferred=True,
                      waits=waits)


def _after_deferred(entity: Entity, files: list[LandingFile]) -> list[FileResult]:
    """Files after a deferred one wait for it: files apply in path order, so a later file's restatements must
    not be overwritten by the earlier file when it loads next run."""
    reason = f"an earlier file of {entity.folder}/ was left for the next run (files apply in path order)"
    return [_deferred(entity, file, reason, waits=True) for file in files]


LOAD_ERRORS = (duckdb.Error, FileRejected, OSError, MemoryError)


def load_group(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandingFile], loaded_at: dt.datetime) -> list[FileResult]:
    """Load files of one layout together; if that fails, each half on its own, so one bad file spoils nothing else."""
    def read(source: Source) -> None:
        _check(con, entity, source)

    try:
        source = stage(con, files, read) if len(files) > 1 else stage_alone(con, files[0], read)
    except LOAD_ERRORS as exc:
        return _after_failure(con, entity, files, loaded_at, exc)
    try:
        return _load_checked(con, entity, source, loaded_at)
    except LOAD_ERRORS as exc:
        if classify(exc) is Failure.CONTENT:
            raise  # the rows were read and checked: failing to apply them is a fault here, not in the files
        return _after_failure(con, entity, files, loaded_at, exc)


def _after_failure(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandingFile], loaded_at: dt.datetime,
                   exc: BaseException) -> list[FileResult]:
    """Split a failed group in halves and load each; a single file gets its verdict, or is deferred."""
    kind = classify(exc)
    if kind is Failure.STOP:
        raise exc
    _drop_checked(con)
    if len(files) > 1:
        half = len(files) // 2
        first = load_group(con, entity, files[:half], loaded_at)
        if any(r.deferred for r in first):
            return first + _after_deferred(entity, files[half:])
        return first + load_group(con, entity, files[half:], loaded_at)
    if kind is Failure.TRANSIENT:
        return [_deferred(entity, files[0], _first_line(exc))]
    return [_unreadable(con, entity, files[0], exc, loaded_at)]


def _printable(rel: str) -> str:
    """The path as UTF-8 text: bytes of a file name that are not UTF-8 become `\\xNN` escapes."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _look_at(con: duckdb.DuckDBPyConnection, landing_dir: Path, entity: Entity, known: tuple[set, set],
             batches: Iterator[int], now: Callable[[], dt.datetime]) -> tuple[list[LandingFile], list[FileResult]]:
    """The entity's files to load, and the results of the others: unchanged (skipped), links (ignored), files
    that cannot be opened or named (recorded without a content hash, so tried again on every run)."""
    seen, stamped = known
    seen_paths = {path for path, _ in seen}
    listing = list_folder(landing_dir / entity.folder, READERS)
    results = [FileResult(entity.folder, rel, None, 0, 0, f"{rel}: is a symbolic link: not followed, not read",
                          ignored=True) for rel in (_printable(p.relative_to(landing_dir).as_posix()) for p in listing.links)]
    new: list[LandingFile] = []
    for path in listing.files:
        name = path.relative_to(landing_dir).as_posix()
        rel = _printable(name)
        try:
            stamp = stamp_file(path)
            # as it was when hashed: not read again; a new file is read once, for everything
            unchanged = (rel, stamp.size_bytes, stamp.modified_ns) in stamped
            scan = None if unchanged else scan_file(path, details=rel not in seen_paths)
        except OSError as exc:  # no read permission, or gone since it was listed
            problem = FileRejected(f"{rel}: cannot be opened: {exc.strerror or exc}")
            results.append(_unreadable(con, entity, LandingFile(path, rel, "", next(batches)), problem, now()))
            continue
        if scan is None or (rel, scan.content_hash) in seen:
            results.append(FileResult(entity.folder, rel, None, 0, 0, skipped=True))
            continue
        file = LandingFile(path, rel, scan.content_hash, next(batches), scan, stamp)
        if rel != name:  # DuckDB takes paths as UTF-8 only, so it could neither read nor record this one
            rejected = FileRejected(f"{rel}: the file name is not valid UTF-8: rename the file")
            results.append(_unreadable(con, entity, file, rejected, now()))
        else:
            new.append(file)
    return new, results


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    entities: tuple[Entity, ...] = ENTITIES,
    progress: Callable[[str], None] | None = None,
    now: Callable[[], dt.datetime] = utc_now,
) -> list[FileResult]:
    """Load every new or changed file of every entity; returns one result per file looked at."""
    create_warehouse_tables(con)
    known = known_files(con)
    batches = itertools.count(con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest.manifest").fetchone()[0])
    results: list[FileResult] = []
    for entity in entities:
        new, others = _look_at(con, landing_dir, entity, known, batches, now)
        results.extend(others)
        done, deferred = 0, False
        for group in group_by_layout(con, new):
            if deferred:
                results.extend(_after_deferred(entity, group))
                continue
            loaded = load_group(con, entity, group, now())
            results.extend(loaded)
            deferred = any(r.deferred for r in loaded)
            done += len(group)
            if progress:
                progress(f"{entity.folder}: loaded {done}/{len(new)} new files")
    return results
