"""Warnings about the landing feed: stale data (no new files) and a high quarantined share in the latest batch.

Both are WARN and non-blocking: the tables are still right for the data that arrived; the business should
hear that the feed is late or dirty, not lose its reports.

Freshness uses the newest manifest `loaded_at` of a file that loaded rows, not max(issued_at / ordered_at):
the question is "did the nightly feed deliver?", and business timestamps can be legitimately old (a backfill,
a quiet weekend in a shop) while a file that arrived today is fresh. The newest business timestamps are
reported beside it as metadata.

"Latest batch" is the newest manifest row (highest batch_id) of the entity: the loader makes one batch per
file. A file rejected whole (an `error` and no rows loaded) counts as 100 % quarantined.
"""


import datetime as dt

import dagster as dg
import duckdb

from pipeline.ingest.contract import ENTITIES, Entity
from pipeline.quality.runner import CheckRun, Rule, Severity, grouped_checks, rule_spec
from pipeline.quality.sql import jsonable, missing_tables

MANIFEST = "ingest.manifest"

NEWEST_LOAD_SQL = f"SELECT max(loaded_at) FROM {MANIFEST} WHERE error IS NULL AND rows_loaded > 0"

LATEST_BATCH_SQL = f"""
    SELECT batch_id, path, rows_read, rows_loaded, rows_quarantined, error, loaded_at,
           CASE WHEN error IS NOT NULL AND coalesce(rows_loaded, 0) = 0 THEN 100.0
                WHEN coalesce(rows_read, 0) = 0 THEN 0.0
                ELSE 100.0 * rows_quarantined / rows_read END AS quarantined_pct
    FROM {MANIFEST} WHERE entity = ? ORDER BY batch_id DESC LIMIT 1
"""


def staleness_hours(newest_load: dt.datetime | None, now: dt.datetime) -> float | None:
    """Hours since the newest load (naive UTC timestamps); None when nothing was ever loaded."""
    if newest_load is None:
        return None
    return (now - newest_load).total_seconds() / 3600


def is_fresh(hours: float | None, max_staleness_hours: float) -> bool:
    return hours is not None and hours <= max_staleness_hours


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _freshness(con: duckdb.DuckDBPyConnection, run: CheckRun) -> dg.AssetCheckResult:
    newest_load = con.execute(NEWEST_LOAD_SQL).fetchone()[0]
    business = {}
    for table, column in (("billing.invoices", "issued_at"), ("shop.orders", "ordered_at")):
        if not missing_tables(con, [table]):
            business[f"newest_{column}"] = jsonable(con.execute(f"SELECT max({column}) FROM {table}").fetchone()[0])
    hours = staleness_hours(newest_load, _utc_now())
    return dg.AssetCheckResult(
        passed=is_fresh(hours, run.quality.max_staleness_hours),
        severity=Severity.WARN,
        metadata={
            "newest_load": jsonable(newest_load),
            "hours_since_newest_load": None if hours is None else round(hours, 2),
            "max_staleness_hours": run.quality.max_staleness_hours,
            **business,
            "note": "nothing loaded yet" if hours is None else "",
            "skipped": False,
        },
    )


FRESHNESS = Rule(
    spec=rule_spec(
        ["ingest", "manifest"],
        "landing_data_is_fresh",
        "Warns when the newest landing file that loaded rows was loaded more than max_staleness_hours ago "
        "(RETENTION_MAX_STALENESS_HOURS, default 36): the feed delivered nothing new.",
        blocking=False,
        severity="WARN",
    ),
    tables=[MANIFEST],
    evaluate=_freshness,
)


def quarantine_rule(entity: Entity) -> Rule:
    def evaluate(con: duckdb.DuckDBPyConnection, run: CheckRun) -> dg.AssetCheckResult:
        cursor = con.execute(LATEST_BATCH_SQL, [entity.folder])
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        if row is None:
            return dg.AssetCheckResult(passed=True, metadata={"note": "no batch loaded yet", "skipped": False})
        batch = {n: jsonable(v) for n, v in zip(names, row, strict=True)}
        share = float(batch["quarantined_pct"])
        return dg.AssetCheckResult(
            passed=share <= run.quality.max_quarantine_pct,
            severity=Severity.WARN,
            metadata={
                "quarantined_pct": round(share, 3),
                "max_quarantine_pct": run.quality.max_quarantine_pct,
                "latest_batch": dg.MetadataValue.json(batch),
                "how_to_read": f"SELECT * FROM ingest.quarantine WHERE batch_id = {batch['batch_id']}",
                "skipped": False,
            },
        )

    spec = rule_spec(
        entity.asset_key_path,
        "quarantine_share_within_limit",
        f"Warns when the latest batch (newest file) of {entity.qualified} had more than max_quarantine_pct % of "
        "its rows quarantined (RETENTION_MAX_QUARANTINE_PCT, default 5); a file rejected whole counts as 100 %.",
        blocking=False,
        severity="WARN",
        additional_deps=[["ingest", "manifest"]],
    )
    return Rule(spec=spec, tables=[MANIFEST], evaluate=evaluate)


def landing_checks() -> list[dg.AssetChecksDefinition]:
    return [grouped_checks("landing_checks", [FRESHNESS, *(quarantine_rule(e) for e in ENTITIES)])]
