"""Data tests on an incremental build see the rows of the loads it reads (macros/rebuilt_rows.sql).

The staging views' tests run before int_customers_changed is rebuilt, so their slice must come from the loads
themselves: a slice taken from that model would test the customers of the previous build instead."""

import datetime as dt
import shutil

import duckdb

from tests.dbt.conftest import DbtProject

PREVIOUS_LOAD = dt.datetime(2030, 1, 1)
THIS_LOAD = dt.datetime(2030, 1, 2)
UNIQUE_LINES = "unique_combination_of_columns_stg_billing__invoices_invoice_id__line_id"


def _scope(after: dt.datetime, through: dt.datetime) -> dict[str, str]:
    return {"DBT_RETENTION_CHANGED_AFTER": str(after), "DBT_RETENTION_CHANGED_THROUGH": str(through)}


def _copy(built_project, tmp_path) -> DbtProject:
    project, _ = built_project
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(project.warehouse, warehouse)
    return DbtProject(warehouse=warehouse, work_dir=tmp_path)


def test_staging_tests_check_the_customers_of_this_build_s_loads(built_project, tmp_path):
    project = _copy(built_project, tmp_path)
    con = duckdb.connect(str(project.warehouse))
    try:
        first, second = [r[0] for r in con.execute(
            "select distinct customer_id from billing.invoices order by customer_id limit 2").fetchall()]
        con.execute("insert into ingest.changed_customers values (?, 'invoices', ?)", [PREVIOUS_LOAD, first])
    finally:
        con.close()
    # the previous build: int_customers_changed now holds the first customer only
    project.run("run", "--select", "int_customers_changed", env=_scope(dt.datetime(1900, 1, 1), PREVIOUS_LOAD))

    con = duckdb.connect(str(project.warehouse))
    try:
        assert con.execute("select list(customer_id) from intermediate.int_customers_changed").fetchone()[0] == [first]
        # this load: a second copy of one of the second customer's lines
        con.execute(
            "insert into billing.invoices select * replace (? as _loaded_at) from billing.invoices "
            "where customer_id = ? limit 1",
            [THIS_LOAD, second],
        )
        con.execute("insert into ingest.changed_customers values (?, 'invoices', ?)", [THIS_LOAD, second])
    finally:
        con.close()

    in_scope = project.run("test", "--select", "stg_billing__invoices", env=_scope(PREVIOUS_LOAD, THIS_LOAD),
                           check=False)
    assert in_scope.returncode != 0
    assert f"FAIL 1 {UNIQUE_LINES}" in in_scope.stdout

    # the loads before this one did not touch the second customer: their slice leaves the duplicate out
    earlier = project.run("test", "--select", "stg_billing__invoices",
                          env=_scope(dt.datetime(1900, 1, 1), PREVIOUS_LOAD), check=False)
    assert f"PASS {UNIQUE_LINES}" in earlier.stdout
