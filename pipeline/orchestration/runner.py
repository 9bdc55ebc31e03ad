"""Runs the pipeline through Dagster's own job execution, so every run is recorded on the Dagster instance
(visible in the UI when DAGSTER_HOME is set): first ingest, then the build for the quarters that have data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.lib.partitions import quarter_start
from pipeline.lib.warm import import_in_background
from pipeline.orchestration.errors import PipelineFailed
from pipeline.orchestration.nightly import Rebuild, planned_rebuild
from pipeline.orchestration.tags import CLI_TAG, full_refresh_config, rebuild_tags
from pipeline.quality.gx_run import GX_MODULES, no_usage_statistics

AFTER_DBT_MODULES = ("pipeline.value.bgnbd", "pipeline.reporting.charts", "lifelines")
# Step-level INFO lines (progress, dbt commands) on the console; Dagster's DEBUG event stream stays in the run log.
CONSOLE_INFO = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass(frozen=True)
class RunRecord:
    job: str
    run_id: str
    partition_range: tuple[str, str] | None = None


def data_quarters(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    """First and last quarter with data: from the earliest service period or order to the as-of day."""
    first, last = con.execute(
        """
        SELECT min(d_first), max(d_last) FROM (
            SELECT min(period_start) AS d_first, max(issued_at)::DATE AS d_last FROM billing.invoices
            UNION ALL
            SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM shop.orders
        )
        """
    ).fetchone()
    if first is None or last is None:
        return None
    return quarter_start(first), quarter_start(last)


def partition_range(
    partitions_def: dg.TimeWindowPartitionsDefinition,
    data: tuple[dt.date, dt.date] | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
    start: dt.date | None = None,
) -> Rebuild:
    """The first and last quarter partition key to build, clipped to the partitions that exist; from scratch
    when the data starts between `start` (RETENTION_START) and the first partition (the marts' first quarter at
    their last publication)."""
    keys = partitions_def.get_partition_keys()
    if not keys:
        raise PipelineFailed("no quarter partitions exist: is RETENTION_START in the future?")
    data_from, data_to = data if data else (None, None)
    first = (period_from or data_from or dt.date.fromisoformat(keys[-1])).isoformat()
    end = (period_to or data_to or dt.date.fromisoformat(keys[-1])).isoformat()
    floor = quarter_start(start).isoformat() if start else keys[0]
    earlier = period_from is None and max(first, floor) < keys[0]
    first, end = max(first, keys[0]), min(end, keys[-1])
    if first > end:
        raise PipelineFailed(f"no quarter to build between {first} and {end} (partitions {keys[0]} .. {keys[-1]})")
    reason = "quarters asked for" if period_from or period_to else "every quarter with data"
    if earlier:
        reason += f"; data before the first partition {keys[0]}: all history from scratch"
    return Rebuild(first, end, reason, full_refresh=earlier)


def root_message(error) -> str:
    """The innermost cause of a step failure: the user's error, not Dagster's wrapper around it."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip()


def execute(
    job: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str] | None = None, full_refresh: bool = False
) -> RunRecord:
    tags = {CLI_TAG: "true", **(tags or {})}
    run_config = {**CONSOLE_INFO, **(full_refresh_config() if full_refresh else {})}
    result = job.execute_in_process(run_config=run_config, instance=instance, tags=tags, raise_on_error=False)
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        messages = [
            root_message(e.event_specific_data.error)
            for e in result.all_events
            if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
        ]
        detail = "\n".join(messages[:3])
        raise PipelineFailed(f"run {result.run_id} of {job.name} failed in step(s) {', '.join(failed)}:\n{detail}")
    return RunRecord(job.name, result.run_id)


def ingest(defs: dg.Definitions, instance: dg.DagsterInstance) -> RunRecord:
    """The ingest job. Great Expectations, which the checks after the ingest need, is imported meanwhile."""
    no_usage_statistics()
    import_in_background(*GX_MODULES)
    return execute(defs.resolve_job_def("ingest_job"), instance)


def build_quarters(
    build: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str], full_refresh: bool = False
) -> RunRecord:
    """The build job. The modules of its last steps (scipy for the purchase model, lifelines for the survival
    curves, matplotlib for the report) are imported meanwhile: its first step waits on the dbt process."""
    import_in_background(*AFTER_DBT_MODULES)
    return execute(build, instance, tags, full_refresh)


def run_pipeline(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    warehouse: Path,
    start: dt.date,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    full_refresh: bool = False,
) -> list[RunRecord]:
    """Ingest, then build every asset for the quarters with data (or the given range) in one run."""
    runs = [ingest(defs, instance)]
    build = defs.resolve_job_def("build_job")
    with duckdb.connect(str(warehouse), read_only=True) as con:  # ingest has finished: no writer holds the file
        data = data_quarters(con)
    planned = partition_range(build.partitions_def, data, period_from, period_to, start)
    tags = rebuild_tags(planned.first, planned.last, planned.reason)
    record = build_quarters(build, instance, tags, full_refresh or planned.full_refresh)
    runs.append(RunRecord(record.job, record.run_id, (planned.first, planned.last)))
    return runs


def run_nightly(defs: dg.Definitions, instance: dg.DagsterInstance, start: dt.date) -> list[RunRecord]:
    """What the schedule and sensor do, in one process: ingest, then rebuild only the quarters it changed."""
    loaded = ingest(defs, instance)
    build = defs.resolve_job_def("build_job")
    planned = planned_rebuild(instance, loaded.run_id, build.partitions_def.get_partition_keys(), start)
    if not isinstance(planned, Rebuild):
        return [loaded]
    tags = rebuild_tags(planned.first, planned.last, planned.reason)
    record = build_quarters(build, instance, tags, planned.full_refresh)
    return [loaded, RunRecord(record.job, record.run_id, (planned.first, planned.last))]
