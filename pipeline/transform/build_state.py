"""Which window the quarterly marts must rebuild: the one asked for, widened when the past requires it.

Two things widen it. A run that stopped before publishing leaves its window in `publish.pending_windows`
(cleared by publishing), so the next build covers it again and publishes a consistent set. And a changed
build fingerprint (the dbt models' code and declared columns, the vars other than the window, the activity
window W that dbt derived) changes every quarter's numbers, so the build covers all history.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import duckdb

from pipeline.transform.dbt_vars import ALL_HISTORY

STATE_DDL = (
    "CREATE SCHEMA IF NOT EXISTS publish",
    """CREATE TABLE IF NOT EXISTS publish.pending_windows (
        window_start DATE NOT NULL, window_end DATE NOT NULL, run_id VARCHAR NOT NULL, registered_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS publish.log (
        run_id VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL, tables INTEGER NOT NULL, rows BIGINT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS publish.build_fingerprint (fingerprint VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL)",
    """CREATE TABLE IF NOT EXISTS publish.unit_tests_passed (
        step VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL)""",
)
ACTIVITY_WINDOW = "intermediate.int_activity_window"


def create_state_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in STATE_DDL:
        con.execute(statement)


def _table_shape(node: Mapping[str, Any]) -> list[Any]:
    """A model's columns, types and constraints as its YAML declares them. They live outside the SQL's checksum,
    and an incremental table keeps the constraints it was created with, so a change must rebuild it."""
    columns = [(name, c.get("data_type"), c.get("constraints", [])) for name, c in node.get("columns", {}).items()]
    return [node.get("constraints", []), sorted(columns, key=lambda c: c[0])]


def fingerprint(manifest: Mapping[str, Any], vars_without_window: Mapping[str, Any], activity_window: str) -> str:
    """Changes whenever a model's SQL or declared columns, a var or W changes; pure, so the rule is unit-tested."""
    project = manifest["metadata"].get("project_name")
    models = sorted(
        (uid, n["checksum"]["checksum"], _table_shape(n)) for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
    )
    macros = sorted((uid, m.get("macro_sql", "")) for uid, m in manifest["macros"].items() if m["package_name"] == project)
    payload = json.dumps([models, macros, dict(sorted(vars_without_window.items())), activity_window], default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def activity_window_row(con: duckdb.DuckDBPyConnection) -> str:
    """W and how it was derived, as text; empty before the intermediate layer was first built."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'intermediate' AND table_name = ?",
        [ACTIVITY_WINDOW.split(".")[1]],
    ).fetchone()[0]
    return str(con.execute(f"SELECT * FROM {ACTIVITY_WINDOW}").fetchall()) if exists else ""


def register_window(
    con: duckdb.DuckDBPyConnection, window: tuple[dt.date, dt.date], run_id: str, current_fingerprint: str
) -> tuple[tuple[dt.date, dt.date], str]:
    """Records the build as pending; returns the window to build and why it differs from the one asked for."""
    create_state_tables(con)
    reason = ""
    stored = con.execute("SELECT fingerprint FROM publish.build_fingerprint").fetchone()
    if stored is not None and stored[0] != current_fingerprint:
        window, reason = ALL_HISTORY, "models, vars or the activity window W changed since the last build: all history"
    record_fingerprint(con, current_fingerprint)
    con.execute("INSERT INTO publish.pending_windows VALUES (?, ?, ?, now()::TIMESTAMP)", [*window, run_id])
    start, end = con.execute("SELECT min(window_start), max(window_end) FROM publish.pending_windows").fetchone()
    if (start, end) != window and not reason:
        reason = "covers windows an earlier run built but did not publish"
    return (start, end), reason


def record_fingerprint(con: duckdb.DuckDBPyConnection, current_fingerprint: str) -> None:
    """What the marts were last built from; called again after the build, once dbt has derived W."""
    con.execute("DELETE FROM publish.build_fingerprint")
    con.execute("INSERT INTO publish.build_fingerprint VALUES (?, now()::TIMESTAMP)", [current_fingerprint])


def unit_tests_due(con: duckdb.DuckDBPyConnection, step: str, code_fingerprint: str) -> bool:
    """Whether a build step must run its dbt unit tests: unless they all passed on exactly this code and these
    vars before. Unit tests check the SQL against fixed fixtures, not the data (dbt advises running them in
    development and CI, not in every production build), so re-running them on unchanged code proves nothing."""
    create_state_tables(con)
    row = con.execute("SELECT fingerprint FROM publish.unit_tests_passed WHERE step = ?", [step]).fetchone()
    return row is None or row[0] != code_fingerprint


def record_unit_tests_passed(con: duckdb.DuckDBPyConnection, step: str, code_fingerprint: str) -> None:
    create_state_tables(con)
    con.execute("DELETE FROM publish.unit_tests_passed WHERE step = ?", [step])
    con.execute("INSERT INTO publish.unit_tests_passed VALUES (?, ?, now()::TIMESTAMP)", [step, code_fingerprint])
