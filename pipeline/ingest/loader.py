"""Loads landing files into the raw tables: one file = one batch, many files per SQL pass, all inside DuckDB.

For each group of files with the same layout, in one transaction: stage them as text, check every row (see
validation.py), quarantine the bad rows, replace earlier rows with the same key (the latest batch wins), insert
the good rows, and record every file in the manifest. A file already in the manifest with the same content hash
is skipped, so re-running changes nothing; a file that cannot be read is recorded with its error and left where
it is, and the rest of its group is loaded without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.ingest.changes import utc_now
from pipeline.ingest.contract import ENTITIES, Entity
from pipeline.ingest.staging import (
    FILES,
    READERS,
    STAGED,
    FileRejected,
    LandingFile,
    drop_staged,
    group_by_layout,
    stage,
)
from pipeline.ingest.tables import create_warehouse_tables
from pipeline.ingest.validation import MISSING_COLUMN, checked_rows_sql, quote_ident, quote_literal

CHECKED, WINNERS = "_ingest_checked", "_ingest_winners"


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


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _column_mapping(entity: Entity, file_columns: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """Contract column -> file column (case-insensitive), and the required columns the files lack."""
    by_lower: dict[str, str] = {}
    for name in file_columns:
        by_lower.setdefault(name.strip().lower(), name)
    mapping = {c.name: by_lower.get(c.name) for c in entity.columns}
    return mapping, [c.name for c in entity.columns if c.required and mapping[c.name] is None]


def _quarantine(con: duckdb.DuckDBPyConnection, entity: Entity, loaded_at: str, reason: str, column: str, raw: str) -> None:
    """Every CHECKED row with a reason, with the raw record CHECKED kept for it."""
    con.execute(
        f"INSERT INTO ingest.quarantine SELECT f.batch_id, {quote_literal(entity.folder)}, c._file, c._row, "
        f"{column}, {raw}, {reason}, c._raw_record, {loaded_at} "
        f"FROM {CHECKED} c JOIN {FILES} f USING (_file) WHERE c._reason IS NOT NULL"
    )


def _apply(con: duckdb.DuckDBPyConnection, entity: Entity, loaded_at: str) -> None:
    """Quarantine bad rows; replace rows of re-read files and same-key rows; insert the latest good row per key."""
    _quarantine(con, entity, loaded_at, "c._reason", "c._column", "c._raw_value")
    keys = ", ".join(quote_ident(k) for k in entity.key)
    # The latest row (file, then row) per key wins. Only keys that occur more than once need a look at the
    # others: a narrow aggregate finds their latest position, instead of a window carrying every column.
    position = "(f.file_order::BIGINT << 32) + c._row"
    good = f"FROM {CHECKED} c JOIN {FILES} f USING (_file) WHERE c._reason IS NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {WINNERS} AS SELECT c.*, f.batch_id, f.file_order {good} AND NOT EXISTS ("
        f"SELECT 1 FROM (SELECT {keys}, max({position}) AS last {good} GROUP BY {keys} HAVING count(*) > 1) l "
        f"WHERE {' AND '.join(f'l.{quote_ident(k)} = c.{quote_ident(k)}' for k in entity.key)} AND l.last > {position})"
    )
    target = entity.qualified
    key_match = " AND ".join(f"{target}.{quote_ident(k)} = w.{quote_ident(k)}" for k in entity.key)
    _record_changes(con, entity, loaded_at, key_match)
    con.execute(f"DELETE FROM {target} WHERE _source_file IN (SELECT _file FROM {FILES})")
    con.execute(f"DELETE FROM {target} USING {WINNERS} w WHERE {key_match}")
    columns = ", ".join(quote_ident(c.name) for c in entity.columns)
    con.execute(
        f"INSERT INTO {target} SELECT {columns}, _file, _row, batch_id, {loaded_at} FROM {WINNERS} ORDER BY file_order, _row"
    )
    con.execute(f"DROP TABLE {WINNERS}")


def _record_changes(con: duckdb.DuckDBPyConnection, entity: Entity, loaded_at: str, key_match: str) -> None:
    """Log the earliest day the rows about to be inserted or replaced touch, so a nightly run rebuilds from there."""
    target = entity.qualified
    replaced = (
        f"SELECT * FROM {target} WHERE _source_file IN (SELECT _file FROM {FILES}) "
        f"OR EXISTS (SELECT 1 FROM {WINNERS} w WHERE {key_match})"
    )
    first_day = (
        f"(SELECT min(first_day) FROM (SELECT {entity.touches_from} AS first_day FROM {WINNERS} r "
        f"UNION ALL SELECT {entity.touches_from} FROM ({replaced}) r))"
        if entity.touches_from
        else "NULL"
    )
    con.execute(
        f"INSERT INTO ingest.changes SELECT {loaded_at}, {quote_literal(entity.folder)}, {first_day}, "
        f"(SELECT count(*) FROM {WINNERS}), (SELECT count(*) FROM ({replaced}))"
    )


def _load_staged(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandingFile], columns: list[str], loaded_at: dt.datetime) -> list[FileResult]:
    """Check and apply the staged files in one transaction; returns one result per file."""
    stamp = f"TIMESTAMP '{loaded_at.isoformat(sep=' ')}'"
    mapping, missing = _column_mapping(entity, columns)
    con.execute("BEGIN TRANSACTION")
    try:
        if missing:  # the group shares one header: every file is rejected, every row quarantined
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {CHECKED} AS "
                f"SELECT _file, _row, '{MISSING_COLUMN}' AS _reason, to_json(s)::VARCHAR AS _raw_record FROM {STAGED} s"
            )
            _quarantine(con, entity, stamp, quote_literal(MISSING_COLUMN), quote_literal(missing[0]), "NULL")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {CHECKED} AS {checked_rows_sql(entity, mapping, STAGED, columns)}")
            _apply(con, entity, stamp)
        names = ", ".join(repr(m) for m in missing)
        message = f": missing required column(s) {names}: file rejected, its rows quarantined"
        error = f"f._file || {quote_literal(message)}" if missing else "NULL"
        rows = con.execute(
            f"""INSERT INTO ingest.manifest
                SELECT f.batch_id, {quote_literal(entity.folder)}, f._file, f.content_hash, f.size_bytes,
                       coalesce(c.n_read, 0), coalesce(c.n_good, 0), coalesce(c.n_read - c.n_good, 0), {stamp},
                       {error}
                FROM {FILES} f LEFT JOIN (
                    SELECT _file, count(*) AS n_read, count(*) FILTER (WHERE _reason IS NULL) AS n_good
                    FROM {CHECKED} GROUP BY _file) c USING (_file)
                RETURNING path, rows_read, rows_loaded, rows_quarantined, error"""
        ).fetchall()
        results = sorted((FileResult(entity.folder, *row) for row in rows), key=lambda r: r.path)
        con.execute("COMMIT")
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise
    con.execute(f"DROP TABLE {CHECKED}")
    drop_staged(con)  # a large group's text is not kept while the next group is read
    return results


def _record(con: duckdb.DuckDBPyConnection, file: LandingFile, result: FileResult, loaded_at: dt.datetime) -> None:
    size = file.path.stat().st_size if file.path.is_file() else None
    con.execute(
        "INSERT INTO ingest.manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file.batch_id, result.entity, result.path, file.content_hash, size, result.rows_read,
         result.rows_loaded, result.rows_quarantined, loaded_at, result.error],
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


def _stage_alone(con: duckdb.DuckDBPyConnection, file: LandingFile) -> list[str]:
    """Stage one file, retrying with the read options its errors ask for (they may need more than one)."""
    options: dict[str, object] = {}
    while True:
        try:
            return stage(con, [file], **options)
        except duckdb.Error as exc:
            extra = _retry_option(exc, options)
            if extra is None:
                raise
            options |= extra


def load_group(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandingFile], loaded_at: dt.datetime) -> list[FileResult]:
    """Load files of one layout together; if that fails, file by file, so one bad file spoils nothing else."""
    try:
        columns = stage(con, files) if len(files) > 1 else _stage_alone(con, files[0])
    except (duckdb.Error, FileRejected) as exc:
        if len(files) > 1:
            return [r for f in files for r in load_group(con, entity, [f], loaded_at)]
        return [_unreadable(con, entity, files[0], exc, loaded_at)]
    return _load_staged(con, entity, files, columns, loaded_at)


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
    next_batch = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest.manifest").fetchone()[0]
    results: list[FileResult] = []
    for entity in entities:
        new: list[LandingFile] = []
        for path in landing_files(landing_dir, entity):
            name = path.relative_to(landing_dir).as_posix()
            rel = _printable(name)
            try:
                digest = file_hash(path)
            except OSError as exc:  # no read permission, or gone since it was listed
                problem = FileRejected(f"{rel}: cannot be opened: {exc.strerror or exc}")
                results.append(_unreadable(con, entity, LandingFile(path, rel, "", next_batch), problem, now()))
                next_batch += 1
                continue
            if (rel, digest) in seen:
                results.append(FileResult(entity.folder, rel, None, 0, 0, skipped=True))
                continue
            file = LandingFile(path, rel, digest, next_batch)
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
