"""A failure that is not about a file's content is never remembered as a verdict on it (see failures.py).

Each test makes ingest fail the way a machine does (out of memory, a full disk, an interruption), runs it once
more as the next run would, and compares what ingest left with a clean ingest of the same landing folder: raw
tables, manifest (latest verdict per file) and quarantine equal, and every customer a clean ingest records as
changed recorded too, once per load.
"""

from __future__ import annotations

import gzip

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest import staging
from pipeline.ingest.loader import ingest_landing
from pipeline.ingest.manifest import request_retry_of_rejected
from pipeline.ingest.tables import create_warehouse_tables
from tests.ingest.conftest import INVOICE_HEADER, invoice_row, write
from tests.ingest.recovery import (
    Faulty,
    changed_customers,
    clean_ingest,
    ingest_state,
    land_mixed,
    land_small,
)

ERRORS = {
    "out of memory": lambda: duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 32.0 KiB"),
    "disk full": lambda: duckdb.IOException("IO Error: No space left on device"),
    "lock": lambda: duckdb.IOException('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held'),
    "interrupted query": lambda: duckdb.InterruptException("INTERRUPT Error: Interrupted!"),
    "ctrl-c": lambda: KeyboardInterrupt(),
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small landing folder, its clean ingest, and how many statements that ingest runs."""
    landing = tmp_path_factory.mktemp("small") / "landing"
    land_small(landing)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        counting = Faulty(con)
        ingest_landing(counting, landing)
    return landing, clean_ingest(landing), counting.calls


def _recovers(landing, clean, fail_at: int, error: BaseException) -> Faulty:
    with duckdb.connect(config={"threads": 1}) as con:  # one thread: the same statements, less overhead each
        con.execute("SET TimeZone = 'UTC'")
        faulty = Faulty(con, fail_at, error)
        try:
            ingest_landing(faulty, landing)
        except (duckdb.Error, KeyboardInterrupt) as raised:
            assert raised is error, "the ingest fails with the error it met, or carries on without it"
        results = ingest_landing(con, landing)  # the next run
        assert not [r for r in results if r.deferred]
        state, customers = clean
        assert ingest_state(con) == state, faulty.statement
        assert changed_customers(con) >= customers, faulty.statement
    return faulty


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_failure_at_any_statement_is_recovered_by_the_next_run(small, data):
    """DuckDB fails (or the user presses ctrl-c) at a random statement of the ingest: reading, checking,
    quarantining, inserting, recording the manifest, committing. The next run ends where a clean ingest ends."""
    landing, clean, statements = small
    fail_at = data.draw(st.integers(1, statements), label="failing statement")
    kind = data.draw(st.sampled_from(sorted(ERRORS)), label="error")
    _recovers(landing, clean, fail_at, ERRORS[kind]())


def test_out_of_memory_defers_the_files_and_the_next_run_loads_them(tmp_path, landing):
    """The 2 MB memory limit of the issue, at a small scale: every file is left for the next run, none is
    recorded as an error, and the run with enough memory loads them all."""
    land_mixed(landing)
    warehouse = str(tmp_path / "w.duckdb")
    with duckdb.connect(warehouse) as con:
        create_warehouse_tables(con)
    with duckdb.connect(warehouse, config={"memory_limit": "2MB", "threads": 1}) as con:
        results = ingest_landing(con, landing)
        assert results and all(r.deferred for r in results), [r for r in results if not r.deferred]
        assert "Out of Memory" in results[0].error and "left for the next run" in results[0].error
        assert con.execute("SELECT count(*) FROM ingest.manifest").fetchone()[0] == 0
    with duckdb.connect(warehouse) as con:
        con.execute("SET TimeZone = 'UTC'")
        results = ingest_landing(con, landing)
        state, customers = clean_ingest(landing)
        assert ingest_state(con) == state and changed_customers(con) == customers
    assert not [r for r in results if r.deferred or r.skipped]


def test_files_after_a_deferred_one_wait_for_it(con, landing, monkeypatch):
    """A later file restating a row must not load before the earlier one: the earlier would win next run."""
    write(landing / "invoices" / "1.csv", [INVOICE_HEADER, invoice_row(status="open")])
    write(landing / "invoices" / "2.csv", [INVOICE_HEADER, invoice_row(status="refunded")])
    (landing / "invoices" / "2.csv").write_text((landing / "invoices" / "2.csv").read_text().replace(",", ";"))
    real_stage = staging.stage

    def out_of_memory_on_1(con, files, read, **options):
        if files[0].rel == "invoices/1.csv":
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return real_stage(con, files, read, **options)

    monkeypatch.setattr(staging, "stage", out_of_memory_on_1)  # a single file is read by stage_alone
    first = {r.path: r for r in ingest_landing(con, landing)}
    assert first["invoices/1.csv"].deferred and first["invoices/2.csv"].deferred
    assert "an earlier file of invoices/" in first["invoices/2.csv"].error
    monkeypatch.setattr(staging, "stage", real_stage)
    ingest_landing(con, landing)
    assert con.execute("SELECT status, _source_file FROM billing.invoices").fetchall() == [("refunded", "invoices/2.csv")]


def test_an_error_recorded_for_a_transient_failure_is_no_verdict(con, landing):
    """Earlier versions recorded 'Out of Memory' as a file's error: such a file is read again."""
    land_mixed(landing)
    ingest_landing(con, landing)
    path = "orders/a.csv"
    con.execute("DELETE FROM shop.orders WHERE _source_file = ?", [path])
    con.execute("UPDATE ingest.manifest SET error = ? || ': cannot be read: Out of Memory Error: failed to allocate', "
                "rows_read = NULL, rows_loaded = 0, modified_ns = NULL WHERE path = ?", [path, path])
    again = {r.path: r for r in ingest_landing(con, landing)}
    assert (again[path].skipped, again[path].rows_loaded) == (False, 1)
    assert all(r.skipped for p, r in again.items() if p != path)


def test_retry_rejected_reads_rejected_files_again_once(con, landing):
    land_mixed(landing)
    ingest_landing(con, landing)
    rejected = {p for (p,) in con.execute("SELECT path FROM ingest.manifest WHERE error IS NOT NULL").fetchall()}
    assert rejected == {"orders/c.csv"}
    assert request_retry_of_rejected(con) == 1
    again = {r.path: r for r in ingest_landing(con, landing)}
    assert [p for p, r in again.items() if not r.skipped] == ["orders/c.csv"]
    assert "missing required column" in again["orders/c.csv"].error
    assert all(r.skipped for r in ingest_landing(con, landing)), "the request is honoured once"


def test_the_run_says_what_it_left_for_the_next_run(tmp_path, landing, monkeypatch):
    """Deferred files, links and rejected files are in the manifest materialization and the run's log, names
    escaped so that markdown in a file name shows as text."""
    import dagster as dg

    from pipeline.ingest.assets import MANIFEST_KEY, Landing, ingest_landing_files
    from pipeline.lib.markdown import markdown_text
    from pipeline.lib.warehouse import Warehouse

    write(landing / "invoices" / "1.csv", [INVOICE_HEADER, invoice_row()])
    write(landing / "orders" / "[x](y).csv", ["order_id", "o1"])  # rejected: required columns missing
    (landing / "customers").mkdir()
    (landing / "customers" / "c.csv").symlink_to(landing / "invoices" / "1.csv")
    real_stage = staging.stage

    def out_of_memory_on_invoices(con, files, read, **options):
        if files[0].rel.startswith("invoices/"):
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return real_stage(con, files, read, **options)

    monkeypatch.setattr(staging, "stage", out_of_memory_on_invoices)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([ingest_landing_files], instance=instance, resources={
            "landing": Landing(path=str(landing), serving_file=str(tmp_path / "serving.duckdb")),
            "warehouse": Warehouse(path=str(tmp_path / "w.duckdb"))})
        logs = "\n".join(e.user_message for e in instance.all_logs(result.run_id))
    metadata = result.asset_materializations_for_node("ingest_landing_files")
    manifest = next(m for m in metadata if m.asset_key == MANIFEST_KEY).metadata
    deferred = "invoices/1.csv: left for the next run: Out of Memory Error: could not allocate block"
    assert manifest["deferred_files"].value == "- " + markdown_text(deferred)
    assert manifest["ignored_links"].value.startswith("- " + markdown_text("customers/c.csv: is a symbolic link"))
    assert manifest["rejected_files"].value.startswith("- " + markdown_text("orders/[x](y).csv: missing required column"))
    assert "invoices/1.csv: left for the next run" in logs and "read again on the next run" in logs
    invoices = next(m for m in metadata if m.asset_key == dg.AssetKey(["billing", "invoices"])).metadata
    assert (invoices["files_deferred"].value, invoices["files_loaded"].value) == (1, 0)


BROKEN = {  # fault -> (path, bytes that fail for their content, the fixed bytes), from a good file's bytes
    "gzip'd CSV": ("invoices/b.csv", lambda good: gzip.compress(good), lambda good: good),
    "Windows-1252": ("invoices/b.csv", lambda good: good.replace(b"i2", b"\x93i2\x94"), lambda good: good),
    "a missing column": ("invoices/b.csv", lambda good: good.replace(b"invoice_id,", b"id,"), lambda good: good),
    "empty": ("invoices/b.csv", lambda good: b"", lambda good: good),
}


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_once_a_broken_file_is_fixed_the_next_run_equals_a_clean_ingest(con, landing, fault):
    """The file's rejection is history in the quarantine; raw tables and the latest verdicts are a clean ingest's."""
    path, broken, fixed = BROKEN[fault]
    land_small(landing)
    good = "\n".join([INVOICE_HEADER, invoice_row(invoice="i2", customer="c9"), ""]).encode()
    (landing / path).write_bytes(broken(good))
    assert {r.path: r for r in ingest_landing(con, landing)}[path].error
    (landing / path).write_bytes(fixed(good))
    ingest_landing(con, landing)
    state, customers = clean_ingest(landing)
    recovered = ingest_state(con)
    assert {k: v for k, v in recovered.items() if k != "quarantine"} == {k: v for k, v in state.items() if k != "quarantine"}
    assert changed_customers(con) >= customers
