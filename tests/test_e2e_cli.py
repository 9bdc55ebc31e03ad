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


# ------------------------------------------------------------------------------ lifetime value and survival


def _months_lived(start, end) -> int:
    """Whole calendar months from start to end, a month added to a 31st landing on the month's last day: the
    largest k with start + k months <= end (written out here, not the pipeline's SQL)."""
    import pandas as pd

    k = (end.year - start.year) * 12 + end.month - start.month
    while k > 0 and pd.Timestamp(start) + pd.DateOffset(months=k) > pd.Timestamp(end):
        k -= 1
    return k


def test_subscription_survival_matches_lifelines_on_the_sample(first_run):
    """Each subscriber's lifetime recomputed in Python from the MRR intervals, one row per subscriber, fitted by
    lifelines directly: the mart (SQL lifetimes, aggregated counts as weights) gives the same curve."""
    from lifelines import KaplanMeierFitter

    tmp, _, _ = first_run
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
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


def _expected_subscription_clv(curves, row, months: int, annual_rate: float, margin: float) -> float:
    """margin x MRR x sum over k of S(a+k) / S(a) (1 + d)^-k, read off the mart's curve of the subscriber."""
    name = row.survival_curve.removeprefix("segment:")
    s = curves[curves["group_value"] == name].set_index("months_since_start")["survival"]
    v = (1 + annual_rate) ** (-1 / 12)
    a = row.subscription_age_months
    return margin * row.current_mrr * sum(s[a + k] / s[a] * v**k for k in range(1, months + 1))


def test_clv_settings_change_the_lifetime_value_and_the_export(first_run, tmp_path, monkeypatch):
    """The run used the defaults (12 months, 10 % a year, margin 1). The lifetime value, the at-risk list and the
    export are then built again from a copy of its warehouse with RETENTION_CLV_MONTHS=6,
    RETENTION_DISCOUNT_RATE=0 and RETENTION_GROSS_MARGIN=0.5: each subscriber's value follows the formula with
    the new numbers, and the export carries the new value at stake."""
    import shutil

    import dagster as dg

    from pipeline.definitions_builder import build_resources
    from pipeline.settings import load_settings
    from pipeline.value.at_risk_asset import at_risk_customers
    from pipeline.value.clv_asset import customer_lifetime_value
    from pipeline.value.exports import outreach_exports

    tmp, _, _ = first_run
    shutil.copy(tmp / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    query = ("SELECT * FROM marts.customer_lifetime_value WHERE subscription_clv IS NOT NULL "
             "ORDER BY customer_id")
    with duckdb.connect(str(tmp / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute(query).df()
        curves = con.execute("SELECT * FROM marts.subscription_survival").df()
    for name, value in {"RETENTION_WAREHOUSE": tmp_path / "warehouse.duckdb", "RETENTION_EXPORT_DIR": tmp_path,
                        "RETENTION_CLV_MONTHS": 6, "RETENTION_DISCOUNT_RATE": 0, "RETENTION_GROSS_MARGIN": 0.5}.items():
        monkeypatch.setenv(name, str(value))
    resources = build_resources(load_settings())
    result = dg.materialize([customer_lifetime_value, at_risk_customers, outreach_exports], resources=resources)
    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        after = con.execute(query).df()
        at_risk = con.execute("SELECT customer_id, value_at_stake FROM marts.at_risk_customers").df()
    assert len(after) == len(before) > 50 and (before["horizon_months"] == 12).all()
    assert (after["horizon_months"] == 6).all()
    top = curves.loc[curves["group_type"] != "cohort_quarter"].groupby("group_value")["months_since_start"].max()
    checked = 0
    for old, new in zip(before.itertuples(), after.itertuples(), strict=True):
        if old.subscription_age_months + 12 > top[old.survival_curve.removeprefix("segment:")]:
            continue  # beyond the curve the tail hazard continues it: checked in tests/value/test_survival.py
        assert old.subscription_clv == pytest.approx(_expected_subscription_clv(curves, old, 12, 0.10, 1.0))
        assert new.subscription_clv == pytest.approx(_expected_subscription_clv(curves, new, 6, 0.0, 0.5))
        checked += 1
    assert checked > 20
    export = (tmp_path / f"at_risk_customers_{after['as_of'].iloc[0]:%Y-%m-%d}.csv").read_text().splitlines()
    assert export[0].endswith(",value_at_stake")
    shown = {line.split(",")[1]: line.rsplit(",", 1)[1] for line in export[1:]}
    stakes = at_risk.dropna().set_index("customer_id")["value_at_stake"]
    assert len(stakes) > 5 and all(float(shown[c]) == pytest.approx(v) for c, v in stakes.items())
    old_export = next((tmp / "exports").glob("at_risk_customers_*.csv")).read_text().splitlines()
    assert {line.rsplit(",", 1)[1] for line in old_export[1:]} != set(shown.values())
