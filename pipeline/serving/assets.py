"""The serving file as an asset: published after every mart it holds, once their blocking checks passed."""


from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY
from pipeline.lib.warehouse import Warehouse
from pipeline.serving.publish import publish

SERVING_KEY = dg.AssetKey(["serving", "marts"])


class Serving(dg.ConfigurableResource):
    """The serving DuckDB file (RETENTION_SERVING_FILE): what the report, the export and every reader open."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; readers never block a run, which writes a new file and renames it."""
        con = duckdb.connect(self.path, read_only=True)
        try:
            yield con
        finally:
            con.close()


def build_serving_asset(marts: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The asset that publishes `marts` (every table of schema marts) into the serving file."""

    @dg.asset(
        key=SERVING_KEY,
        deps=list(marts),
        group_name="serving",
        kinds={"duckdb"},
        pool="warehouse",
        retry_policy=WAREHOUSE_RETRY_POLICY,
        description="The serving DuckDB file (RETENTION_SERVING_FILE) that readers open: every marts table, the "
        "data-quality results and the landing-feed summary, as of the last run whose blocking checks passed. "
        "Written as a new file and renamed over the old one, so a reader never blocks a run or sees half of one.",
    )
    def serving_marts(context: dg.AssetExecutionContext, warehouse: Warehouse, serving: Serving):
        with warehouse.connect() as con:
            as_of = con.execute("SELECT max(as_of) FROM marts.customer_value").fetchone()[0]
            counts = publish(con, Path(serving.path), context.run.run_id, as_of)
        context.log.info(f"published {len(counts)} tables, {sum(counts.values()):,} rows, to {serving.path}")
        return dg.MaterializeResult(
            metadata={
                "path": serving.path,
                "as_of": str(as_of),
                "tables": dg.MetadataValue.json(counts),
                "dagster/row_count": sum(counts.values()),
            }
        )

    return serving_marts
