from contextlib import contextmanager

import dagster as dg
import duckdb
import pytest

from pipeline.transform.table_facts import with_table_facts

MANIFEST = {
    "nodes": {
        "model.r.window": {"name": "window", "schema": "intermediate", "config": {"materialized": "table", "meta": {"record_row_as_metadata": True}}},
        "model.r.view": {"name": "view", "schema": "staging", "config": {"materialized": "view"}},
    }
}


@pytest.fixture
def connect(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA intermediate; CREATE TABLE intermediate.window AS SELECT 42 AS activity_window_days, 'derived' AS window_source")

    @contextmanager
    def read_only():
        with duckdb.connect(str(path), read_only=True) as con:
            yield con

    return read_only


def output(unique_id):
    return dg.Output(None, output_name=unique_id.split(".")[-1], metadata={"unique_id": unique_id})


def test_outputs_come_after_other_events_with_row_counts_and_recorded_rows(connect):
    check = dg.AssetCheckResult(passed=True, asset_key="x", check_name="c")
    events = list(with_table_facts([output("model.r.window"), check, output("model.r.view")], MANIFEST, connect))
    assert events[0] is check
    window, view = events[1], events[2]
    assert window.metadata["dagster/row_count"].value == 1
    assert window.metadata["activity_window_days"].value == 42
    assert window.metadata["window_source"].value == "derived"
    assert "dagster/row_count" not in view.metadata  # views are not counted: that would run them


def test_outputs_built_before_a_dbt_failure_are_still_reported(connect):
    def failing():
        yield output("model.r.view")
        raise RuntimeError("dbt failed")

    seen = []
    with pytest.raises(RuntimeError, match="dbt failed"):
        for event in with_table_facts(failing(), MANIFEST, connect):
            seen.append(event)
    assert [e.output_name for e in seen] == ["view"]
