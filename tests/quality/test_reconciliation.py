from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from pipeline.lib.warehouse import Warehouse
from pipeline.quality import reconciliation_sql as rules
from pipeline.quality.reconciliation import reconciliation_checks
from pipeline.quality.sql import failing_rows

from .conftest import QUALITY, evaluate, meta, write_sql

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
BLOCKING = [
    ("staging/stg_billing__invoices", "invoice_money_reconciles"),
    ("staging/stg_shop__orders", "order_money_reconciles"),
    ("marts/revenue_churn", "mrr_movements_reconcile"),
    ("marts/revenue_churn_by_segment", "mrr_movements_reconcile"),
    ("marts/retention", "customer_counts_reconcile"),
    ("marts/retention_by_segment", "customer_counts_reconcile"),
    ("marts/cohort_retention", "cohort_sizes_match_new_customers"),
    ("marts/customer_periods", "no_activity_before_first_active_day"),
]


def test_every_reconciliation_passes_on_consistent_data(wh):
    results = evaluate(reconciliation_checks(), wh)
    for key in BLOCKING:
        assert results[key].passed, key
        assert meta(results[key], "failing_rows") == 0
    assert all(s.blocking for c in reconciliation_checks() for s in c.check_specs
               if (s.asset_key.to_user_string(), s.name) in BLOCKING)


BREAKS = {
    # staging must not lose or change money: a view that drops one EUR line
    ("staging/stg_billing__invoices", "invoice_money_reconciles"): [
        "CREATE OR REPLACE VIEW staging.stg_billing__invoices AS SELECT * FROM billing.invoices WHERE currency <> 'EUR'"
    ],
    ("staging/stg_shop__orders", "order_money_reconciles"): [
        "CREATE OR REPLACE VIEW staging.stg_shop__orders AS SELECT * REPLACE (CASE WHEN order_id = 'o1' THEN amount + 0.0001 ELSE amount END AS amount) FROM shop.orders"
    ],
    ("marts/revenue_churn", "mrr_movements_reconcile"): [
        "UPDATE marts.revenue_churn SET mrr_end = mrr_end + 0.0001 WHERE grain = 'month'"
    ],
    ("marts/revenue_churn_by_segment", "mrr_movements_reconcile"): [
        "UPDATE marts.revenue_churn_by_segment SET churned_mrr = 1 WHERE grain = 'quarter'"
    ],
    ("marts/retention", "customer_counts_reconcile"): [
        "UPDATE marts.retention SET customers_new_lost = 0 WHERE period_start = DATE '2024-02-01'"
    ],
    ("marts/retention_by_segment", "customer_counts_reconcile"): [
        "UPDATE marts.retention_by_segment SET customers_end = 104 WHERE period_start = DATE '2024-03-01'"
    ],
    ("marts/cohort_retention", "cohort_sizes_match_new_customers"): [
        "UPDATE marts.cohort_retention SET cohort_size = 14 WHERE cohort_period_start = DATE '2024-03-01'"
    ],
    ("marts/customer_periods", "no_activity_before_first_active_day"): [
        "UPDATE marts.customer_periods SET active_at_start = true WHERE customer_id = 'c2'"
    ],
}


@pytest.mark.parametrize("key", list(BREAKS), ids=lambda k: f"{k[0]}:{k[1]}")
def test_a_broken_row_fails_its_check_with_a_count_and_a_sample(wh, key):
    write_sql(wh, *BREAKS[key])
    results = evaluate(reconciliation_checks(), wh)
    failed = results[key]
    assert not failed.passed
    assert failed.severity == ERROR
    assert meta(failed, "failing_rows") == 1
    assert len(meta(failed, "sample")) == 1
    others = [k for k in BLOCKING if k != key]
    assert all(results[k].passed for k in others if k in results)  # checks after a blocked asset do not run


def test_the_broken_money_row_names_the_currency_and_both_sums(wh):
    write_sql(wh, *BREAKS[("staging/stg_billing__invoices", "invoice_money_reconciles")])
    evaluation = evaluate(reconciliation_checks(), wh)[("staging/stg_billing__invoices", "invoice_money_reconciles")]
    assert meta(evaluation, "sample") == [
        {"currency": "EUR", "raw_rows": 1, "staging_rows": None, "raw_amount": "300.0000", "staging_amount": None}
    ]


def test_rows_without_fx_rate_warn_with_counts_per_currency(wh):
    results = evaluate(reconciliation_checks(), wh)
    invoices = results[("intermediate/int_invoice_lines_converted", "rows_without_fx_rate")]
    orders = results[("intermediate/int_orders_converted", "rows_without_fx_rate")]
    assert invoices.passed
    assert not orders.passed and orders.severity == WARN
    assert meta(orders, "failing_rows") == 1
    assert meta(orders, "by_currency") == {"GBP": 1}


def test_missing_tables_pass_as_skipped(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_sql(path, "CREATE SCHEMA marts")
    results = evaluate(reconciliation_checks(), path)
    assert results and all(e.passed for e in results.values())
    assert all(meta(e, "skipped") for e in results.values())
    assert "does not exist yet" in meta(results[("marts/retention", "customer_counts_reconcile")], "note")


def test_a_missing_warehouse_file_passes_as_skipped(tmp_path):
    results = evaluate(reconciliation_checks(), tmp_path / "absent.duckdb")
    assert all(e.passed and meta(e, "skipped") for e in results.values())
    assert not (tmp_path / "absent.duckdb").exists()


def test_a_failing_blocking_check_stops_the_downstream_assets(wh):
    write_sql(wh, *BREAKS[("marts/revenue_churn", "mrr_movements_reconcile")])
    ran = []

    @dg.asset(key=["marts", "revenue_churn"])
    def revenue_churn():
        ran.append("revenue_churn")

    @dg.asset(key=["serving", "marts"], deps=[revenue_churn])
    def published():
        ran.append("published")

    key = dg.AssetCheckKey(dg.AssetKey(["marts", "revenue_churn"]), "mrr_movements_reconcile")
    check = next(c for c in reconciliation_checks() if key in c.check_keys)
    result = dg.materialize(
        [revenue_churn, published, check],
        resources={"warehouse": Warehouse(path=str(wh)), "quality": QUALITY},
        raise_on_error=False,
    )
    assert not result.success
    assert ran == ["revenue_churn"]


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def test_identity_sql_is_exact_to_the_last_decimal(con):
    con.execute(
        "CREATE TABLE r AS SELECT 'month' AS grain, DATE '2024-01-01' AS period_start, "
        "x::DECIMAL(18,4) AS mrr_start, 0.0001::DECIMAL(18,4) AS new_mrr, 0::DECIMAL(18,4) AS reactivation_mrr, "
        "0::DECIMAL(18,4) AS expansion_mrr, 0::DECIMAL(18,4) AS contraction_mrr, 0::DECIMAL(18,4) AS churned_mrr, "
        "(x + 0.0001)::DECIMAL(18,4) AS mrr_end FROM (VALUES (99999999999999.0), (0.0003)) AS t(x)"
    )
    assert failing_rows(con, rules.mrr_identity_sql("r")).count == 0
    con.execute("UPDATE r SET mrr_end = mrr_end - 0.0001 WHERE mrr_start < 1")
    assert failing_rows(con, rules.mrr_identity_sql("r")).count == 1


def test_activity_before_first_active_names_the_problem(con):
    con.execute(
        "CREATE TABLE cp AS SELECT * FROM (VALUES "
        "('month', DATE '2024-01-01', 'a', DATE '2024-02-01', false, false),"
        "('month', DATE '2024-02-01', 'b', DATE '2024-02-01', true, true),"
        "('month', DATE '2024-02-01', 'c', DATE '2024-02-01', false, true)"
        ") AS t(grain, period_start, customer_id, cohort_period_start, active_at_start, is_new)"
    )
    failures = failing_rows(con, rules.activity_before_first_active_sql("cp"))
    assert failures.count == 2
    assert [(r["customer_id"], r["problem"]) for r in failures.sample] == [
        ("a", "period_before_cohort"), ("b", "active_at_start_but_new")
    ]
