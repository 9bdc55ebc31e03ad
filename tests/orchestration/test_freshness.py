"""Freshness of the published data: hours since the end of the as-of day its build read, against the limit."""

import datetime as dt

import dagster as dg
import pytest

from pipeline.ingest.assets import MANIFEST_KEY
from pipeline.orchestration import freshness
from pipeline.orchestration.freshness import (
    CHECK_NAME,
    Freshness,
    build_freshness,
    evaluate,
    hours_stale,
    target_keys,
)
from pipeline.quality.settings import QualitySettings

UTC = dt.UTC
MART = dg.AssetKey(["marts", "retention"])
EXPORT = dg.AssetKey(["exports", "outreach"])
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_hours_are_counted_from_the_end_of_the_as_of_day():
    assert hours_stale(dt.date(2026, 12, 1), NOW) == 36.0  # complete at 2026-12-02 00:00, 36 h before noon
    assert hours_stale(dt.date(2026, 12, 3), NOW) == 0.0  # today's data is not complete yet: not stale


def test_the_limit_is_inclusive_and_the_description_says_how_stale():
    assert Freshness(MART, dt.date(2026, 12, 1), 36.0, 36.0).passed
    stale = Freshness(MART, dt.date(2025, 12, 10), 8_556.0, 36.0)
    assert not stale.passed
    assert stale.description == (
        "STALE: marts/retention holds data through 2025-12-10, 8,556.0 hours ago "
        "(limit RETENTION_MAX_STALENESS_HOURS=36)"
    )
    assert Freshness(MART, None, None, 36.0).passed  # nothing with an as-of day built yet: not judged


def test_targets_are_the_published_marts_and_the_outreach_export():
    @dg.multi_asset(specs=[dg.AssetSpec(MART), dg.AssetSpec(["marts_build", "retention"]), dg.AssetSpec(EXPORT),
                           dg.AssetSpec(["exports", "other"]), dg.AssetSpec(MANIFEST_KEY)])
    def everything():
        return None

    assert target_keys([everything]) == [EXPORT, MART]


@dg.asset(key=MANIFEST_KEY)
def manifest(context: dg.AssetExecutionContext):
    return dg.MaterializeResult(metadata={"as_of_day": context.run.tags["as_of"]})


@dg.asset(key=MART)
def mart():
    return None


CHECKS, SENSOR = build_freshness([MART, EXPORT])
DEFS = dg.Definitions(
    assets=[manifest, mart],
    asset_checks=[CHECKS],
    jobs=[dg.define_asset_job("ingest", [MANIFEST_KEY]), dg.define_asset_job("build", dg.AssetSelection.assets(MART).without_checks()),
          dg.define_asset_job("check", dg.AssetSelection.checks(CHECKS))],
    resources={"quality": QualitySettings(max_staleness_hours=36, max_quarantine_pct=5)},
)
JOBS = {name: DEFS.resolve_job_def(name) for name in ("ingest", "build", "check")}  # before any test instance


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _night(instance, as_of: str | None, build: bool = True) -> None:
    JOBS["ingest"].execute_in_process(instance=instance, tags={"as_of": as_of or ""})
    if build:
        JOBS["build"].execute_in_process(instance=instance)


def test_a_mart_holds_the_as_of_day_of_the_ingest_before_its_build(instance):
    _night(instance, "2026-11-30")
    _night(instance, "2026-12-02", build=False)  # a later ingest whose build failed: the mart did not move
    [verdict] = evaluate(instance, [MART, EXPORT], NOW, 36)  # the export was never built: not evaluated
    assert (verdict.key, verdict.as_of, verdict.hours, verdict.passed) == (MART, dt.date(2026, 11, 30), 60.0, False)
    _night(instance, "2026-12-02")
    [verdict] = evaluate(instance, [MART], NOW, 36)
    assert (verdict.as_of, verdict.hours, verdict.passed) == (dt.date(2026, 12, 2), 12.0, True)


def _sensor(instance, now):
    context = dg.build_sensor_context(instance=instance, resources={"quality": QualitySettings(
        max_staleness_hours=36, max_quarantine_pct=5)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(freshness, "utc_now", lambda: now)
        return SENSOR(context)


def _latest_check(instance) -> dg.AssetCheckEvaluation:
    key = dg.AssetCheckKey(MART, CHECK_NAME)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.event.dagster_event.event_specific_data


def test_the_sensor_reports_a_missed_night_once_then_again_after_an_hour(instance):
    _night(instance, "2026-11-30")
    result = _sensor(instance, NOW)
    [event] = result.asset_events
    assert (event.asset_key, event.check_name, event.passed) == (MART, CHECK_NAME, False)
    assert event.metadata["hours_stale"].value == 60.0 and "2026-11-30" in event.description
    instance.report_runless_asset_event(event)  # what the daemon does with the sensor's result
    stored = dt.datetime.now(UTC)  # the event's timestamp in the event log
    assert isinstance(_sensor(instance, stored + dt.timedelta(minutes=5)), dg.SkipReason)
    assert len(_sensor(instance, stored + dt.timedelta(hours=2)).asset_events) == 1  # its hours grew


def test_the_next_good_night_turns_it_green(instance):
    _night(instance, "2026-11-30")
    instance.report_runless_asset_event(_sensor(instance, NOW).asset_events[0])
    _night(instance, "2026-12-02")
    [event] = _sensor(instance, NOW).asset_events
    assert event.passed and event.metadata["as_of_day"].value == "2026-12-02"


def test_the_check_can_be_executed_from_the_ui(instance):
    _night(instance, "2025-12-10")
    JOBS["check"].execute_in_process(instance=instance)
    evaluation = _latest_check(instance)
    assert not evaluation.passed and "holds data through 2025-12-10" in evaluation.description
