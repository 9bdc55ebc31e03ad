"""`retention sample-data` + `retention run` end to end, as a user runs them, on the session's sample."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.cli_runs import table_hashes


def test_run_succeeds_and_prints_a_summary(sample):
    assert "Landing files loaded:" in sample.stdout
    assert "Retention rate" in sample.stdout and "Gross MRR churn" in sample.stdout
    assert f"Serving file: {sample.workspace.serving}" in sample.stdout
    assert "Open the Dagster UI" in sample.stdout


def test_run_writes_the_report_and_names_it(sample):
    report = sample.workspace.path / "reports" / "retention_report.html"
    assert f"Report: {report}" in sample.stdout
    html = report.read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 5 and "https://" not in html


def test_outreach_exports_have_the_documented_columns(sample):
    exports = sample.workspace.path / "exports"
    at_risk = sorted(exports.glob("at_risk_customers_*.csv"))
    churned = sorted(exports.glob("churned_customers_*.csv"))
    assert len(at_risk) == 1 and len(churned) == 1
    assert at_risk[0].read_text().splitlines()[0] == (
        "priority_rank,customer_id,name,email,segment,reasons,value_at_risk,p_alive,days_since_last_activity,"
        "expected_next_order_date,as_of,value_at_stake"
    )
    assert churned[0].read_text().splitlines()[0] == (
        "customer_id,name,email,segment,churned_in_month,lost_mrr,lifetime_revenue,trailing_12m_revenue,last_active_day"
    )
    names = [line.split(",")[1] for line in churned[0].read_text().splitlines()[1:]]
    assert names and all(names), "every churned customer has a name from the CRM"


def test_names_and_emails_stay_out_of_dagster_metadata_and_logs(sample, monkeypatch):
    import dagster as dg

    workspace = sample.workspace
    with duckdb.connect(str(workspace.serving), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT name FROM marts.at_risk_customers WHERE name <> '' LIMIT 20").fetchall()]
        emails = [e for (e,) in con.execute("SELECT email FROM marts.at_risk_customers WHERE email <> '' LIMIT 20").fetchall()]
    assert names and emails
    monkeypatch.setenv("DAGSTER_HOME", str(workspace.path / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "at_risk_customers"]))
        report = instance.get_latest_materialization_event(dg.AssetKey(["reports", "retention_report"]))
    html = (workspace.path / "reports" / "retention_report.html").read_text(encoding="utf-8")
    shown = str(event.asset_materialization.metadata) + str(report.asset_materialization.metadata) + html
    shown += sample.stdout + sample.stderr
    assert not [n for n in names if n in shown]
    assert not [e for e in emails if e in shown]


def test_every_row_read_is_loaded_or_quarantined(sample):
    with duckdb.connect(str(sample.workspace.warehouse), read_only=True) as con:
        bad = con.execute(
            "SELECT count(*) FROM ingest.manifest WHERE rows_read <> rows_loaded + rows_quarantined"
        ).fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM ingest.quarantine").fetchone()[0]
        rows = con.execute("SELECT count(*) FROM marts.retention").fetchone()[0]
    assert bad == 0
    assert quarantined == 3  # the generator's documented malformed rows
    assert rows > 0


def test_runs_are_recorded_on_the_dagster_instance(sample, monkeypatch):
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(sample.workspace.path / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        build = next(r for r in runs if r.job_name == "build_job")
        quarters = {r.partition_key for r in instance.fetch_materializations(
            dg.AssetKey(["marts", "retention"]), limit=100).records}
        periods = instance.get_latest_materialization_event(dg.AssetKey(["intermediate", "int_periods"]))
    assert sorted(r.job_name for r in runs) == ["build_job", "ingest_job"]
    first, last = build.tags["dagster/asset_partition_range_start"], build.tags["dagster/asset_partition_range_end"]
    assert min(quarters) == first and max(quarters) == last and len(quarters) > 4
    assert periods.asset_materialization.partition is None  # rebuilt whole: not partitioned


def test_production_builds_leave_the_dbt_unit_tests_out(sample):
    command = next(line for line in sample.stderr.splitlines() if "Finished dbt command" in line)
    assert "dbt build" in command and "--exclude-resource-type unit_test" in command


def test_running_again_changes_no_mart(sample, tmp_path):
    workspace = sample.workspace.clone(tmp_path / "again")
    before = table_hashes(workspace.warehouse)
    again = workspace.run("run")
    assert again.returncode == 0, again.stderr[-3000:]
    assert table_hashes(workspace.warehouse) == before
    assert table_hashes(workspace.serving) == before
    one_quarter = workspace.run("run", "--from", "2024-Q2", "--to", "2024-Q2")
    assert one_quarter.returncode == 0, one_quarter.stderr[-3000:]
    assert table_hashes(workspace.warehouse) == before


def test_bad_period_gives_a_readable_error(sample):
    result = sample.workspace.run("run", "--from", "last-year")
    assert result.returncode != 0
    assert "'last-year' is not a period" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_dbt_docs_site_documents_the_published_marts_offline(sample, tmp_path):
    result = sample.workspace.run("docs", "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr[-3000:]
    site = tmp_path / "site" / "static_index.html"
    assert f"dbt docs: {site}" in result.stdout
    html = site.read_text(encoding="utf-8")
    assert "https://" not in html.split("<script", 1)[0]  # nothing fetched before the embedded data
    catalog = json.loads((tmp_path / "site" / "catalog.json").read_text())
    retention = catalog["nodes"]["model.retention.retention"]
    assert "retention_rate" in retention["columns"] and retention["metadata"]["schema"] == "marts"
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    assert {"exposure.retention.retention_report", "exposure.retention.outreach_export"} <= set(manifest["exposures"])


# ------------------------------------------------------------------------------ lifetime value and survival


def _months_lived(start, end) -> int:
    """Whole calendar months from start to end, a month added to a 31st landing on the month's last day: the
    largest k with start + k months <= end (written out here, not the pipeline's SQL)."""
    import pandas as pd

    k = (end.year - start.year) * 12 + end.month - start.month
    while k > 0 and pd.Timestamp(start) + pd.DateOffset(months=k) > pd.Timestamp(end):
        k -= 1
    return k


def test_subscription_survival_matches_lifelines_on_the_sample(sample):
    """Each subscriber's lifetime recomputed in Python from the MRR intervals, one row per subscriber, fitted by
    lifelines directly: the mart (SQL lifetimes, aggregated counts as weights) gives the same curve."""
    from lifelines import KaplanMeierFitter

    with duckdb.connect(str(sample.workspace.warehouse), read_only=True) as con:
        as_of = con.execute("SELECT as_of_day FROM intermediate.int_as_of_day").fetchone()[0]
        intervals = con.execute(
            "SELECT customer_id, valid_from, valid_to FROM intermediate.int_customer_mrr_intervals").df()
        mart = con.execute("SELECT months_since_start, at_risk, survival, ci_lower FROM marts.subscription_survival "
                           "WHERE group_type = 'all' ORDER BY months_since_start").df()
    started = intervals[intervals["valid_from"].dt.date <= as_of]
    spans = started.groupby("customer_id").agg(first=("valid_from", "min"), last=("valid_to", "max"))
    ended = spans["last"].dt.date <= as_of
    months = [_months_lived(f.date(), min(la.date(), as_of)) for f, la in zip(spans["first"], spans["last"],
                                                                               strict=True)]
    reference = KaplanMeierFitter().fit(months, ended.to_numpy(), timeline=mart["months_since_start"])
    assert mart["at_risk"].iloc[0] == len(spans) > 100
    for month in (1, 3, 6, 12):
        assert mart.loc[month, "survival"] == pytest.approx(reference.survival_function_.iloc[month, 0], abs=1e-12)
        assert mart.loc[month, "ci_lower"] == pytest.approx(reference.confidence_interval_.iloc[month, 0], abs=1e-12)
    assert 0 < mart.loc[12, "survival"] < mart.loc[1, "survival"] <= 1
