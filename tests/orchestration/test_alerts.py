"""Run-failure alerts: one JSON message per failed run, naming the job, the failed check and the run's link."""

import logging

import dagster as dg
import pytest

from pipeline.orchestration.alerts import WILL_RETRY_TAG, build_alert_sensor, partitions_of, post
from pipeline.orchestration.tags import RANGE_END_TAG, RANGE_START_TAG
from tests.webhook import webhook_receiver

UI = "http://retention.example:3000"
MART = dg.AssetKey(["marts", "retention"])


@dg.asset(key=MART)
def published_mart():
    return None


@dg.asset_check(asset=MART, blocking=True, name="rates_within_bounds")
def rates_within_bounds():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)


@dg.asset_check(asset=MART, name="a_warning_only")
def a_warning_only():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


@dg.asset(deps=[MART])
def downstream():
    return None


# Resolved before any test instance exists (see test_nightly._evaluate).
BUILD_JOB = dg.Definitions(
    assets=[published_mart, downstream],
    asset_checks=[rates_within_bounds, a_warning_only],
    jobs=[dg.define_asset_job("build_job", selection=[MART, downstream.key])],
).resolve_job_def("build_job")


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _failed_run_context(instance, sensor: dg.SensorDefinition, tags: dict[str, str], extra_tags=None):
    result = BUILD_JOB.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert not result.success
    if extra_tags:
        instance.add_run_tags(result.run_id, extra_tags)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=instance, dagster_run=result.dagster_run, dagster_event=failure
    ).for_run_failure()
    return context, result.run_id


def test_a_failed_blocking_check_on_a_published_mart_posts_one_message_naming_job_and_check(instance):
    with webhook_receiver() as received:
        sensor = build_alert_sensor(received.url, UI)
        context, run_id = _failed_run_context(instance, sensor, {RANGE_START_TAG: "2024-04-01", RANGE_END_TAG: "2025-10-01"})
        sensor(context)
    assert len(received) == 1
    message = received[0]
    assert message["job"] == "build_job" and message["run_id"] == run_id
    assert message["failed_checks"] == ["marts/retention: rates_within_bounds"]  # the WARN one did not fail the run
    assert message["partitions"] == "partitions 2024-04-01 .. 2025-10-01"
    assert message["url"] == f"{UI}/runs/{run_id}"
    assert message["error"] == "1 blocking asset check failed with ERROR severity:"
    assert message["failed_steps"] and all(step for step in message["failed_steps"])
    for words in ("build_job", "rates_within_bounds", run_id, message["url"]):
        assert words in message["text"]


def test_without_a_url_the_message_is_logged(instance, capfd):
    sensor = build_alert_sensor(None, UI)
    context, run_id = _failed_run_context(instance, sensor, {})
    capfd.readouterr()
    sensor(context)
    logged = capfd.readouterr().err
    assert "RETENTION_ALERT_WEBHOOK_URL not set" in logged and run_id in logged and "rates_within_bounds" in logged


def test_a_run_that_will_be_retried_is_left_to_its_retry(instance):
    with webhook_receiver() as received:
        sensor = build_alert_sensor(received.url, UI)
        context, _ = _failed_run_context(instance, sensor, {}, {WILL_RETRY_TAG: "true"})
        sensor(context)
    assert received == []


def test_an_unreachable_webhook_is_logged_with_the_whole_message_and_never_raises(caplog):
    with webhook_receiver() as received:
        url = received.url
    waits = []
    with caplog.at_level(logging.WARNING):
        delivered = post(url, {"text": "run of ingest_job failed"}, logging.getLogger("alerts"), sleep=waits.append)
    assert not delivered and len(waits) == 2
    assert "run of ingest_job failed" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    ("tags", "shown"),
    [
        ({RANGE_START_TAG: "2024-01-01", RANGE_END_TAG: "2024-04-01"}, "partitions 2024-01-01 .. 2024-04-01"),
        ({"dagster/partition": "2024-07-01"}, "partition 2024-07-01"),
        ({}, "no partitions"),
    ],
)
def test_partitions_are_named_as_the_run_tags_say(tags, shown):
    assert partitions_of(tags) == shown
