"""Data tests on an incremental build see the rows it wrote or read anew (macros/tests/rebuilt_rows.sql): the
staging views over raw customer data the customers of the newest load, the per-customer models the rows of their
latest build. A duplicate outside the slice is left to the build that wrote it."""

import datetime as dt
import shutil

import duckdb

from tests.dbt.conftest import DbtProject

NEWEST_LOAD = dt.datetime(2030, 1, 2)
UNIQUE_LINES = "unique_combination_of_columns_stg_billing__invoices_invoice_id__line_id"


def _copy(built_project, tmp_path) -> DbtProject:
    project, _ = built_project
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(project.warehouse, warehouse)
    return DbtProject(warehouse=warehouse, work_dir=tmp_path)


def _duplicate_a_line_of(con: duckdb.DuckDBPyConnection, customer: str) -> None:
    con.execute(
        "insert into billing.invoices select * replace (? as _loaded_at) from billing.invoices "
        "where customer_id = ? limit 1",
        [NEWEST_LOAD, customer],
    )


def test_staging_tests_check_the_customers_of_the_newest_load(built_project, tmp_path):
    project = _copy(built_project, tmp_path)
    with duckdb.connect(str(project.warehouse)) as con:
        first, second = [r[0] for r in con.execute(
            "select distinct customer_id from billing.invoices order by customer_id limit 2").fetchall()]
        _duplicate_a_line_of(con, second)
        con.execute("insert into ingest.changed_customers values (?, 'invoices', ?)", [NEWEST_LOAD, first])
    outside = project.run("test", "--select", "stg_billing__invoices", check=False)
    assert f"PASS {UNIQUE_LINES}" in outside.stdout, "the duplicate's customer is not in the newest load"

    with duckdb.connect(str(project.warehouse)) as con:
        con.execute("insert into ingest.changed_customers values (?, 'invoices', ?)", [NEWEST_LOAD, second])
    inside = project.run("test", "--select", "stg_billing__invoices", check=False)
    assert inside.returncode != 0
    assert f"FAIL 1 {UNIQUE_LINES}" in inside.stdout


def test_per_customer_tests_check_the_rows_of_the_latest_build(built_project, tmp_path):
    project = _copy(built_project, tmp_path)
    test = "unique_int_customers_first_active_customer_id"
    with duckdb.connect(str(project.warehouse)) as con:
        # an old row written twice (a build before the latest one): outside the slice
        con.execute(
            "insert into intermediate.int_customers_first_active select * replace "
            "(loaded_through - interval 1 day as loaded_through) from intermediate.int_customers_first_active limit 1"
        )
    assert f"PASS {test}" in project.run("test", "--select", "int_customers_first_active", check=False).stdout
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            "insert into intermediate.int_customers_first_active "
            "select * from intermediate.int_customers_first_active order by loaded_through desc limit 1"
        )
    result = project.run("test", "--select", "int_customers_first_active", check=False)
    assert result.returncode != 0 and f"FAIL 1 {test}" in result.stdout
