"""The nightly plan: which quarters a finished ingest run asks to rebuild, and the schedule that starts it."""

import datetime as dt

import dagster as dg
import pytest

from pipeline.ingest.assets import MANIFEST_KEY
from pipeline.lib.partitions import quarterly_partitions
from pipeline.orchestration.nightly import build_nightly, rebuild_range
from pipeline.orchestration.tags import CLI_TAG, RANGE_END_TAG, RANGE_START_TAG

D = dt.date
KEYS = quarterly_partitions(D(2023, 1, 1)).get_partition_keys(current_time=dt.datetime(2025, 12, 1))


def test_rebuild_runs_from_the_changed_quarter_through_the_quarter_in_progress():
    planned = rebuild_range(D(2024, 2, 29), D(2025, 11, 30), KEYS, D(2023, 1, 1))
    assert (planned.first, planned.last, planned.full_refresh) == ("2024-01-01", "2025-10-01", False)
    assert "2024-02-29" in planned.reason


def test_nothing_changed_means_no_rebuild_and_ranges_are_clipped():
    assert rebuild_range(None, D(2025, 11, 30), KEYS) is None
    before_start = rebuild_range(D(1999, 5, 1), D(2025, 11, 30), KEYS, D(2023, 1, 1))
    assert (before_start.first, before_start.full_refresh) == (KEYS[0], False)  # before RETENTION_START: ignored
    latest = rebuild_range(D(2025, 11, 2), None, KEYS)
    assert (latest.first, latest.last) == ("2025-10-01", "2025-10-01")


def test_rows_before_the_first_published_quarter_rebuild_every_quarter_from_scratch():
    planned = rebuild_range(D(2022, 6, 1), D(2025, 11, 30), KEYS, D(2021, 1, 1))  # partitions from 2023
    assert (planned.first, planned.full_refresh) == (KEYS[0], True)


@dg.asset(key=MANIFEST_KEY, group_name="ingest")
def fake_ingest(context: dg.AssetExecutionContext):
    return dg.MaterializeResult(metadata={"changed_from": context.run.tags.get("changed", ""), "as_of_day": "2025-11-30"})


@dg.asset(partitions_def=quarterly_partitions(D(2023, 1, 1)))
def fake_mart():
    return None


def _evaluate(changed: str, tags: dict[str, str] | None = None):
    ingest = dg.define_asset_job("ingest_job", selection=[MANIFEST_KEY])
    build = dg.define_asset_job("build_job", selection=[fake_mart.key])
    schedule, sensor = build_nightly(ingest, build, quarterly_partitions(D(2023, 1, 1)), "0 2 * * *", "UTC", D(2023, 1, 1))
    defs = dg.Definitions(assets=[fake_ingest, fake_mart], jobs=[ingest, build], schedules=[schedule], sensors=[sensor])
    # Resolved before the test instance exists: Dagster caches its definitions-load context process-wide, and one
    # made inside instance_for_test() would point at that instance after it is gone, breaking later tests.
    ingest_job = defs.resolve_job_def("ingest_job")
    with dg.instance_for_test() as instance:
        result = ingest_job.execute_in_process(
            instance=instance, tags={"changed": changed, **(tags or {})}
        )
        success = next(e for e in result.all_events if e.event_type_value == "PIPELINE_SUCCESS")
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=result.dagster_run, dagster_event=success
        )
        return sensor(context)


def test_sensor_requests_one_range_run_after_an_ingest_that_changed_rows():
    request = _evaluate("2024-05-17")
    assert isinstance(request, dg.RunRequest)
    assert request.tags[RANGE_START_TAG] == "2024-04-01" and request.tags[RANGE_END_TAG] == "2025-10-01"
    assert "2024-05-17" in request.tags["retention/rebuild_reason"]


@pytest.mark.parametrize("changed, tags", [("", None), ("2024-05-17", {CLI_TAG: "true"})])
def test_sensor_skips_when_nothing_loaded_or_the_cli_builds_itself(changed, tags):
    assert isinstance(_evaluate(changed, tags), dg.SkipReason)


def test_schedule_ticks_at_two_in_the_configured_zone_and_runs_ingest():
    ingest = dg.define_asset_job("ingest_job", selection=[MANIFEST_KEY])
    build = dg.define_asset_job("build_job", selection=[fake_mart.key])
    schedule, _ = build_nightly(ingest, build, quarterly_partitions(D(2023, 1, 1)), "0 2 * * *", "Europe/Berlin", D(2023, 1, 1))
    assert schedule.execution_timezone == "Europe/Berlin" and schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 12, 2, 2))
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["retention/trigger"] == "nightly"
    assert schedule.job_name == "ingest_job"


@dg.asset(key=["marts", "elsewhere"])
def unrelated():
    return None


def test_sensor_rebuilds_after_any_run_that_ingested_and_skips_the_others():
    """No job filter: an ingest materialized from the UI (Dagster's asset job) rebuilds like the schedule's."""
    ingest = dg.define_asset_job("ingest_job", selection=[MANIFEST_KEY])
    build = dg.define_asset_job("build_job", selection=[fake_mart.key])
    _, sensor = build_nightly(ingest, build, quarterly_partitions(D(2023, 1, 1)), "0 2 * * *", "UTC", D(2023, 1, 1))
    others = dg.Definitions(assets=[fake_ingest, unrelated], jobs=[
        dg.define_asset_job("__ASSET_JOB", selection=[MANIFEST_KEY]), dg.define_asset_job("other", [unrelated.key])])
    jobs = {"ui_ingest": others.resolve_job_def("__ASSET_JOB"), "other": others.resolve_job_def("other")}
    with dg.instance_for_test() as instance:
        results = {}
        for name, job in jobs.items():
            run = job.execute_in_process(instance=instance, tags={"changed": "2025-02-03"})
            success = next(e for e in run.all_events if e.event_type_value == "PIPELINE_SUCCESS")
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name, dagster_instance=instance, dagster_run=run.dagster_run, dagster_event=success
            )
            results[name] = sensor(context)
    assert results["ui_ingest"].tags[RANGE_START_TAG] == "2025-01-01"
    assert isinstance(results["other"], dg.SkipReason) and "did not ingest" in results["other"].skip_message
