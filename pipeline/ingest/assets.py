"""The ingest asset: every landing folder into its raw table, plus the manifest and quarantine tables.

One asset function loads all entities so a single DuckDB writer does the whole ingest; each raw table is still
its own asset keyed [<source>, <table>], which is also its DuckDB `schema.table` and its dbt `source()`.
"""


import datetime as dt
from collections import Counter
from pathlib import Path

import dagster as dg

from pipeline.ingest.changes import AS_OF_DAY, CHANGED_FROM, as_of_day, changes_since
from pipeline.ingest.contract import ENTITIES, LINEAGE_COLUMNS, Entity
from pipeline.ingest.loader import FileResult, ingest_landing
from pipeline.ingest.tables import create_warehouse_tables
from pipeline.lib.markdown import markdown_text
from pipeline.lib.publication import last_publication
from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY
from pipeline.lib.warehouse import Warehouse

OWNER = "team:data-platform"
MANIFEST_KEY = dg.AssetKey(["ingest", "manifest"])
QUARANTINE_KEY = dg.AssetKey(["ingest", "quarantine"])
CHANGED_CUSTOMERS_KEY = dg.AssetKey(["ingest", "changed_customers"])


def _column_schema(entity: Entity) -> dg.TableSchema:
    columns = [dg.TableColumn(c.name, c.sql_type.lower()) for c in entity.columns]
    columns += [dg.TableColumn(name, sql_type.lower()) for name, sql_type in LINEAGE_COLUMNS.items()]
    return dg.TableSchema(columns=columns)


def raw_table_spec(entity: Entity) -> dg.AssetSpec:
    key = ", ".join(f"`{k}`" for k in entity.key)
    return dg.AssetSpec(
        key=entity.asset_key_path,
        group_name="ingest",
        kinds={"duckdb", "csv", "parquet"},
        description=f"{entity.description} Loaded from `<landing>/{entity.folder}/`; key ({key}); the latest batch wins.",
        metadata={"dagster/column_schema": _column_schema(entity), "dagster/table_name": entity.qualified},
        tags={"layer": "raw"},
        owners=[OWNER],
    )


SPECS = [raw_table_spec(e) for e in ENTITIES] + [
    dg.AssetSpec(MANIFEST_KEY, group_name="ingest", kinds={"duckdb"}, owners=[OWNER],
                 description="Every landing file seen: hash, rows read / loaded / quarantined, error. Its "
                 "materialization says from which day this run's rows change the numbers (`changed_from`)."),
    dg.AssetSpec(QUARANTINE_KEY, group_name="ingest", kinds={"duckdb"}, owners=[OWNER],
                 description="Rejected rows with file, row number, column, raw value and reason."),
    dg.AssetSpec(CHANGED_CUSTOMERS_KEY, group_name="ingest", kinds={"duckdb"}, owners=[OWNER],
                 description="Per load, every customer whose rows it inserted, replaced or deleted (and, for a new "
                 "fx rate, every customer it converts differently): the per-customer dbt models rebuild exactly "
                 "these customers (docs/data-contract.md)."),
]


def outcome(result: FileResult) -> str:
    if result.ignored:
        return "files_ignored"
    if result.deferred:
        return "files_deferred"
    return "files_skipped" if result.skipped else "files_rejected" if result.error else "files_loaded"


def summarize(results: list[FileResult]) -> dict[str, dict[str, int]]:
    """Per entity: files loaded / skipped / rejected / deferred / ignored and rows read / loaded / quarantined in
    this run."""
    totals: dict[str, Counter] = {e.folder: Counter() for e in ENTITIES}
    for r in results:
        t = totals[r.entity]
        t[outcome(r)] += 1
        t["rows_read"] += r.rows_read or 0
        t["rows_loaded"] += r.rows_loaded
        t["rows_quarantined"] += r.rows_quarantined
    keys = ("files_loaded", "files_skipped", "files_rejected", "files_deferred", "files_ignored", "rows_read",
            "rows_loaded", "rows_quarantined")
    return {entity: {k: t[k] for k in keys} for entity, t in totals.items()}


def deferred_lines(results: list[FileResult]) -> list[str]:
    """Each file deferred for its own failure, and per folder how many later files wait for those."""
    lines = [r.error for r in results if r.deferred and not r.waits]
    waiting = Counter(r.entity for r in results if r.waits)
    lines += [f"{n} later file(s) of {entity}/ wait for them: files apply in path order" for entity, n in waiting.items()]
    return lines


def markdown_list(lines: list[str]) -> str:
    """Bullet points of messages that quote file names and file content: escaped, so they show as written."""
    return "\n".join(f"- {markdown_text(line)}" for line in lines) or "none"


class Landing(dg.ConfigurableResource):
    """The landing folder: one sub-folder of CSV/Parquet files per entity; `serving_file`, whose publication says
    which loads the published marts already reflect."""

    path: str
    serving_file: str


@dg.multi_asset(specs=SPECS, name="ingest_landing_files", pool="warehouse", retry_policy=WAREHOUSE_RETRY_POLICY)
def ingest_landing_files(context: dg.AssetExecutionContext, landing: Landing, warehouse: Warehouse):
    """Load new and changed landing files; files already loaded with the same content are skipped. `changed_from`
    counts every load since the last publication, this run's and any that a failed build left unpublished."""
    published = last_publication(Path(landing.serving_file))
    folder = Path(landing.path)
    if not folder.is_dir():
        context.log.warning(f"landing folder {folder} (RETENTION_LANDING_DIR) does not exist: nothing to ingest")
    with warehouse.connect() as con:
        create_warehouse_tables(con)
        results = ingest_landing(con, folder, progress=context.log.info)
        since = published.loaded_through if published and published.loaded_through else dt.datetime(1900, 1, 1)
        changes = changes_since(con, since, published.as_of if published else None)
        current_as_of = as_of_day(con)
        counts = {e.folder: con.execute(f"SELECT count(*) FROM {e.qualified}").fetchone()[0] for e in ENTITIES}
        quarantine_total = con.execute("SELECT count(*) FROM ingest.quarantine").fetchone()[0]
        recorded = con.execute(
            "SELECT count(*) FROM ingest.changed_customers WHERE loaded_at > ?", [since]
        ).fetchone()[0]
        manifest_total = con.execute("SELECT count(*) FROM ingest.manifest").fetchone()[0]
    errors = [r.error for r in results if r.error and not (r.deferred or r.ignored)]
    deferred = deferred_lines(results)
    ignored = [r.error for r in results if r.ignored]
    for error in errors:
        context.log.error(error)
    for message in deferred + ignored:
        context.log.warning(message)
    if deferred:
        context.log.warning(f"{sum(r.deferred for r in results)} file(s) not loaded for a reason that is not about "
                            "their content: not recorded in the manifest, they are read again on the next run")
    if folder.is_dir() and not results:
        context.log.warning(f"landing folder {folder} holds no CSV or Parquet file: nothing to ingest")
    per_entity = summarize(results)
    for entity in ENTITIES:
        metadata = {**per_entity[entity.folder], "dagster/row_count": counts[entity.folder]}
        yield dg.MaterializeResult(asset_key=entity.asset_key_path, metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=MANIFEST_KEY,
        metadata={
            "dagster/row_count": manifest_total,
            "rejected_files": dg.MetadataValue.md(markdown_list(errors)),
            "deferred_files": dg.MetadataValue.md(markdown_list(deferred)),
            "ignored_links": dg.MetadataValue.md(markdown_list(ignored)),
            CHANGED_FROM: changes.changed_from.isoformat() if changes.changed_from else "",
            AS_OF_DAY: current_as_of.isoformat() if current_as_of else "",
            "changes": dg.MetadataValue.md(changes.markdown()),
        },
    )
    yield dg.MaterializeResult(asset_key=QUARANTINE_KEY, metadata={"dagster/row_count": quarantine_total})
    yield dg.MaterializeResult(asset_key=CHANGED_CUSTOMERS_KEY, metadata={"recorded_since_last_publication": recorded})
