"""Loads landing files into the raw tables: one file = one batch, many files per SQL pass, all inside DuckDB.

For each group of files with the same layout: read them once, straight into a typed table with every row's
first broken rule (see staging.py and validation.py); then, in one transaction, find duplicates and the
latest row per key from narrow queries (decisions.py), quarantine the bad rows, replace earlier rows with the
same key (the latest batch wins), insert the good rows, log what changed, and record every file in the
manifest (apply.py). A file already in the manifest with the same content hash is skipped, so re-running
changes nothing (one whose size and modification time are as recorded is not even read again, scan.py); a
file that cannot be read is recorded with its error and left where it is, and the rest of its group is loaded
without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.ingest import apply, decisions
from pipeline.ingest.changes import utc_now
from pipeline.ingest.contract import ENTITIES, Entity
from pipeline.ingest.decisions import CHECKED
from pipeline.ingest.scan import FileStamp, scan_file, stamp_file
from pipeline.ingest.staging import (
    READERS,
    FileRejected,
    LandingFile,
    Source,
    drop_files,
    group_by_layout,
    stage,
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


def landing_files(landing_dir: Path, entity: Entity) -> list[Path]:
    """Every CSV/Parquet file under <landing>/<entity>/, in path order (the order batches are applied)."""
    folder = landing_dir / entity.folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in READERS)


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
    stamp = f"TIMESTAMP '{loaded_at.isoformat(sep=' ')}'"
    _, missing = _column_mapping(entity, source.columns)
    con.execute("BEGIN TRANSACTION")
    try:
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
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise
    _drop_checked(con)  # a large group's rows are not kept while the next group is read
    return results


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
    first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
    message = str(exc) if isinstance(exc, FileRejected) else f"{file.rel}: cannot be read: {first_line}"
    result = FileResult(entity.folder, file.rel, None, 0, 0, message)
    _record(con, file, result, loaded_at)
    return result


def _retry_option(exc: duckdb.Error, options: dict[str, object]) -> dict[str, object] | None:
    """The CSV read option that gets past this error, or None when no retry can help."""
    message = str(exc).lower()
    if "unicode" in message and "encoding" not in options:
        # not UTF-8: exports from older systems are often Latin-1, which maps every byte to a character
        return {"encoding": "latin-1"}
    if "parallel=false" in message and "parallel" not in options:
        # quoted line breaks inside values: DuckDB's parallel reader cannot pad short rows around them
        return {"parallel": False}
    return None


def _stage_alone(con: duckdb.DuckDBPyConnection, file: LandingFile, read: Callable[[Source], None]) -> Source:
    """Read one file, retrying with the read options its errors ask for (they may need more than one)."""
    options: dict[str, object] = {}
    while True:
        try:
            return stage(con, [file], read, **options)
        except duckdb.Error as exc:
            extra = _retry_option(exc, options)
            if extra is None:
                raise
            options |= extra


def load_group(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandingFile], loaded_at: dt.datetime) -> list[FileResult]:
    """Load files of one layout together; if that fails, file by file, so one bad file spoils nothing else."""
    def read(source: Source) -> None:
        _check(con, entity, source)

    try:
        source = stage(con, files, read) if len(files) > 1 else _stage_alone(con, files[0], read)
    except (duckdb.Error, FileRejected) as exc:
        _drop_checked(con)
        if len(files) > 1:
            return [r for f in files for r in load_group(con, entity, [f], loaded_at)]
        return [_unreadable(con, entity, files[0], exc, loaded_at)]
    return _load_checked(con, entity, source, loaded_at)


def _printable(rel: str) -> str:
    """The path as UTF-8 text: bytes of a file name that are not UTF-8 become `\\xNN` escapes."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    entities: tuple[Entity, ...] = ENTITIES,
    progress: Callable[[str], None] | None = None,
    now: Callable[[], dt.datetime] = utc_now,
) -> list[FileResult]:
    """Load every new or changed file of every entity; returns one result per file looked at."""
    create_warehouse_tables(con)
    # A file that could not even be opened has no content hash (''): it is tried again on every run.
    seen = set(con.execute("SELECT path, content_hash FROM ingest.manifest WHERE content_hash <> ''").fetchall())
    seen_paths = {path for path, _ in seen}
    stamped = set(con.execute(
        "SELECT path, size_bytes, modified_ns FROM ingest.manifest WHERE content_hash <> '' AND modified_ns IS NOT NULL"
    ).fetchall())
    next_batch = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest.manifest").fetchone()[0]
    results: list[FileResult] = []
    for entity in entities:
        new: list[LandingFile] = []
        for path in landing_files(landing_dir, entity):
            name = path.relative_to(landing_dir).as_posix()
            rel = _printable(name)
            try:
                stamp = stamp_file(path)
                # as it was when hashed: not read again; a new file is read once, for everything
                unchanged = (rel, stamp.size_bytes, stamp.modified_ns) in stamped
                scan = None if unchanged else scan_file(path, details=rel not in seen_paths)
            except OSError as exc:  # no read permission, or gone since it was listed
                problem = FileRejected(f"{rel}: cannot be opened: {exc.strerror or exc}")
                results.append(_unreadable(con, entity, LandingFile(path, rel, "", next_batch), problem, now()))
                next_batch += 1
                continue
            if scan is None or (rel, scan.content_hash) in seen:
                results.append(FileResult(entity.folder, rel, None, 0, 0, skipped=True))
                continue
            file = LandingFile(path, rel, scan.content_hash, next_batch, scan, stamp)
            next_batch += 1
            if rel != name:  # DuckDB takes paths as UTF-8 only, so it could neither read nor record this one
                rejected = FileRejected(f"{rel}: the file name is not valid UTF-8: rename the file")
                results.append(_unreadable(con, entity, file, rejected, now()))
            else:
                new.append(file)
        done = 0
        for group in group_by_layout(con, new):
            results.extend(load_group(con, entity, group, now()))
            done += len(group)
            if progress:
                progress(f"{entity.folder}: loaded {done}/{len(new)} new files")
    return results
