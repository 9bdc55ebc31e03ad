"""Run-failure alerts: one JSON message per failed run, posted to RETENTION_ALERT_WEBHOOK_URL.

Nobody watches the UI at night, so a failed run has to reach people. The message is Slack-compatible (its
`text` field is what Slack, Mattermost or Teams' Slack-style webhooks show) and carries the same facts as
fields for anything else that reads JSON: job, run id, partitions, failed steps, failed checks, the first
line of the error and a link to the run in the UI. Without a URL the message is logged (the daemon's log).

A failed blocking data-quality check fails its step, so it alerts the same way; the message names every check
that failed with ERROR severity in the run (from the run's events, so dbt tests count too). A run that the daemon
will retry (run retries, deploy/dagster.yaml) is not alerted: its retry is, if it fails too.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

import dagster as dg

from pipeline.orchestration.tags import RANGE_END_TAG, RANGE_START_TAG

WILL_RETRY_TAG = "dagster/will_retry"  # set by Dagster on a failed run that run retries will re-execute
PARTITION_TAG = "dagster/partition"
POST_ATTEMPTS = 3


@dataclass(frozen=True)
class Alert:
    job: str
    run_id: str
    partitions: str
    failed_steps: list[str]
    failed_checks: list[str]
    error: str
    url: str

    @property
    def text(self) -> str:
        lines = [f":red_circle: retention-pipeline: run of {self.job} failed ({self.partitions})"]
        if self.failed_checks:
            lines.append(f"Failed checks: {', '.join(self.failed_checks)}")
        if self.failed_steps:
            lines.append(f"Failed steps: {', '.join(self.failed_steps)}")
        lines += [f"Error: {self.error}", f"Run: <{self.url}|{self.run_id}>"]
        return "\n".join(lines)

    def payload(self) -> dict[str, object]:
        return {"text": self.text, **asdict(self)}


def partitions_of(tags: dict[str, str]) -> str:
    """The partitions a run covered, as its tags say: a range, one partition, or none."""
    if RANGE_START_TAG in tags:
        return f"partitions {tags[RANGE_START_TAG]} .. {tags.get(RANGE_END_TAG, tags[RANGE_START_TAG])}"
    if PARTITION_TAG in tags:
        return f"partition {tags[PARTITION_TAG]}"
    return "no partitions"


def root_error(error) -> str:
    """The first line of the innermost cause of a failure: the user's error, not Dagster's wrapper."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    line = next((line.strip() for line in error.message.splitlines() if line.strip()), error.message.strip())
    prefix = f"{error.cls_name}: " if getattr(error, "cls_name", None) else None
    return line.split(prefix, 1)[1] if prefix and prefix in line else line


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Every check that failed with ERROR severity in the run, as `asset: check` (a WARN does not fail a run)."""
    names = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            names.append(f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}")
    return sorted(set(names))


def alert_for(context: dg.RunFailureSensorContext, ui_url: str) -> Alert:
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    errors = [e.event_specific_data.error for e in step_failures if e.event_specific_data.error]
    if errors:
        error = root_error(errors[0])
    else:  # the run failed outside any step: a crash, a timeout, a failed launch
        error = (context.failure_event.message or "run failed").strip().splitlines()[0]
    return Alert(
        job=run.job_name,
        run_id=run.run_id,
        partitions=partitions_of(run.tags),
        failed_steps=sorted({e.step_key for e in step_failures if e.step_key}),
        failed_checks=failed_checks(context.instance, run.run_id),
        error=error,
        url=f"{ui_url.rstrip('/')}/runs/{run.run_id}",
    )


def post(url: str, payload: dict[str, object], log, sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST the message; a few attempts for a webhook that is briefly away. Never raises: a lost alert is logged
    with its whole content, and the sensor moves on (raising would post the runs before it again)."""
    body = json.dumps(payload).encode()
    for attempt in range(1, POST_ATTEMPTS + 1):
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            return True
        except (urllib.error.URLError, OSError) as error:
            log.warning(f"alert webhook attempt {attempt} of {POST_ATTEMPTS} failed: {error}")
            if attempt < POST_ATTEMPTS:
                sleep(2 * attempt)
    log.error(f"alert not delivered to the webhook: {json.dumps(payload)}")
    return False


def build_alert_sensor(webhook_url: str | None, ui_url: str) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=10,  # a cursor query over new run failures: cheap
        description="Posts one JSON message per failed run (Slack-compatible `text`) to RETENTION_ALERT_WEBHOOK_URL; "
        "logs it when no URL is set. Runs that run retries will re-execute are left to their retry.",
    )
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
        if run.tags.get(WILL_RETRY_TAG) == "true":
            context.log.info(f"run {run.run_id} of {run.job_name} failed and will be retried: no alert")
            return
        alert = alert_for(context, ui_url)
        if webhook_url is None:
            context.log.warning(f"run failure (RETENTION_ALERT_WEBHOOK_URL not set): {json.dumps(alert.payload())}")
            return
        if post(webhook_url, alert.payload(), context.log):
            context.log.info(f"alert for run {run.run_id} of {run.job_name} posted")

    return alert_on_run_failure
