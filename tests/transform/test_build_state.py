"""The rebuild window: widened by unpublished windows and by a changed fingerprint, never narrowed."""

import datetime as dt

import duckdb

from pipeline.transform.build_state import (
    fingerprint,
    record_unit_tests_passed,
    register_window,
    unit_tests_due,
)
from pipeline.transform.dbt_vars import ALL_HISTORY
from pipeline.transform.publish import publish

Q1 = (dt.date(2024, 1, 1), dt.date(2024, 4, 1))
Q3 = (dt.date(2024, 7, 1), dt.date(2024, 10, 1))
MANIFEST = {
    "metadata": {"project_name": "retention"},
    "nodes": {"model.retention.a": {"resource_type": "model", "checksum": {"checksum": "abc"}}},
    "macros": {"macro.retention.m": {"package_name": "retention", "macro_sql": "select 1"}},
}


def test_first_build_keeps_its_window_and_publishing_clears_it():
    con = duckdb.connect()
    assert register_window(con, Q3, "r1", "f") == (Q3, "")
    con.execute("CREATE SCHEMA marts_build")
    publish(con, [], "r1")
    assert register_window(con, Q1, "r2", "f") == (Q1, "")


def test_an_unpublished_window_is_built_again_by_the_next_run():
    con = duckdb.connect()
    register_window(con, Q1, "failed-run", "f")
    window, reason = register_window(con, Q3, "r2", "f")
    assert window == (Q1[0], Q3[1])
    assert "did not publish" in reason


def test_a_changed_fingerprint_rebuilds_all_history():
    con = duckdb.connect()
    register_window(con, Q1, "r1", "f1")
    con.execute("CREATE SCHEMA marts_build")
    publish(con, [], "r1")
    window, reason = register_window(con, Q3, "r2", "f2")
    assert window == ALL_HISTORY and "changed" in reason
    publish(con, [], "r2")
    assert register_window(con, Q3, "r3", "f2") == (Q3, "")


def test_fingerprint_follows_model_code_vars_macros_and_w():
    base = fingerprint(MANIFEST, {"reporting_currency": "USD"}, "[(90,)]")
    assert base == fingerprint(MANIFEST, {"reporting_currency": "USD"}, "[(90,)]")
    assert base != fingerprint(MANIFEST, {"reporting_currency": "EUR"}, "[(90,)]")
    assert base != fingerprint(MANIFEST, {"reporting_currency": "USD"}, "[(120,)]")
    changed_model = {**MANIFEST, "nodes": {"model.retention.a": {"resource_type": "model", "checksum": {"checksum": "x"}}}}
    assert base != fingerprint(changed_model, {"reporting_currency": "USD"}, "[(90,)]")
    changed_macro = {**MANIFEST, "macros": {"macro.retention.m": {"package_name": "retention", "macro_sql": "2"}}}
    assert base != fingerprint(changed_macro, {"reporting_currency": "USD"}, "[(90,)]")
    node = MANIFEST["nodes"]["model.retention.a"]
    constrained = {**node, "columns": {"id": {"data_type": "bigint", "constraints": [{"type": "not_null"}]}}}
    unconstrained = {**node, "columns": {"id": {"data_type": "bigint", "constraints": []}}}
    shapes = {fingerprint({**MANIFEST, "nodes": {"model.retention.a": n}}, {"reporting_currency": "USD"}, "[(90,)]")
              for n in (constrained, unconstrained)}
    assert len(shapes) == 2 and base not in shapes  # a constraint alone, same SQL, rebuilds the tables


def test_unit_tests_run_until_they_passed_on_the_same_code_per_step():
    con = duckdb.connect()
    assert unit_tests_due(con, "dbt_models", "code-1")
    record_unit_tests_passed(con, "dbt_models", "code-1")
    assert not unit_tests_due(con, "dbt_models", "code-1")
    assert unit_tests_due(con, "other_step", "code-1")
    assert unit_tests_due(con, "dbt_models", "code-2")
    record_unit_tests_passed(con, "dbt_models", "code-2")
    assert not unit_tests_due(con, "dbt_models", "code-2")
    assert con.execute("SELECT count(*) FROM publish.unit_tests_passed").fetchone()[0] == 1
