"""Nightly: a schedule ingests new files; a sensor then rebuilds the quarters that ingest changed.

Which quarters? Ingest records `changed_from` on the `ingest/manifest` materialization: the first day that a
new, late or restated row touches (or the previous as-of day, whose quarter completes as days pass). Numbers
from that day on can change: a late invoice changes its own quarter and, through the activity spans, cohorts
and reactivations, the quarters after it. So the rebuild is one single-run range from the quarter of
`changed_from` through the quarter in progress; every quarter before it stays as it is. A run that loaded
nothing rebuilds nothing.

Any successful run that ingested triggers it: the schedule's `ingest_job`, the ingest assets materialized from
the UI (Dagster's own asset job), or `ingest_job` launched by hand. A run that did not ingest recorded no
`ingest/manifest` materialization and is skipped.
"""

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from pipeline.ingest.assets import MANIFEST_KEY
from pipeline.ingest.changes import AS_OF_DAY, CHANGED_FROM
from pipeline.lib.partitions import quarter_start
from pipeline.orchestration.tags import CLI_TAG, full_refresh_config, rebuild_tags


@dataclass(frozen=True)
class Rebuild:
    first: str  # partition keys (first days of quarters), inclusive
    last: str
    reason: str
    # rows before the first partition (the marts' first quarter when they were published): every quarter from
    # scratch, and the partitions start earlier from the next publication on
    full_refresh: bool = False


def rebuild_range(
    changed_from: dt.date | None, as_of: dt.date | None, partition_keys: list[str], start: dt.date | None = None
) -> Rebuild | None:
    """The quarters to rebuild, or None when nothing changed. Pure and unit-tested.

    The last quarter is the one in progress: the quarter of the as-of day (the last day with data). `start` is
    RETENTION_START: rows before it never count, rows between it and the first partition call for a rebuild of
    every quarter from scratch."""
    if changed_from is None or not partition_keys:
        return None
    first = max(quarter_start(changed_from).isoformat(), partition_keys[0])
    last = min(quarter_start(max(as_of or changed_from, changed_from)).isoformat(), partition_keys[-1])
    if first > last:
        return None
    floor = quarter_start(start).isoformat() if start else partition_keys[0]
    earlier = max(quarter_start(changed_from).isoformat(), floor) < partition_keys[0]
    reason = f"ingest changed rows from {changed_from.isoformat()}: quarters {first} .. {last}"
    if earlier:
        reason += f"; rows before the first partition {partition_keys[0]}: all history from scratch"
    return Rebuild(first, last, reason, full_refresh=earlier)


def _day(metadata, key: str) -> dt.date | None:
    value = metadata.get(key)
    return dt.date.fromisoformat(value.value) if value is not None and value.value else None


def planned_rebuild(
    instance: dg.DagsterInstance, run_id: str, partition_keys: list[str], start: dt.date | None = None
) -> Rebuild | None | str:
    """The rebuild a run that ingested calls for; the string 'missing' when the run recorded no ingest result (it
    did not ingest)."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=MANIFEST_KEY), limit=20).records
    for record in records:
        if record.run_id == run_id:
            metadata = record.asset_materialization.metadata
            return rebuild_range(_day(metadata, CHANGED_FROM), _day(metadata, AS_OF_DAY), partition_keys, start)
    return "missing"


def build_nightly(
    ingest_job,
    build_job,
    partitions_def: dg.TimeWindowPartitionsDefinition,
    cron: str,
    timezone: str,
    start: dt.date,
) -> tuple[dg.ScheduleDefinition, dg.SensorDefinition]:
    schedule = dg.ScheduleDefinition(
        name="nightly_ingest",
        job=ingest_job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"retention/trigger": "nightly"},
        description="Ingest new landing files; rebuild_changed_quarters then rebuilds what they changed.",
    )

    # No monitored_jobs: every job of this code location, so an ingest materialized from the UI counts too.
    @dg.run_status_sensor(
        name="rebuild_changed_quarters",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=build_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=10,  # a cursor query over new run events: cheap
    )
    def rebuild_changed_quarters(context: dg.RunStatusSensorContext):
        """After a run that ingested: one build run over the quarters it changed (none when it loaded nothing)."""
        run = context.dagster_run
        if run.tags.get(CLI_TAG):
            return dg.SkipReason(f"ingest run {run.run_id} came from the retention command, which builds itself")
        planned = planned_rebuild(context.instance, run.run_id, partitions_def.get_partition_keys(), start)
        if planned == "missing":
            return dg.SkipReason(f"run {run.run_id} of {run.job_name} did not ingest: nothing to rebuild")
        if planned is None:
            return dg.SkipReason(f"ingest run {run.run_id} loaded nothing new: no quarter to rebuild")
        return dg.RunRequest(
            run_key=f"rebuild-after-{run.run_id}",
            tags=rebuild_tags(planned.first, planned.last, planned.reason),
            run_config=full_refresh_config() if planned.full_refresh else {},
        )

    return schedule, rebuild_changed_quarters
