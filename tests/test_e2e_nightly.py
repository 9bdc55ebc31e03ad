"""Nightly and re-runs end to end: a late invoice rebuilds its quarter onward and nothing before it; re-running
a quarter changes no byte; dbt unit tests show up as asset checks; marts are published after their checks."""

import dagster as dg
import duckdb
import pytest

from tests.cli_runs import MARTS, retention, sample_and_run, table_hashes

LATE_AMOUNT = 1234.5
LATE_FILE = (
    "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at\n"
    f"inv_late_1,1,cus_late_1,sub_late_1,{LATE_AMOUNT},USD,2024-04-01,2024-05-01,paid,2024-04-01 09:00:00\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nightly")
    env, run = sample_and_run(tmp, customers=300, seed=11)
    assert run.returncode == 0, run.stderr[-3000:]
    return tmp, env


def _instance(tmp, monkeypatch) -> dg.DagsterInstance:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    return dg.DagsterInstance.get()


def _rows(path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dbt_unit_tests_are_reported_as_checks_on_their_models(built, monkeypatch):
    tmp, _ = built
    with _instance(tmp, monkeypatch) as instance:
        model = dg.AssetKey(["intermediate", "int_activity_window"])
        key = dg.AssetCheckKey(model, "int_activity_window_derived_from_median_gap")
        records = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
    assert key in records, "unit test result not recorded"
    assert records[key].event.dagster_event.event_specific_data.passed


def _assert_published_equals_build(warehouse) -> None:
    for table in MARTS[:9]:
        for left, right in (("marts", "marts"), ("marts", "marts")):
            extra = _rows(warehouse, f"SELECT count(*) FROM (FROM {left}.{table} EXCEPT ALL FROM {right}.{table})")
            assert extra[0][0] == 0, f"{table}: rows of {left} missing from {right}"
    assert _rows(warehouse, "SELECT count(*) FROM publish.pending_windows")[0][0] == 0


def test_published_marts_equal_the_checked_build(built):
    tmp, _ = built
    _assert_published_equals_build(tmp / "warehouse.duckdb")


def test_rerunning_one_quarter_changes_no_byte(built):
    tmp, env = built
    before = table_hashes(tmp / "warehouse.duckdb")
    again = retention(["run", "--from", "2024-Q2", "--to", "2024-Q2"], env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert table_hashes(tmp / "warehouse.duckdb") == before


def test_a_late_invoice_rebuilds_its_quarter_onward_and_nothing_before(built, monkeypatch):
    tmp, env = built
    wh = tmp / "warehouse.duckdb"
    month_sql = "SELECT period_start, mrr_end, mrr_start FROM marts.revenue_churn WHERE grain = 'month' ORDER BY 1"
    before = dict((p, (end, start)) for p, end, start in _rows(wh, month_sql))
    earlier_sql = "SELECT sum(hash(r)) FROM marts.retention r WHERE period_start < DATE '2024-04-01' AND grain <> 'year'"
    earlier = _rows(wh, earlier_sql)
    (tmp / "landing" / "invoices" / "invoices_late_2024-04.csv").write_text(LATE_FILE)

    nightly = retention(["nightly"], env)
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    after = dict((p, (end, start)) for p, end, start in _rows(wh, month_sql))
    april = next(p for p in after if p.isoformat() == "2024-04-01")
    may = next(p for p in after if p.isoformat() == "2024-05-01")
    assert float(after[april][0] - before[april][0]) == pytest.approx(LATE_AMOUNT)
    assert float(after[may][1] - before[may][1]) == pytest.approx(LATE_AMOUNT)
    assert _rows(wh, earlier_sql) == earlier
    _assert_published_equals_build(wh)  # publishing copied the rebuilt window only, and that was enough

    with _instance(tmp, monkeypatch) as instance:
        build = instance.get_runs(filters=dg.RunsFilter(job_name="build_job"), limit=1)[0]
        retention_event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "retention"]))
    assert build.tags["dagster/asset_partition_range_start"] == "2024-04-01"
    assert "2024-04-01" in build.tags["retention/rebuild_reason"]
    assert "2024-04-01" in retention_event.asset_materialization.metadata["rebuilt_window"].value


def test_a_nightly_run_without_new_files_rebuilds_nothing(built):
    tmp, env = built
    before = table_hashes(tmp / "warehouse.duckdb")
    nightly = retention(["nightly"], env)
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert "no quarter rebuilt" in nightly.stdout
    assert table_hashes(tmp / "warehouse.duckdb") == before
