"""Nightly runs end to end: a late invoice rebuilds its quarter onward and nothing before it; the next night's
files, with restatements, give exactly a build from scratch; a night without new files changes nothing; the
serving file holds what the checked build wrote."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.nightly import land
from tests.cli_runs import MARTS, table_hashes

LATE_AMOUNT = 1234.5
LATE_FILE = (
    "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at\n"
    f"inv_late_1,1,cus_late_1,sub_late_1,{LATE_AMOUNT},USD,2024-04-01,2024-05-01,paid,2024-04-01 09:00:00\n"
)
PER_CUSTOMER = ("int_invoice_lines_converted", "int_orders_converted", "int_customer_mrr_intervals",
                "int_activity_spans", "int_customers_first_active", "int_customer_purchase_gaps",
                "int_customer_purchase_gap_counts", "int_customer_revenue_recognised")


def _rows(path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _hashes(warehouse) -> dict[str, tuple[int, int]]:
    """Marts and intermediate tables, without the loaded_through marks (a nightly build writes later marks)."""
    tables = [f"marts.{t}" for t in MARTS] + [f"intermediate.{t}" for t in PER_CUSTOMER]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def columns(table):
            schema, name = table.split(".")
            cols = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? AND column_name <> 'loaded_through'",
                    [schema, name]).fetchall()]
            return ", ".join(f'"{c}"' for c in cols)
        return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(({columns(t)}))), 0) FROM {t}").fetchone()
                for t in tables}


def test_the_serving_file_holds_exactly_the_checked_marts(sample):
    workspace = sample.workspace
    assert table_hashes(workspace.serving) == table_hashes(workspace.warehouse)
    run_id, tables = _rows(workspace.serving, "SELECT run_id, tables FROM main.publication")[0]
    assert tables >= len(MARTS) and run_id
    assert _rows(workspace.serving, "SELECT sum(rows) FROM ingest.quarantine_reasons")[0][0] == 3


def test_a_late_invoice_rebuilds_its_quarter_onward_and_nothing_before(sample, tmp_path, monkeypatch):
    workspace = sample.workspace.clone(tmp_path / "late")
    month_sql = "SELECT period_start, mrr_end, mrr_start FROM marts.revenue_churn WHERE grain = 'month' ORDER BY 1"
    before = {p: (end, start) for p, end, start in _rows(workspace.serving, month_sql)}
    earlier_sql = "SELECT sum(hash(r)) FROM marts.retention r WHERE period_start < DATE '2024-04-01' AND grain <> 'year'"
    earlier = _rows(workspace.warehouse, earlier_sql)
    (workspace.landing / "invoices" / "invoices_late_2024-04.csv").write_text(LATE_FILE)

    nightly = workspace.run("nightly")
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    after = {p: (end, start) for p, end, start in _rows(workspace.serving, month_sql)}
    april = next(p for p in after if p.isoformat() == "2024-04-01")
    may = next(p for p in after if p.isoformat() == "2024-05-01")
    assert float(after[april][0] - before[april][0]) == pytest.approx(LATE_AMOUNT)
    assert float(after[may][1] - before[may][1]) == pytest.approx(LATE_AMOUNT)
    assert _rows(workspace.warehouse, earlier_sql) == earlier

    monkeypatch.setenv("DAGSTER_HOME", str(workspace.path / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        build = instance.get_runs(filters=dg.RunsFilter(job_name="build_job"), limit=1)[0]
        quarters = {r.partition_key for r in instance.fetch_materializations(
            dg.AssetKey(["marts", "retention"]), limit=200).records if r.run_id == build.run_id}
    assert build.tags["dagster/asset_partition_range_start"] == "2024-04-01"
    assert "2024-04-01" in build.tags["retention/rebuild_reason"]
    assert min(quarters) == "2024-04-01"


def test_a_nightly_run_without_new_files_rebuilds_nothing(sample, tmp_path):
    workspace = sample.workspace.clone(tmp_path / "quiet")
    before = table_hashes(workspace.warehouse)
    nightly = workspace.run("nightly")
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert "no quarter rebuilt" in nightly.stdout
    assert table_hashes(workspace.warehouse) == before


def _move_a_line_and_drop_a_row(landing, warehouse) -> None:
    """A restatement moving one line to another customer, and an old invoice file re-sent without one row."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        line = con.execute(
            "SELECT invoice_id, line_id, customer_id, subscription_id, amount, currency, period_start, period_end, "
            "status, issued_at FROM billing.invoices WHERE status = 'paid' AND period_start < DATE '2025-01-01' "
            "ORDER BY invoice_id, line_id LIMIT 1"
        ).fetchone()
        other = con.execute("SELECT min(customer_id) FROM billing.invoices WHERE customer_id <> ?", [line[2]]).fetchone()[0]
        fullest = con.execute(
            "SELECT _source_file FROM billing.invoices WHERE period_start < DATE '2025-01-01' "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]
    header = "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at"
    text = ",".join("" if value is None else str(value) for value in [*line[:2], other, *line[3:]])
    (landing / "invoices" / "invoices_restated.csv").write_text(header + "\n" + text + "\n")
    rows = (landing / fullest).read_text().splitlines()
    assert len(rows) > 2, "the re-sent file needs a row to lose"
    (landing / fullest).write_text("\n".join(rows[:-1]) + "\n")


def _next_night(sample, path):
    """A clone of the sample with the next night's files landed, and two restatements."""
    workspace = sample.workspace.clone(path)
    land(sample.held, workspace.landing, sample.held_files)
    _move_a_line_and_drop_a_row(workspace.landing, workspace.warehouse)
    return workspace


@pytest.fixture(scope="module")
def scratch(sample, tmp_path_factory):
    """A build from scratch of the next night's landing folder."""
    tmp = tmp_path_factory.mktemp("scratch")
    fresh = _next_night(sample, tmp / "night").clone(tmp / "scratch", landing_only=True)
    built = fresh.run("run")
    assert built.returncode == 0, built.stderr[-3000:]
    return _hashes(fresh.warehouse)


def test_the_next_night_with_restatements_equals_a_build_from_scratch(sample, scratch, tmp_path):
    """New lines and orders, late and restated rows, a line moved to another customer and an old file re-sent
    without a row: only the changed customers and the quarters from the first changed day are rebuilt, and every
    table must come out equal to a build from scratch on the same files."""
    workspace = _next_night(sample, tmp_path / "nightly")
    nightly = workspace.run("nightly")
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert "full refresh" not in nightly.stderr  # it was an incremental build
    tables = _hashes(workspace.warehouse)
    assert [t for t in scratch if tables[t] != scratch[t]] == []


def _dbt_build_running(pid: int) -> bool:
    """Whether a descendant of `pid` is a `dbt build` process."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            session = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[3])
        except (OSError, IndexError, ValueError):
            continue
        if session == pid and b"dbt" in cmdline and b" build " in cmdline:
            return True
    return False


def test_a_night_killed_during_dbt_is_completed_by_the_next_run(sample, scratch, tmp_path):
    """kill -9 of the whole run while dbt writes the warehouse: nothing is published, and the next nightly run,
    with no new file, rebuilds what the killed one should have (every load since the last publication)."""
    workspace = _next_night(sample, tmp_path / "killed")
    before = table_hashes(workspace.serving)
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "nightly"], env=workspace.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not _dbt_build_running(process.pid):
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before dbt started"
            time.sleep(0.2)
        time.sleep(2)  # dbt is writing models now
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert table_hashes(workspace.serving) == before, "a killed run publishes nothing"

    again = workspace.run("nightly")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no quarter rebuilt" not in again.stdout
    tables = _hashes(workspace.warehouse)
    assert [t for t in scratch if tables[t] != scratch[t]] == []
