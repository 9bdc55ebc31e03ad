"""Runs the pipeline through Dagster's own job execution, so every run is recorded on the Dagster instance
(visible in the UI when DAGSTER_HOME is set): first ingest, then the build for the quarters that have data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb

from pipeline.lib.partitions import quarter_start
from pipeline.lib.warm import import_in_background
from pipeline.orchestration.errors import PipelineFailed
from pipeline.orchestration.nightly import planned_rebuild
from pipeline.orchestration.tags import CLI_TAG, rebuild_tags
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
) -> tuple[str, str]:
    """The first and last quarter partition key to build, clipped to the partitions that exist."""
    keys = partitions_def.get_partition_keys()
    if not keys:
        raise PipelineFailed("no quarter partitions exist: is RETENTION_START in the future?")
    data_from, data_to = data if data else (None, None)
    start = (period_from or data_from or dt.date.fromisoformat(keys[-1])).isoformat()
    end = (period_to or data_to or dt.date.fromisoformat(keys[-1])).isoformat()
    start, end = max(start, keys[0]), min(end, keys[-1])
    if start > end:
        raise PipelineFailed(f"no quarter to build between {start} and {end} (partitions {keys[0]} .. {keys[-1]})")
    return start, end


def root_message(error) -> str:
    """The innermost cause of a step failure: the user's error, not Dagster's wrapper around it."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip()


def execute(job: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> RunRecord:
    tags = {CLI_TAG: "true", **(tags or {})}
    result = job.execute_in_process(run_config=CONSOLE_INFO, instance=instance, tags=tags, raise_on_error=False)
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


def build_quarters(build: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str]) -> RunRecord:
    """The build job. The modules of its last steps (scipy for the purchase model, lifelines for the survival
    curves, matplotlib for the report) are imported meanwhile: its first step waits on the dbt process."""
    import_in_background(*AFTER_DBT_MODULES)
    return execute(build, instance, tags)


def run_pipeline(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    connect_read_only: Callable[[], duckdb.DuckDBPyConnection],
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> list[RunRecord]:
    """Ingest, then build every asset for the quarters with data (or the given range) in one run."""
    runs = [ingest(defs, instance)]
    build = defs.resolve_job_def("build_job")
    partitions_def = build.partitions_def
    con = connect_read_only()
    try:
        data = data_quarters(con)
    finally:
        con.close()
    first, last = partition_range(partitions_def, data, period_from, period_to)
    reason = "quarters asked for" if period_from or period_to else "every quarter with data"
    record = build_quarters(build, instance, rebuild_tags(first, last, reason))
    runs.append(RunRecord(record.job, record.run_id, (first, last)))
    return runs


def run_nightly(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[RunRecord]:
    """What the schedule and sensor do, in one process: ingest, then rebuild only the quarters it changed."""
    loaded = ingest(defs, instance)
    build = defs.resolve_job_def("build_job")
    planned = planned_rebuild(instance, loaded.run_id, build.partitions_def.get_partition_keys())
    if not isinstance(planned, tuple):
        return [loaded]
    record = build_quarters(build, instance, rebuild_tags(*planned))
    return [loaded, RunRecord(record.job, record.run_id, planned[:2])]
