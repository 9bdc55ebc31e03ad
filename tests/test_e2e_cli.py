"""`retention sample-data` + `retention run` end to end, as a user runs them, on a small generated sample."""

from __future__ import annotations

import duckdb
import pytest

from tests.cli_runs import retention, sample_and_run, table_hashes


def test_outreach_exports_have_the_documented_columns(first_run):
    tmp, _, _ = first_run
    at_risk = sorted((tmp / "exports").glob("at_risk_customers_*.csv"))
    churned = sorted((tmp / "exports").glob("churned_customers_*.csv"))
    assert len(at_risk) == 1 and len(churned) == 1
    assert at_risk[0].read_text().splitlines()[0] == (
        "priority_rank,customer_id,name,email,segment,reasons,value_at_risk,p_alive,days_since_last_activity,"
        "expected_next_order_date,as_of,value_at_stake"
    )
    assert churned[0].read_text().splitlines()[0] == (
        "customer_id,name,email,segment,churned_in_month,lost_mrr,lifetime_revenue,trailing_12m_revenue,last_active_day"
    )


def test_names_and_emails_stay_out_of_dagster_metadata_and_logs(first_run, monkeypatch):
    import dagster as dg

    tmp, _, run = first_run
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT name FROM marts.at_risk_customers WHERE name <> '' LIMIT 20").fetchall()]
        emails = [e for (e,) in con.execute("SELECT email FROM marts.at_risk_customers WHERE email <> '' LIMIT 20").fetchall()]
    assert names and emails
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "at_risk_customers"]))
        report = instance.get_latest_materialization_event(dg.AssetKey(["reports", "retention_report"]))
    html = (tmp / "reports" / "retention_report.html").read_text(encoding="utf-8")
    shown = str(event.asset_materialization.metadata) + str(report.asset_materialization.metadata) + html
    shown += run.stdout + run.stderr
    assert not [n for n in names if n in shown]
    assert not [e for e in emails if e in shown]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    env, run = sample_and_run(tmp, customers=300, seed=7)
    return tmp, env, run


def test_run_succeeds_and_prints_a_summary(first_run):
    _, _, run = first_run
    assert run.returncode == 0, run.stderr[-5000:]
    assert "Landing files loaded:" in run.stdout
    assert "Retention rate" in run.stdout and "Gross MRR churn" in run.stdout
    assert "Open the Dagster UI" in run.stdout


def test_run_writes_the_report_and_names_it(first_run):
    tmp, _, run = first_run
    report = tmp / "reports" / "retention_report.html"
    assert f"Report: {report}" in run.stdout
    html = report.read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 5 and "https://" not in html


def test_every_row_read_is_loaded_or_quarantined(first_run):
    tmp, _, _ = first_run
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        bad = con.execute(
            "SELECT count(*) FROM ingest.manifest WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM ingest.quarantine").fetchone()[0]
        rows = con.execute("SELECT count(*) FROM marts.retention").fetchone()[0]
    assert bad == 0
    assert quarantined == 3  # the generator's documented malformed rows
    assert rows > 0


def test_runs_are_recorded_on_the_dagster_instance(first_run, monkeypatch):
    import dagster as dg

    tmp, _, _ = first_run
    monkeypatch.setenv("DAGSTER_HOME", str(tmp / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        jobs = sorted(r.job_name for r in instance.get_runs())
        window = instance.get_latest_materialization_event(dg.AssetKey(["intermediate", "int_activity_window"]))
        retention = instance.get_latest_materialization_event(dg.AssetKey(["marts", "retention"]))
    assert jobs == ["build_job", "ingest_job"]
    metadata = window.asset_materialization.metadata
    assert metadata["activity_window_days"].value > 0 and metadata["window_source"].value == "derived"
    assert retention.asset_materialization.metadata["dagster/row_count"].value > 0


def test_running_again_changes_no_mart(first_run):
    tmp, env, run = first_run
    before = table_hashes(tmp / "warehouse.duckdb")
    again = retention(["run"], env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert table_hashes(tmp / "warehouse.duckdb") == before


def test_bad_period_gives_a_readable_error(first_run):
    _, env, _ = first_run
    result = retention(["run", "--from", "last-year"], env)
    assert result.returncode != 0
    assert "'last-year' is not a period" in result.stderr
    assert "Traceback" not in result.stderr
