"""The customers a build rebuilds: those recorded by the loads since the last complete build, or everyone."""

import datetime as dt

import duckdb
import pytest

from pipeline.ingest.tables import create_warehouse_tables
from pipeline.transform.build_plan import finish_build, plan_build
from pipeline.transform.customer_scope import (
    CHANGED_ENV,
    CustomerScope,
    built_through,
    newest_load,
    record_built_through,
    scope_for,
)
from pipeline.transform.dbt_vars import ALL_HISTORY
from pipeline.transform.publish import publish

T1, T2 = dt.datetime(2024, 5, 1, 2, 0), dt.datetime(2024, 5, 2, 2, 0)
Q2 = (dt.date(2024, 4, 1), dt.date(2024, 7, 1))
MANIFEST = {"metadata": {"project_name": "retention"}, "nodes": {}, "macros": {}}


@pytest.mark.parametrize(
    ("built", "newest", "every", "expected"),
    [
        (None, T2, False, CustomerScope(None, T2)),  # nothing built yet: everyone
        (T1, T2, False, CustomerScope(T1, T2)),  # the loads since the last build
        (T1, None, False, CustomerScope(T1, T1)),  # no load recorded at all: nobody changed
        (T2, T1, False, CustomerScope(T2, T2)),  # nothing new since
        (T1, T2, True, CustomerScope(None, T2)),  # all history: everyone
    ],
)
def test_scope_rule(built, newest, every, expected):
    assert scope_for(built, newest, every) == expected


def test_the_bounds_travel_in_the_environment_and_empty_means_everyone():
    assert CustomerScope(T1, T2).env() == dict(zip(CHANGED_ENV, ["2024-05-01 02:00:00", "2024-05-02 02:00:00"],
                                                   strict=True))
    assert CustomerScope(None, T2).env() == dict.fromkeys(CHANGED_ENV, "")


def test_watermark_round_trip_and_missing_tables():
    con = duckdb.connect()
    assert newest_load(con) is None and built_through(con) is None
    record_built_through(con, CustomerScope(None, T2))
    record_built_through(con, CustomerScope(T2, T2))
    assert built_through(con) == T2
    assert con.execute("SELECT count(*) FROM publish.customers_built_through").fetchone()[0] == 1


def _loaded(con, loaded_at: dt.datetime, *customers: str) -> None:
    for customer in customers:
        con.execute("INSERT INTO ingest.changed_customers VALUES (?, 'invoices', ?)", [loaded_at, customer])


def test_a_first_build_rebuilds_everything_and_the_next_only_what_loads_changed():
    con = duckdb.connect()
    create_warehouse_tables(con)
    con.execute("CREATE SCHEMA marts_build")
    _loaded(con, T1, "a", "b")
    first = plan_build(con, Q2, "r1", MANIFEST, {}, "dbt_models", whole_step=True)
    assert first.window == ALL_HISTORY and first.full_refresh and "--full-refresh" in first.dbt_args()
    assert first.scope.every_customer and "watermark" in first.reason
    assert finish_build(con, first, "r1", MANIFEST, {}, "dbt_models", whole_step=True) is None
    publish(con, [], "r1")

    _loaded(con, T2, "c")
    second = plan_build(con, Q2, "r2", MANIFEST, {}, "dbt_models", whole_step=True)
    assert second.window == Q2 and not second.full_refresh and "--full-refresh" not in second.dbt_args()
    assert second.scope == CustomerScope(T1, T2)
    assert second.env()[CHANGED_ENV[0]] == "2024-05-01 02:00:00"


def test_a_subset_or_failed_build_leaves_the_watermark_so_the_next_build_covers_the_same_loads():
    con = duckdb.connect()
    create_warehouse_tables(con)
    con.execute("CREATE SCHEMA marts_build")
    _loaded(con, T1, "a")
    finish_build(con, plan_build(con, Q2, "r1", MANIFEST, {}, "s", True), "r1", MANIFEST, {}, "s", True)
    publish(con, [], "r1")
    _loaded(con, T2, "b")
    subset = plan_build(con, Q2, "r2", MANIFEST, {}, "s", whole_step=False)
    finish_build(con, subset, "r2", MANIFEST, {}, "s", whole_step=False)
    publish(con, [], "r2")
    # r3 fails in dbt: plan_build runs, finish_build does not
    plan_build(con, Q2, "r3", MANIFEST, {}, "s", whole_step=True)
    again = plan_build(con, Q2, "r4", MANIFEST, {}, "s", whole_step=True)
    assert again.scope == CustomerScope(T1, T2)
