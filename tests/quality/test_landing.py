from __future__ import annotations

import datetime as dt

import dagster as dg

from pipeline.quality.landing import is_fresh, landing_checks, staleness_hours

from .conftest import NOW, evaluate, meta, quality_settings, write_sql

FRESH = ("ingest/manifest", "landing_data_is_fresh")
INVOICES = ("billing/invoices", "quarantine_share_within_limit")
ORDERS = ("shop/orders", "quarantine_share_within_limit")
WARN = dg.AssetCheckSeverity.WARN


def manifest(batch_id, entity, read, loaded, quarantined, loaded_at, error=None) -> str:
    error_sql = "NULL" if error is None else f"'{error}'"
    return (
        f"INSERT INTO ingest.manifest VALUES ({batch_id}, '{entity}', '{entity}/f{batch_id}.csv', 'h{batch_id}', 10, "
        f"{'NULL' if read is None else read}, {loaded}, {quarantined}, TIMESTAMP '{loaded_at.isoformat(sep=' ')}', {error_sql}, NULL)"
    )


def test_staleness_is_measured_from_the_newest_load():
    now = dt.datetime(2024, 1, 3, 12)
    assert staleness_hours(dt.datetime(2024, 1, 2), now) == 36
    assert is_fresh(36, 36) and not is_fresh(36.01, 36)
    assert staleness_hours(None, now) is None and not is_fresh(None, 36)


def test_nothing_loaded_warns_about_freshness_and_skips_quarantine(wh):
    results = evaluate(landing_checks(), wh)
    assert not results[FRESH].passed and results[FRESH].severity == WARN
    assert meta(results[FRESH], "note") == "nothing loaded yet"
    assert results[INVOICES].passed and meta(results[INVOICES], "note") == "no batch loaded yet"


def test_a_recent_load_is_fresh_and_an_old_one_warns(wh):
    write_sql(wh, manifest(1, "invoices", 10, 10, 0, NOW - dt.timedelta(hours=100)))
    old = evaluate(landing_checks(), wh)[FRESH]
    assert not old.passed and old.severity == WARN and meta(old, "hours_since_newest_load") >= 100
    # a newer file that loaded nothing (rejected) does not make the feed fresh
    write_sql(wh, manifest(2, "orders", 5, 0, 5, NOW - dt.timedelta(hours=1), error="bad header"))
    assert not evaluate(landing_checks(), wh)[FRESH].passed
    write_sql(wh, manifest(3, "orders", 5, 5, 0, NOW - dt.timedelta(hours=1)))
    assert evaluate(landing_checks(), wh)[FRESH].passed
    assert not evaluate(landing_checks(), wh, quality_settings(max_staleness_hours=0.5))[FRESH].passed


def test_quarantine_share_of_the_latest_batch_against_the_threshold(wh):
    write_sql(
        wh,
        manifest(1, "invoices", 100, 50, 50, NOW),  # an old bad batch no longer matters
        manifest(2, "invoices", 100, 90, 10, NOW),
        manifest(3, "orders", 100, 99, 1, NOW),
    )
    results = evaluate(landing_checks(), wh)
    assert not results[INVOICES].passed and results[INVOICES].severity == WARN
    assert meta(results[INVOICES], "quarantined_pct") == 10.0
    assert meta(results[INVOICES], "latest_batch")["batch_id"] == 2
    assert results[ORDERS].passed
    assert evaluate(landing_checks(), wh, quality_settings(max_quarantine_pct=10))[INVOICES].passed


def test_a_file_rejected_whole_counts_as_fully_quarantined(wh):
    write_sql(wh, manifest(1, "orders", None, 0, 0, NOW, error="cannot be read"))
    orders = evaluate(landing_checks(), wh)[ORDERS]
    assert not orders.passed and meta(orders, "quarantined_pct") == 100.0
