"""Publishing: the marts people query change only when a whole build has passed its blocking checks.

dbt builds the marts into `marts_build`, and the checks read them there. The `publish_marts` asset depends on
every one of them, so Dagster runs it only after their blocking checks passed; it then replaces every table
of `marts` with its `marts_build` twin in one DuckDB transaction. A failed check, a failed model or a killed
process therefore leaves `marts` exactly as the last good run left it.

The quarterly marts are incremental, so a run that stopped half-way can leave `marts_build` with some models
rebuilt for its window and others not. Each partitioned build first records its window in
`publish.pending_windows`; publishing clears it. A later build widens its own window to cover every window
still pending, so what it publishes is consistent again.
"""


from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb

from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY
from pipeline.lib.schemas import MARTS, MARTS_BUILD
from pipeline.lib.warehouse import Warehouse
from pipeline.transform.build_state import create_state_tables


def mart_models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The dbt models built into the build schema, in name order: exactly what gets published."""
    nodes = manifest["nodes"].values()
    return sorted(
        (n for n in nodes if n["resource_type"] == "model" and n["config"].get("schema") == MARTS_BUILD),
        key=lambda n: n["name"],
    )


def _relation(node: Mapping[str, Any]) -> str:
    return node.get("alias") or node["name"]


def column_schema(node: Mapping[str, Any]) -> dg.TableSchema:
    """The dbt contract's columns, so a published table shows its schema in the UI like its dbt twin."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=col.get("data_type") or "unknown", description=col.get("description") or None)
            for name, col in node.get("columns", {}).items()
        ]
    )


def publish(con: duckdb.DuckDBPyConnection, tables: list[str], run_id: str) -> dict[str, int]:
    """Replaces every published table with its build twin in one transaction; returns the row counts."""
    create_state_tables(con)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {MARTS}")
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            con.execute(f'CREATE OR REPLACE TABLE {MARTS}."{table}" AS SELECT * FROM {MARTS_BUILD}."{table}"')
            counts[table] = con.execute(f'SELECT count(*) FROM {MARTS}."{table}"').fetchone()[0]
        con.execute("DELETE FROM publish.pending_windows")
        con.execute(
            "INSERT INTO publish.log VALUES (?, now()::TIMESTAMP, ?, ?)", [run_id, len(tables), sum(counts.values())]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def build_publish_asset(manifest: Mapping[str, Any]) -> dg.AssetsDefinition:
    models = mart_models(manifest)
    specs = [
        dg.AssetSpec(
            key=[MARTS, node["name"]],
            deps=[[MARTS_BUILD, node["name"]]],
            group_name="published",
            description=(node.get("description") or node["name"]) + "\n\nPublished copy: changes only when a build "
            "passed every blocking check.",
            metadata={"dagster/column_schema": column_schema(node), "dagster/table_name": f"{MARTS}.{_relation(node)}"},
            kinds={"duckdb"},
            owners=node["config"].get("meta", {}).get("dagster", {}).get("owners"),
        )
        for node in models
    ]
    tables = [_relation(node) for node in models]

    @dg.multi_asset(
        specs=specs, name="publish_marts", pool="warehouse", can_subset=False, retry_policy=WAREHOUSE_RETRY_POLICY
    )
    def publish_marts(context: dg.AssetExecutionContext, warehouse: Warehouse):
        """Copies the checked marts from marts_build to marts in one transaction."""
        with warehouse.connect() as con:
            counts = publish(con, tables, context.run.run_id)
        context.log.info(f"published {len(counts)} tables, {sum(counts.values()):,} rows")
        for node, table in zip(models, tables, strict=True):
            yield dg.MaterializeResult(asset_key=[MARTS, node["name"]], metadata={"dagster/row_count": counts[table]})

    return publish_marts
