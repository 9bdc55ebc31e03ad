"""Helpers of the Spark parity test: one landing sample built by dbt on DuckDB and on Spark, marts compared.

pyspark and dbt-spark come with the optional `spark` extra, so they are imported inside the functions: the
default suite collects this package without them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

from pipeline.ingest.contract import ENTITIES
from pipeline.ingest.loader import ingest_landing
from pipeline.sample_data import generate
from pipeline.settings import load_settings
from pipeline.transform.project import dbt_vars

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
MONEY_TOLERANCE = Decimal("0.005")  # equal to the cent
RATE_TOLERANCE = 1e-9
LOADED_AT = dt.datetime(2025, 12, 11)
# Every table the dbt project reads as a source: the raw tables and the customers each load changed.
SOURCE_TABLES = (*(entity.qualified for entity in ENTITIES), "ingest.changed_customers")


def build_raw_warehouse(landing: Path, warehouse: Path, customers: int, seed: int) -> None:
    """The sample landing folder, loaded by the pipeline's own ingest into the raw DuckDB tables."""
    generate(landing, customers=customers, seed=seed)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("SET TimeZone = 'UTC'")
        ingest_landing(con, landing, now=lambda: LOADED_AT)


def dbt_args(command: str, work_dir: Path, target: str, variables: dict[str, object]) -> list[str]:
    return [
        "--no-use-colors",
        command,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--vars",
        json.dumps(variables),
    ]


def dbt_on_duckdb(work_dir: Path, warehouse: Path) -> None:
    """`dbt build` on DuckDB in a subprocess, as the tests in tests/dbt do (the DuckDB file is read afterwards)."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    args = dbt_args("build", work_dir, "duckdb", dbt_vars(load_settings(warehouse=warehouse)))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    result = subprocess.run([dbt, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise AssertionError(f"dbt build on DuckDB failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}")


def export_raw_tables(warehouse: Path, out_dir: Path) -> dict[str, Path]:
    """Every source table as one Parquet file, keyed by its `<source>.<table>` name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for qualified in SOURCE_TABLES:
            path = out_dir / f"{qualified}.parquet"
            con.execute(f"COPY (SELECT * FROM {qualified}) TO '{path}' (FORMAT parquet)")
            files[qualified] = path
    return files


def spark_settings(spark_dir: Path) -> dict[str, str]:
    """The local session: the `spark` target's settings (profiles.yml) on 2 cores, a 2 GB driver, no metastore."""
    return {
        "spark.master": "local[2]",
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.ui.enabled": "false",
        # no Hive metastore (Derby) for a throw-away session: dbt-spark works on the in-memory catalog too
        "spark.sql.catalogImplementation": "in-memory",
    }


def start_spark(spark_dir: Path):
    """The local SparkSession dbt-spark's `session` method will find (it calls getOrCreate)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("retention-parity")
    for key, value in spark_settings(spark_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # dbt-spark's getOrCreate per query would warn every time
    return spark


def register_raw_tables(spark, files: dict[str, Path]) -> None:
    """The Parquet exports as Spark tables under the same `<source>.<table>` names as in DuckDB."""
    for qualified, path in files.items():
        database = qualified.split(".")[0]
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
        spark.sql(f"DROP TABLE IF EXISTS {qualified}")
        spark.sql(f"CREATE TABLE {qualified} USING parquet LOCATION '{path.as_posix()}'")


def dbt_on_spark(work_dir: Path, spark_dir: Path) -> None:
    """`dbt build --target spark` in this process, so it runs on the SparkSession started here (4 threads)."""
    from dbt.cli.main import dbtRunner

    # The pipeline's vars from the default settings (the warehouse path is not used by the spark target).
    variables = {**dbt_vars(load_settings(warehouse=work_dir / "unused.duckdb")), "spark_dir": str(spark_dir)}
    # Unit tests of an incremental build (tag incremental_build): on Spark those models are tables, never incremental.
    args = [*dbt_args("build", work_dir, "spark", variables), "--exclude", "tag:incremental_build"]
    result = dbtRunner().invoke(args)
    if not result.success:
        failures = [
            f"{r.node.unique_id}: {r.status} {r.message}"
            for r in (result.result or [])
            if str(r.status) not in ("success", "pass")
        ]
        raise AssertionError(f"dbt build on Spark failed: {result.exception}\n" + "\n".join(failures))


def mart_relations(work_dir: Path) -> dict[str, str]:
    """Model name -> relation of every model under models/marts, from that build's manifest."""
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    return {
        node["name"]: node["relation_name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
    }


def duckdb_rows(warehouse: Path, relation: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(f"SELECT * FROM {relation}")
        return [d[0] for d in cursor.description], cursor.fetchall()


def spark_rows(spark, relation: str) -> tuple[list[str], list[tuple]]:
    frame = spark.sql(f"SELECT * FROM {relation}")
    return frame.columns, [tuple(row) for row in frame.collect()]


def _sort_key(row: tuple, exact: list[int]) -> tuple:
    return tuple((row[i] is None, row[i] if row[i] is not None else 0) for i in exact)


def _values_differ(left, right) -> bool:
    if left is None or right is None:
        return (left is None) != (right is None)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return abs(Decimal(str(left)) - Decimal(str(right))) >= MONEY_TOLERANCE
    if isinstance(left, float) or isinstance(right, float):
        return abs(left - right) > RATE_TOLERANCE * max(1.0, abs(left), abs(right))
    return left != right


def compare_mart(
    name: str, duck: tuple[list[str], list[tuple]], spark: tuple[list[str], list[tuple]]
) -> list[str]:
    """Differences between the DuckDB and the Spark rows of one mart; [] when they agree row for row.

    Rows are matched after sorting on every column that is neither money (DECIMAL) nor a rate (DOUBLE); money
    must agree to the cent and rates to 1e-9 (relative above 1), everything else exactly.
    """
    duck_columns, duck_rows = duck
    spark_columns, spark_rows_ = spark
    if sorted(duck_columns) != sorted(spark_columns):
        return [f"{name}: columns differ: DuckDB {duck_columns}, Spark {spark_columns}"]
    order = [spark_columns.index(column) for column in duck_columns]
    spark_rows_ = [tuple(row[i] for i in order) for row in spark_rows_]
    if len(duck_rows) != len(spark_rows_):
        return [f"{name}: {len(duck_rows)} rows on DuckDB, {len(spark_rows_)} on Spark"]
    measured = {
        i
        for row in duck_rows + spark_rows_
        for i, value in enumerate(row)
        if isinstance(value, (Decimal, float))
    }
    exact = [i for i in range(len(duck_columns)) if i not in measured]
    problems = []
    for left, right in zip(
        sorted(duck_rows, key=lambda r: _sort_key(r, exact)),
        sorted(spark_rows_, key=lambda r: _sort_key(r, exact)),
        strict=True,
    ):
        for column, a, b in zip(duck_columns, left, right, strict=True):
            if _values_differ(a, b):
                problems.append(f"{name}.{column}: DuckDB {a!r} != Spark {b!r} in row {left}")
    return problems[:20]
