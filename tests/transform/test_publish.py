"""Publishing: marts change only when a whole build passed its blocking checks, and all at once."""

import dagster as dg
import duckdb
import pytest

from pipeline.lib.warehouse import Warehouse
from pipeline.transform.build_state import create_state_tables
from pipeline.transform.publish import PublishedTable, build_publish_asset, mart_models, publish

TABLES = [PublishedTable("customer_value", False), PublishedTable("retention", False)]
MANIFEST = {
    "metadata": {"project_name": "retention"},
    "macros": {},
    "nodes": {
        "model.retention.retention": {
            "resource_type": "model", "name": "retention", "config": {"schema": "marts_build"},
            "description": "Retention per period.",
            "columns": {"period_start": {"data_type": "date", "description": "first day"}},
        },
        "model.retention.customer_value": {
            "resource_type": "model", "name": "customer_value", "config": {"schema": "marts_build"}, "columns": {},
        },
        "model.retention.int_periods": {
            "resource_type": "model", "name": "int_periods", "config": {"schema": "intermediate"}, "columns": {},
        },
    },
}


def _warehouse(path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts_build")
        for table in ("retention", "customer_value"):
            con.execute(f"CREATE OR REPLACE TABLE marts_build.{table} AS SELECT range AS n FROM range({rows})")


def _counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in ("retention", "customer_value")}


def test_only_models_of_the_build_schema_are_published():
    assert [n["name"] for n in mart_models(MANIFEST)] == ["customer_value", "retention"]


def test_publish_copies_every_table_and_clears_pending_windows(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path, 3)
    with duckdb.connect(str(path)) as con:
        create_state_tables(con)
        con.execute("INSERT INTO publish.pending_windows VALUES ('2024-01-01', '2024-04-01', 'r0', now())")
        assert publish(con, TABLES, "r1") == {"customer_value": 3, "retention": 3}
        assert con.execute("SELECT count(*) FROM publish.pending_windows").fetchone()[0] == 0
        assert con.execute("SELECT run_id, tables, rows FROM publish.log").fetchall() == [("r1", 2, 6)]


def test_a_publish_that_fails_half_way_changes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path, 3)
    with duckdb.connect(str(path)) as con:
        publish(con, TABLES, "r1")
        con.execute("CREATE OR REPLACE TABLE marts_build.customer_value AS SELECT range AS n FROM range(7)")
        con.execute("DROP TABLE marts_build.retention")  # the second copy fails after the first succeeded
        with pytest.raises(duckdb.CatalogException):
            publish(con, TABLES, "r2")
    assert _counts(path) == {"customer_value": 3, "retention": 3}


def _defs(path, check_passes: bool) -> dg.Definitions:
    @dg.multi_asset(specs=[dg.AssetSpec(["marts_build", t]) for t in ("retention", "customer_value")])
    def build(warehouse: Warehouse):
        with warehouse.connect() as con:
            for table in ("retention", "customer_value"):
                con.execute(f"CREATE OR REPLACE TABLE marts_build.{table} AS SELECT range AS n FROM range(5)")
        yield dg.MaterializeResult(asset_key=["marts_build", "retention"])
        yield dg.MaterializeResult(asset_key=["marts_build", "customer_value"])

    @dg.asset_check(asset=dg.AssetKey(["marts_build", "retention"]), blocking=True)
    def identity_holds():
        return dg.AssetCheckResult(passed=check_passes)

    return dg.Definitions(
        assets=[build, build_publish_asset(MANIFEST)],
        asset_checks=[identity_holds],
        resources={"warehouse": Warehouse(path=str(path))},
    )


def test_a_failed_blocking_check_keeps_the_published_tables(tmp_path):
    path = tmp_path / "w.duckdb"
    _warehouse(path, 3)
    with duckdb.connect(str(path)) as con:
        publish(con, TABLES, "r1")
    failing = _defs(path, check_passes=False).resolve_implicit_global_asset_job_def()
    assert not failing.execute_in_process(raise_on_error=False).success
    assert _counts(path) == {"customer_value": 3, "retention": 3}
    passing = _defs(path, check_passes=True).resolve_implicit_global_asset_job_def()
    assert passing.execute_in_process().success
    assert _counts(path) == {"customer_value": 5, "retention": 5}


def test_published_assets_carry_the_dbt_column_schema_and_description():
    spec = next(s for s in build_publish_asset(MANIFEST).specs if s.key.path[-1] == "retention")
    assert spec.key.path == ["marts", "retention"] and spec.group_name == "published"
    assert [c.name for c in spec.metadata["dagster/column_schema"].columns] == ["period_start"]
    assert spec.description.startswith("Retention per period.")


PERIODS = """SELECT * FROM (VALUES
    ('month', DATE '2024-03-01', {v}), ('month', DATE '2024-04-01', {v}), ('month', DATE '2024-06-01', {v}),
    ('month', DATE '2024-07-01', {v}), ('quarter', DATE '2024-01-01', {v}), ('quarter', DATE '2024-04-01', {v}),
    ('year', DATE '2023-01-01', {v}), ('year', DATE '2024-01-01', {v})) AS t(grain, period_start, v)"""


def _periods(con, schema: str, version: int) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(f"CREATE OR REPLACE TABLE {schema}.retention AS {PERIODS.format(v=version)}")


def _versions(con) -> dict[tuple[str, str], int]:
    rows = con.execute("SELECT grain, period_start::VARCHAR, v FROM marts.retention").fetchall()
    return {(grain, start): v for grain, start, v in rows}


def test_a_partitioned_mart_publishes_only_the_pending_window_and_its_year_rows(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        create_state_tables(con)
        _periods(con, "marts", 1)
        _periods(con, "marts_build", 2)  # outside the window too, which a real build never changes: it must stay 1
        con.execute("INSERT INTO publish.pending_windows VALUES ('2024-04-01', '2024-07-01', 'r0', now())")
        assert publish(con, [PublishedTable("retention", True)], "r1") == {"retention": 8}
        changed = {key for key, v in _versions(con).items() if v == 2}
    assert changed == {("month", "2024-04-01"), ("month", "2024-06-01"), ("quarter", "2024-04-01"),
                       ("year", "2024-01-01")}


@pytest.mark.parametrize("pending", [None, ("1900-01-01", "9999-01-01")])
def test_without_a_pending_window_or_for_all_history_the_whole_table_is_copied(tmp_path, pending):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        create_state_tables(con)
        _periods(con, "marts", 1)
        _periods(con, "marts_build", 2)
        if pending:
            con.execute("INSERT INTO publish.pending_windows VALUES (?, ?, 'r0', now())", list(pending))
        publish(con, [PublishedTable("retention", True)], "r1")
        assert set(_versions(con).values()) == {2}


def test_a_partitioned_mart_whose_columns_changed_is_copied_whole(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        create_state_tables(con)
        _periods(con, "marts", 1)
        _periods(con, "marts_build", 2)
        con.execute("ALTER TABLE marts_build.retention ADD COLUMN extra INTEGER DEFAULT 7")
        con.execute("INSERT INTO publish.pending_windows VALUES ('2024-04-01', '2024-07-01', 'r0', now())")
        publish(con, [PublishedTable("retention", True)], "r1")
        assert con.execute("SELECT DISTINCT v, extra FROM marts.retention").fetchall() == [(2, 7)]
