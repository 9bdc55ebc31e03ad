"""Faults end to end: a run that ran out of memory, odd files, a second run started meanwhile.

The sample's landing folder (the clean build of tests/conftest.py) is copied and given what a hostile but
realistic user lands beside it: a Latin-1 file among UTF-8 ones, a line of 3 MB, a link to /etc/passwd, an
empty file. None of them changes a mart (their odd rows are quarantined). The copy's first ingest runs with a
2 MB DuckDB memory limit, as in the issue that found these faults, and leaves files for the next run. Then
`retention run --retry-rejected` and, while it runs, `retention nightly` on the same warehouse and
DAGSTER_HOME: the nightly waits for the run, then finds nothing new. Every mart of the recovered warehouse
must equal the clean build's. The checks that stop a run before anything runs come last, one CLI call each.
Hostile values (formulas in names, mathtext ids, markdown) are tested where they are made inert: the export
(tests/value/test_exports.py), the charts (tests/reporting) and the metadata preview (tests/value).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.ingest.assets import MANIFEST_KEY, Landing, ingest_landing_files
from pipeline.lib.run_guard import lock_files
from pipeline.lib.warehouse import Warehouse
from pipeline.settings import load_settings
from tests.cli_runs import pipeline_env, retention
from tests.lib.holders import LOCK_HOLDER, Holder

EMPTY = "invoices/0000_empty.csv"  # rejected for its content; first in path order, so the starved ingest gets to it


def _add_odd_files(landing: Path) -> None:
    invoices = sorted((landing / "invoices").glob("*.csv"))
    header = invoices[0].read_text(encoding="utf-8").splitlines()[0]
    bad_row = "Z\u00fcrich-1,1,cus_000001,,10.00,USD,2024-01-01,2024-02-01,pending,2024-01-01 10:00:00"
    latin = invoices[len(invoices) // 2]  # its rows load as Latin-1; the odd row is quarantined (status)
    latin.write_bytes((latin.read_text(encoding="utf-8") + bad_row + "\n").encode("latin-1"))
    long_file = invoices[len(invoices) // 3]  # an amount of 3 MB: quarantined, the file's other rows load
    long_row = bad_row.replace("Z\u00fcrich-1", "inv_long").replace("10.00", "x" * 3_000_000).replace("pending", "paid")
    long_file.write_text(long_file.read_text(encoding="utf-8") + long_row + "\n", encoding="utf-8")
    (landing / "customers" / "passwd.csv").symlink_to("/etc/passwd")
    (landing / EMPTY).write_bytes(b"")
    assert header.startswith("invoice_id,line_id,customer_id,subscription_id,amount,")


def _wait_until_it_holds(lock: Path, process: subprocess.Popen) -> None:
    while not (lock.exists() and lock.read_text().strip() == str(process.pid)):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def runs(sample, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("faults")
    clean_dir = sample.workspace.path
    shutil.copytree(clean_dir / "landing", tmp_path / "landing")
    _add_odd_files(tmp_path / "landing")
    warehouse = tmp_path / "warehouse.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:  # the ingest job's asset with 2 MB: files are left for later
        starved = dg.materialize([ingest_landing_files], instance=instance, resources={
            "landing": Landing(path=str(tmp_path / "landing"), serving_file=str(tmp_path / "serving.duckdb")),
            "warehouse": Warehouse(path=str(warehouse), memory_limit="2MB", threads=1)})
    manifest = next(m.metadata for m in starved.asset_materializations_for_node("ingest_landing_files")
                    if m.asset_key == MANIFEST_KEY)
    env = pipeline_env(tmp_path)
    run = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--retry-rejected"], env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_until_it_holds(lock_files(load_settings(warehouse=warehouse))[0][0], run)
    nightly = retention(["nightly"], env)
    out, err = run.communicate()
    return {"tmp": tmp_path, "clean": clean_dir, "starved": manifest, "run": (run.returncode, out, err),
            "nightly": nightly}


def _marts(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every table in the marts schema."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT count(*), coalesce(sum(hash(m)), 0) FROM marts."{t}" m').fetchone() for t in tables}


def _query(runs, sql: str) -> list[tuple]:
    with duckdb.connect(str(runs["tmp"] / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_run_after_a_starved_ingest_succeeds_and_equals_a_clean_build(runs):
    code, _, err = runs["run"]
    assert code == 0, err[-3000:]
    recovered, clean = _marts(runs["tmp"] / "warehouse.duckdb"), _marts(runs["clean"] / "warehouse.duckdb")
    assert len(recovered) >= 11 and recovered == clean


def test_the_starved_ingest_left_files_for_the_next_run_and_said_so(runs):
    deferred = runs["starved"]["deferred_files"].value
    assert "left for the next run" in deferred and "Out of Memory" in deferred
    assert _query(runs, "SELECT DISTINCT path FROM ingest.manifest WHERE error IS NOT NULL") == [(EMPTY,)], (
        "no transient failure was recorded as a verdict")


def test_retry_rejected_read_the_rejected_file_again(runs):
    _, _, err = runs["run"]
    assert "--retry-rejected: 1 file(s) rejected for their content will be read again" in err
    verdicts = _query(runs, f"SELECT error FROM ingest.manifest WHERE path = '{EMPTY}' ORDER BY batch_id")
    assert verdicts == [(f"{EMPTY}: the file is empty (no header, no rows)",)] * 2


def test_a_nightly_started_meanwhile_waited_for_the_run_then_found_nothing_new(runs):
    nightly = runs["nightly"]
    code, _, err = runs["run"]
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert "Another run is writing this warehouse (PID" in nightly.stderr
    assert "Ingest loaded nothing new" in nightly.stdout
    assert "Traceback" not in err + nightly.stderr


def test_odd_files_load_and_links_are_not_read(runs):
    _, _, err = runs["run"]
    quarantined = _query(runs, "SELECT raw_value, reason FROM ingest.quarantine WHERE raw_record LIKE "
                               "'%\u00fcrich-1%' OR raw_record LIKE '%inv_long%' ORDER BY reason")
    assert [(len(value), reason) for value, reason in quarantined] == [
        (7, "unknown_status"), (3_000_000, "unparseable_number")]
    assert _query(runs, "SELECT count(*) FROM ingest.quarantine WHERE raw_record LIKE '%root:%'") == [(0,)]
    assert "customers/passwd.csv: is a symbolic link: not followed, not read" in err
    assert _query(runs, "SELECT count(*) = count(DISTINCT (loaded_at, entity, customer_id)) "
                        "FROM ingest.changed_customers") == [(True,)]


def test_a_missing_landing_folder_stops_the_run_naming_the_variable(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("no_landing")
    env = {**pipeline_env(tmp), "RETENTION_LANDING_DIR": str(tmp / "nowhere")}
    result = retention(["run"], env)
    assert result.returncode == 2
    assert f"RETENTION_LANDING_DIR='{tmp / 'nowhere'}' is not accepted" in result.stderr
    assert "--allow-empty" in result.stderr and "Traceback" not in result.stderr


def test_a_warehouse_folder_that_cannot_be_written_stops_the_run_before_it_starts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unwritable")
    (tmp / "landing").mkdir()
    (tmp / "a_file").write_text("not a folder")
    env = {**pipeline_env(tmp), "RETENTION_WAREHOUSE": str(tmp / "a_file" / "warehouse.duckdb")}
    result = retention(["run"], env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"retention: RETENTION_WAREHOUSE='{tmp / 'a_file'}' is "
                                    f"not accepted: expected a folder this user can write ({tmp / 'a_file'} is a "
                                    "file, not a folder)")
    assert "Traceback" not in result.stderr and not (tmp / "dagster_home" / "runs.db").exists()


def test_a_run_that_cannot_get_the_lock_in_time_names_the_holder(tmp_path_factory):
    """With --allow-empty, a missing landing folder lets the run go on: as far as the lock another run holds."""
    tmp = tmp_path_factory.mktemp("locked")
    env = pipeline_env(tmp)
    warehouse_lock = lock_files(load_settings(warehouse=tmp / "warehouse.duckdb"))[0][0]
    with Holder(LOCK_HOLDER, warehouse_lock) as other:
        result = retention(["run", "--allow-empty", "--wait", "0.5"], env)
    assert result.returncode == 1
    assert f"landing folder {tmp / 'landing'} does not exist: nothing to ingest (--allow-empty)" in result.stderr
    assert f"another run is writing this warehouse (PID {other.pid})" in result.stderr
    assert "Traceback" not in result.stderr
