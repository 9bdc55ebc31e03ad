"""End-to-end checks of the dbt project on synthetic data: build, identities, consistency, partition windows."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.dbt.conftest import make_project, scalar

MARTS = (
    "customer_periods",
    "retention",
    "retention_by_segment",
    "revenue_churn",
    "revenue_churn_by_segment",
    "cohort_retention",
)




def test_build_succeeds_with_unit_and_data_tests(built_project):
    _, result = built_project
    assert result.returncode == 0
    assert "29 unit tests" in result.stdout  # every unit test of the project, once in the suite
    assert "ERROR=0" in result.stdout and "FAIL" not in result.stdout


def test_rows_without_fx_rate_are_counted_by_a_warning(built_project, con):
    _, result = built_project
    assert (
        scalar(con, "select count(*) from intermediate.int_invoice_lines_converted where not has_fx_rate")
        == 6
    )
    assert scalar(con, "select count(*) from intermediate.int_orders_converted where not has_fx_rate") == 1
    assert "invoice_lines_without_fx_rate" in result.stdout and "WARN 6" in result.stdout


def test_every_grain_and_movement_is_present(con):
    grains = {row[0] for row in con.execute("select distinct grain from marts.retention").fetchall()}
    assert grains == {"month", "quarter", "year"}
    movements = {
        row[0] for row in con.execute("select distinct mrr_movement from marts.customer_periods").fetchall()
    }
    assert movements == {"new", "expansion", "contraction", "churned", "reactivation", "unchanged", "none"}
    assert scalar(con, "select count(*) from marts.retention where customers_reactivated > 0") > 0
    assert scalar(con, "select count(*) from marts.retention where customers_new_lost > 0") > 0


@pytest.mark.parametrize("table", ["retention", "retention_by_segment"])
def test_count_identity_every_period_and_grain(con, table):
    broken = scalar(
        con,
        f"""
        select count(*) from marts.{table}
        where customers_end <> customers_start - customers_churned + customers_new - customers_new_lost
                               + customers_reactivated
        """,
    )
    assert broken == 0
    assert scalar(con, f"select count(*) from marts.{table}") > 0


@pytest.mark.parametrize("table", ["revenue_churn", "revenue_churn_by_segment"])
def test_mrr_identity_is_exact_every_period_and_grain(con, table):
    broken = scalar(
        con,
        f"""
        select count(*) from marts.{table}
        where mrr_end <> mrr_start + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churned_mrr
        """,
    )
    assert broken == 0
    assert scalar(con, f"select count(*) from marts.{table} where mrr_start > 0 and mrr_start <> mrr_end") > 0


def test_retention_matches_customer_period_sums(con):
    mismatches = scalar(
        con,
        """
        with sums as (
            select grain, period_start,
                count(*) filter (where active_at_start) as customers_start,
                count(*) filter (where is_new) as customers_new,
                count(*) filter (where is_reactivated) as customers_reactivated,
                count(*) filter (where is_churned) as customers_churned,
                count(*) filter (where active_at_end) as customers_end
            from marts.customer_periods group by all
        )
        select count(*) from marts.retention r
        left join sums s using (grain, period_start)
        where r.customers_start <> coalesce(s.customers_start, 0)
           or r.customers_new <> coalesce(s.customers_new, 0)
           or r.customers_reactivated <> coalesce(s.customers_reactivated, 0)
           or r.customers_churned <> coalesce(s.customers_churned, 0)
           or r.customers_end <> coalesce(s.customers_end, 0)
           or r.retention_rate is distinct from
              100.0 * (r.customers_end - r.customers_new) / nullif(r.customers_start, 0)
        """,
    )
    assert mismatches == 0


def test_mrr_matches_intervals_on_period_end_days(con):
    mismatches = scalar(
        con,
        """
        with expected as (
            select p.grain, p.period_start, coalesce(sum(i.mrr), 0) as mrr_end
            from intermediate.int_periods p
            left join intermediate.int_customer_mrr_intervals i
                on i.valid_from <= p.end_day and p.end_day < i.valid_to
            group by all
        )
        select count(*) from marts.revenue_churn r join expected e using (grain, period_start)
        where r.mrr_end <> e.mrr_end
        """,
    )
    assert mismatches == 0


def test_segments_add_up_to_totals(con):
    mismatches = scalar(
        con,
        """
        with seg as (
            select grain, period_start, sum(customers_end) as customers_end, sum(mrr_end) as mrr_end
            from marts.retention_by_segment join marts.revenue_churn_by_segment using (grain, period_start, segment)
            group by all
        )
        select count(*) from marts.retention r join marts.revenue_churn m using (grain, period_start)
        join seg s using (grain, period_start)
        where r.customers_end <> s.customers_end or m.mrr_end <> s.mrr_end
        """,
    )
    assert mismatches == 0
    assert "unknown" in {
        row[0] for row in con.execute("select segment from marts.retention_by_segment").fetchall()
    }


def test_cohorts_start_at_full_size_and_revenue(con):
    assert (
        scalar(
            con,
            """
        select count(*) from marts.cohort_retention
        where period_offset = 0
          and (customers_active > cohort_size or revenue_retention_rate is distinct from
               case when revenue <> 0 then 100.0 end)
        """,
        )
        == 0
    )
    assert (
        scalar(
            con,
            """
        select count(*) from marts.cohort_retention c
        join (select grain, period_start, sum(recognised_revenue) as revenue
              from marts.customer_periods group by all) p
          on p.grain = c.grain and p.period_start = c.cohort_period_start and c.period_offset = 0
        """,
        )
        > 0
    )


def _quarters(con) -> list[str]:
    rows = con.execute(
        "select distinct period_start from intermediate.int_periods where grain = 'quarter' order by 1"
    ).fetchall()
    return [row[0].isoformat() for row in rows]


def _next_quarter(iso_day: str) -> str:
    year, month = int(iso_day[:4]), int(iso_day[5:7])
    year, month = (year + 1, 1) if month == 10 else (year, month + 3)
    return f"{year:04d}-{month:02d}-01"


# Every partitioned table and a column to spoil: a row a window build did not replace keeps the spoiled value.
SPOILED = {
    "intermediate.int_customer_revenue_recognised": "order_count = -1",
    "intermediate.int_cohort_baselines": "cohort_size = -1",
    "marts.customer_periods": "order_count = -1",
    "marts.retention_by_segment": "customers_end = -1",
    "marts.retention": "customers_end = -1",
    "marts.revenue_churn_by_segment": "new_mrr = -1",
    "marts.revenue_churn": "new_mrr = -1",
    "marts.cohort_retention": "cohort_size = -1",
}


def test_quarter_by_quarter_equals_all_at_once(built_project, tmp_path):
    """Rebuilding one quarter replaces exactly the rows of its window (its year rows included); rebuilding every
    quarter one window at a time, in date order as backfills and nightly runs go (a cohort's later periods read
    its baseline), ends equal to the one full build."""
    project, _ = built_project
    copy = make_project(tmp_path)
    shutil.copyfile(project.warehouse, copy.warehouse)
    with duckdb.connect(str(copy.warehouse)) as connection:
        quarters = _quarters(connection)
        for table, spoil in SPOILED.items():
            connection.execute(f"update {table} set {spoil}")
    assert len(quarters) >= 6
    latest = quarters[-1]
    copy.run_windows([(latest, _next_quarter(latest))])
    with duckdb.connect(str(copy.warehouse), read_only=True) as connection:
        rebuilt = connection.execute(
            "select distinct grain, period_start from marts.retention where customers_end <> -1"
        ).fetchall()
        assert {(grain, day.isoformat()) for grain, day in rebuilt if grain == "quarter"} == {("quarter", latest)}
        assert {day.year for grain, day in rebuilt if grain == "year"} == {int(latest[:4])}
        assert scalar(connection, "select count(*) from marts.retention where customers_end = -1") > 0
    copy.run_windows([(quarter, _next_quarter(quarter)) for quarter in quarters])
    with duckdb.connect(str(copy.warehouse), read_only=True) as connection:
        connection.execute("attach ? as full_build (read_only)", [str(project.warehouse)])
        for table in SPOILED:
            total = scalar(connection, f"select count(*) from full_build.{table}")
            assert total > 0 and total == scalar(connection, f"select count(*) from {table}"), table
            for left, right in ((f"full_build.{table}", table), (table, f"full_build.{table}")):
                extra = scalar(connection, f"select count(*) from (from {left} except all from {right})")
                assert extra == 0, f"{extra} rows of {left} missing from {right}"


@pytest.mark.parametrize(
    "options",
    [{"with_invoices": False}, {"with_orders": False}, {"with_invoices": False, "with_orders": False}],
    ids=["shop-only", "saas-only", "nothing-loaded"],
)
def test_builds_with_empty_invoices_or_orders(tmp_path, options):
    project = make_project(tmp_path, **options)
    project.run("build")
    with duckdb.connect(str(project.warehouse), read_only=True) as connection:
        periods = scalar(connection, "select count(*) from marts.retention")
        assert (periods == 0) == (options == {"with_invoices": False, "with_orders": False})
        assert (
            scalar(
                connection,
                """
            select count(*) from marts.revenue_churn
            where mrr_end <> mrr_start + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churned_mrr
            """,
            )
            == 0
        )


def _declared_not_null(project) -> set[tuple[str, str]]:
    manifest = json.loads((project.work_dir / "target" / "manifest.json").read_text())
    return {
        (node["name"], column)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["schema"] == "marts"
        for column, spec in node["columns"].items()
        if any(c["type"] == "not_null" for c in spec.get("constraints", []))
    }


def test_declared_not_null_columns_are_enforced_by_the_marts_tables(built_project, con):
    project, _ = built_project
    declared = _declared_not_null(project)
    assert len(declared) >= 40
    enforced = set(con.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' and not is_nullable"
    ).fetchall())
    assert enforced == declared

