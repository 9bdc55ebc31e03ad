from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from pipeline.ingest.tables import create_warehouse_tables
from pipeline.quality.expectations import MART_SUITES, RAW_SUITES, Params, Suite
from pipeline.quality.gx_checks import gx_checks
from pipeline.quality.gx_run import sample_sql

from .conftest import evaluate, meta, quality_settings, write_sql

INVOICES = ("billing/invoices", "landed_rows_are_plausible")
ORDERS = ("shop/orders", "landed_rows_are_plausible")


def stored(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT check_name, asset_key, success, evaluated, unexpected, failed_expectations, "
            "json_extract(result_json, '$.success')::BOOLEAN, run_id FROM quality.validation_results ORDER BY asset_key"
        ).fetchall()


def test_good_data_passes_every_suite_and_each_run_is_stored(wh):
    results = evaluate(gx_checks(), wh)
    assert len(results) == len(RAW_SUITES) + len(MART_SUITES)
    assert all(e.passed for e in results.values()), {k: meta(e, "failures") for k, e in results.items()}
    assert meta(results[INVOICES], "evaluated_rows") == 3
    assert meta(results[INVOICES], "new_rows") == 3
    rows = stored(wh)
    assert [(r[1], r[2], r[6]) for r in rows] == [  # the empty raw tables have no batch to validate
        ("billing/invoices", True, True), ("crm/customers", True, True),
        ("marts/cohort_retention", True, True), ("marts/retention", True, True),
        ("marts/revenue_churn", True, True), ("shop/orders", True, True),
    ]
    assert len({r[7] for r in rows}) == 1  # one Dagster run id


def _add_invoice(path, batch_id: int, status: str = "paid") -> None:
    write_sql(
        path,
        "INSERT INTO billing.invoices VALUES ('i9', '1', 'c1', 's1', 10.00, 'USD', DATE '2024-03-01', "
        f"DATE '2024-04-01', '{status}', TIMESTAMP '2024-03-01 10:00', 'g.csv', 1, {batch_id}, TIMESTAMP '2024-03-02')",
    )


def test_raw_suites_validate_only_batches_no_validation_accepted_yet(wh):
    raw = [c for c in gx_checks() if next(iter(c.check_keys)).name == "landed_rows_are_plausible"]
    assert evaluate(raw, wh)[INVOICES].passed
    again = evaluate(raw, wh)[INVOICES]
    assert again.passed and meta(again, "new_rows") == 0 and meta(again, "evaluated_rows") == 0
    assert "no rows loaded since batch 1" in meta(again, "note")

    _add_invoice(wh, batch_id=7, status="pending")
    failed = evaluate(raw, wh)[INVOICES]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert meta(failed, "evaluated_rows") == 1 and meta(failed, "batches") == "7..7"

    _add_invoice(wh, batch_id=8)  # the failed batch stays pending until it passes or is replaced
    still = evaluate(raw, wh)[INVOICES]
    assert not still.passed and meta(still, "evaluated_rows") == 2 and meta(still, "batches") == "7..8"
    with duckdb.connect(str(wh), read_only=True) as con:
        stored_rows = con.execute(
            "SELECT first_batch, last_batch, critical_failure FROM quality.validation_results "
            "WHERE asset_key = 'billing/invoices' ORDER BY validated_at"
        ).fetchall()
    assert stored_rows == [(1, 1, False), (7, 7, True), (7, 8, True)]


def test_a_warning_accepts_its_batches(wh):
    write_sql(wh, "UPDATE shop.orders SET amount = 20000000 WHERE order_id = 'o1'")
    settings = quality_settings(max_plausible_amount=1_000_000)
    first = evaluate(gx_checks(), wh, settings)[ORDERS]
    assert not first.passed and first.severity == dg.AssetCheckSeverity.WARN
    assert evaluate(gx_checks(), wh, settings)[ORDERS].passed  # nothing new since the accepted batch


def test_a_warehouse_from_before_the_batch_columns_is_migrated(wh):
    write_sql(
        wh,
        "CREATE SCHEMA quality",
        "CREATE TABLE quality.validation_results (run_id VARCHAR NOT NULL, check_name VARCHAR NOT NULL, "
        "asset_key VARCHAR NOT NULL, success BOOLEAN NOT NULL, evaluated BIGINT NOT NULL, unexpected BIGINT NOT NULL, "
        "validated_at TIMESTAMP NOT NULL, result_json JSON NOT NULL, table_rows BIGINT, failed_expectations VARCHAR)",
        "INSERT INTO quality.validation_results VALUES ('old', 'landed_rows_are_plausible', 'billing/invoices', "
        "true, 3, 0, TIMESTAMP '2024-01-03', '{}', 3, NULL)",
    )
    invoices = evaluate(gx_checks(), wh)[INVOICES]
    assert invoices.passed and meta(invoices, "evaluated_rows") == 3  # an old row accepts no batch


def test_two_rates_for_one_day_and_currency_fail_the_fx_suite(wh):
    write_sql(
        wh,
        "INSERT INTO finance.fx_rates (date, currency, rate) VALUES ('2024-01-01', 'EUR', 1.1), ('2024-01-01', 'EUR', 1.2)",
    )
    results = evaluate(gx_checks(), wh)
    assert not results[("finance/fx_rates", "landed_rows_are_plausible")].passed
    assert results[("crm/churn_feedback", "landed_rows_are_plausible")].passed


def test_bad_status_future_timestamp_and_inverted_period_are_errors(wh):
    write_sql(
        wh,
        "UPDATE billing.invoices SET status = 'pending' WHERE invoice_id = 'i2'",
        "UPDATE billing.invoices SET period_end = period_start WHERE line_id = '2'",
        "UPDATE shop.orders SET ordered_at = TIMESTAMP '3000-01-01 00:00' WHERE order_id = 'o2'",
    )
    results = evaluate(gx_checks(), wh)
    invoices, orders = results[INVOICES], results[ORDERS]
    assert not invoices.passed and invoices.severity == dg.AssetCheckSeverity.ERROR
    assert meta(invoices, "failed_expectations") == 2
    failures = meta(invoices, "failures")
    assert "ExpectColumnValuesToBeInSet | status" in failures and "pending" in failures
    assert "ExpectColumnPairValuesAToBeGreaterThanB | period_end, period_start" in failures
    assert not orders.passed and orders.severity == dg.AssetCheckSeverity.ERROR
    assert "ExpectColumnValuesToBeBetween | ordered_at" in meta(orders, "failures")
    rows = {r[1]: r for r in stored(wh)}
    assert rows["billing/invoices"][2:7] == (False, 3, 2, "ExpectColumnPairValuesAToBeGreaterThanB(period_end, "
                                             "period_start); ExpectColumnValuesToBeInSet(status)", False)
    assert rows["shop/orders"][2] is False


def test_only_implausible_amounts_is_a_warning(wh):
    write_sql(wh, "UPDATE shop.orders SET amount = 20000000 WHERE order_id = 'o1'")
    orders = evaluate(gx_checks(), wh, quality_settings(max_plausible_amount=1_000_000))[ORDERS]
    assert not orders.passed
    assert orders.severity == dg.AssetCheckSeverity.WARN


def test_mart_rates_out_of_bounds_fail(wh):
    write_sql(
        wh,
        "UPDATE marts.retention SET churn_rate = 120 WHERE period_start = DATE '2024-03-01'",
        "UPDATE marts.revenue_churn SET gross_mrr_churn_rate = -1 WHERE grain = 'month'",
    )
    results = evaluate(gx_checks(), wh)
    assert not results[("marts/retention", "rates_within_bounds")].passed
    assert not results[("marts/revenue_churn", "rates_within_bounds")].passed
    assert results[("marts/cohort_retention", "rates_within_bounds")].passed


def test_missing_tables_pass_as_skipped_and_store_nothing(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    write_sql(path, "CREATE SCHEMA marts")
    results = evaluate(gx_checks(), path)
    assert all(e.passed and meta(e, "skipped") for e in results.values())
    with duckdb.connect(str(path), read_only=True) as con:
        assert not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'quality'"
        ).fetchone()[0]


def test_sample_sql_reads_small_tables_whole_in_key_order_and_samples_large_ones():
    suite: Suite = RAW_SUITES[1]
    params = Params(now=dt.datetime(2024, 1, 1))
    small = sample_sql(suite, params, population_rows=10, limit=100)
    assert small.endswith("FROM shop.orders ORDER BY order_id")
    large = sample_sql(suite, params, population_rows=1000, limit=100)
    assert "USING SAMPLE reservoir(100 ROWS) REPEATABLE (42)" in large
    assert '"status"' in small and '"_source_file"' not in small


def test_the_future_limit_follows_the_clock_given():
    invoices = RAW_SUITES[0].build(Params(now=dt.datetime(2024, 1, 1)))
    limit = next(e for e in invoices if e.kwargs.get("column") == "issued_at" and "max_value" in e.kwargs)
    assert limit.kwargs["max_value"] == dt.datetime(2024, 1, 2)
    assert limit.critical


def test_empty_raw_tables_pass(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        create_warehouse_tables(con)
    raw = [c for c in gx_checks() if next(iter(c.check_keys)).name == "landed_rows_are_plausible"]
    results = evaluate(raw, path)
    assert len(results) == len(RAW_SUITES) == 6
    assert all(e.passed and meta(e, "evaluated_rows") == 0 for e in results.values())
    assert {meta(e, "note") for e in results.values()} == {"the table has no rows yet"}


def test_timestamps_go_to_gx_in_nanoseconds_unless_a_value_is_out_of_that_range():
    import pandas as pd

    from pipeline.quality.gx_run import nanosecond_timestamps

    df = pd.DataFrame({
        "fits": pd.Series([dt.datetime(2024, 1, 1), None], dtype="datetime64[us]"),
        "far": pd.Series([dt.datetime(3000, 1, 1), dt.datetime(2024, 1, 1)], dtype="datetime64[us]"),
        "text": ["a", "b"],
    })
    out = nanosecond_timestamps(df)
    assert str(out["fits"].dtype) == "datetime64[ns]" and out["fits"].isna().tolist() == [False, True]
    assert str(out["far"].dtype) == "datetime64[us]" and out["far"][0] == pd.Timestamp("3000-01-01")
    assert out["text"].tolist() == ["a", "b"]
