"""The dbt project on Spark builds the same marts as on DuckDB (marker `spark`, off by default).

Run with `./dev test -m spark` (installs the optional `spark` extra: dbt-spark and pyspark; needs Java 17). The
sample landing data is ingested into DuckDB by the pipeline, built there with `dbt build`, exported as Parquet,
registered in a local Spark session under the same `<source>.<table>` names and built again with
`dbt build --target spark`. Every model under models/marts must then agree row for row: money to the cent,
rates to 1e-9, everything else exactly.
"""

from __future__ import annotations

import time

import pytest

from tests.spark import parity

pytestmark = pytest.mark.spark

CUSTOMERS = 300
SEED = 7


def test_marts_on_spark_equal_duckdb(tmp_path, capsys):
    pytest.importorskip("pyspark", reason="install the spark extra: ./dev test -m spark")
    timings = {}
    started = time.monotonic()

    warehouse = tmp_path / "warehouse.duckdb"
    parity.build_raw_warehouse(tmp_path / "landing", warehouse, CUSTOMERS, SEED)
    timings["sample data + ingest"] = time.monotonic() - started

    mark = time.monotonic()
    parity.dbt_on_duckdb(tmp_path / "duckdb", warehouse)
    timings["dbt build on DuckDB"] = time.monotonic() - mark

    mark = time.monotonic()
    spark_dir = tmp_path / "spark"
    spark = parity.start_spark(spark_dir)
    parity.register_raw_tables(spark, parity.export_raw_tables(warehouse, tmp_path / "raw"))
    timings["Spark start + raw tables"] = time.monotonic() - mark

    try:
        mark = time.monotonic()
        parity.dbt_on_spark(tmp_path / "spark_dbt", spark_dir)
        timings["dbt build on Spark"] = time.monotonic() - mark

        mark = time.monotonic()
        duck_marts = parity.mart_relations(tmp_path / "duckdb")
        spark_marts = parity.mart_relations(tmp_path / "spark_dbt")
        assert sorted(spark_marts) == sorted(duck_marts)
        problems = []
        for name in sorted(duck_marts):
            duck = parity.duckdb_rows(warehouse, duck_marts[name])
            assert duck[1], f"{name} is empty on DuckDB: the comparison would prove nothing"
            problems += parity.compare_mart(name, duck, parity.spark_rows(spark, spark_marts[name]))
        timings["compare marts"] = time.monotonic() - mark
    finally:
        spark.stop()

    timings["total"] = time.monotonic() - started
    with capsys.disabled():
        print(f"\nSpark parity ({CUSTOMERS} customers, {len(duck_marts)} marts):")
        for step, seconds in timings.items():
            print(f"  {step:<28} {seconds:6.1f} s")
    assert not problems, "\n".join(problems)
