"""The production layout, run for real: a throwaway PostgreSQL cluster, `deploy/dagster-service webserver` and
`deploy/dagster-service daemon` as two processes on one instance (deploy/dagster.yaml with short daemon
intervals), the nightly schedule firing every minute. The tests run in order on one deployment:

1. the first scheduled night: its ingest and the rebuild it triggers; the rebuild's process is killed with -9,
   run monitoring marks it failed, run retries run it again, and the marts equal an uninterrupted night;
2. a tick that falls due while the daemon is down (a restart) runs when it is back;
3. the marts hold data that ends long ago (the sample's last day): their freshness checks fail and say how stale;
4. an ingest materialized from the UI triggers the rebuild of the quarters it changed;
5. a night whose landing file fails a blocking check: one alert to a webhook on 127.0.0.1, the marts unchanged.
"""

import datetime as dt
import math
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipeline.ingest.assets import SPECS as INGEST_SPECS
from pipeline.orchestration.tags import RANGE_END_TAG, RANGE_START_TAG
from tests.cli_runs import MARTS, retention, table_hashes
from tests.deploy.graphql import Client, sensor_ticks
from tests.deploy.postgres import throwaway_cluster
from tests.deploy.services import (
    DEPLOY,
    ENV_EXAMPLE,
    REPO,
    Service,
    env_file,
    kill_tree,
    wait_for,
    write_instance,
)
from tests.webhook import webhook_receiver

pytestmark = pytest.mark.deploy

CUSTOMERS, SEED = 150, 7
SAMPLE_LAST_DAY = dt.date(2025, 12, 10)  # the sample generator's default end
LATE_AMOUNT = 1234.5  # a late invoice of the last quarter: the UI's ingest rebuilds that quarter only
LATE_FILE = (
    "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at\n"
    f"inv_late_1,1,cus_late_1,sub_late_1,{LATE_AMOUNT},USD,2025-11-01,2025-12-01,paid,2025-11-01 09:00:00\n"
)
FUTURE_FILE = (
    "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at\n"
    "inv_future_1,1,cus_future_1,sub_future_1,99.0,USD,2099-01-01,2099-02-01,paid,2099-01-01 09:00:00\n"
)
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
LONG = 900  # seconds before a wait gives up with a message (a hang, not a measurement)


@dataclass
class Deployment:
    tmp: Path
    env: dict[str, str]
    instance: dg.DagsterInstance
    client: Client
    ui_url: str
    alerts: list
    pg: object
    reference: subprocess.Popen
    services: dict[str, Service]
    retired: list[Service] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["RETENTION_WAREHOUSE"])

    def alive(self) -> None:
        for service in self.services.values():
            assert service.process.poll() is None, f"{service.name} exited:\n{service.tail()}"

    def wait(self, what, probe, timeout=LONG, interval=1.0):
        return wait_for(what, probe, timeout, interval, self.alive)

    def runs(self, **filters) -> list[dg.DagsterRun]:
        return list(reversed(self.instance.get_runs(filters=dg.RunsFilter(**filters))))  # oldest first

    def finished(self, run_id: str) -> dg.DagsterRun:
        run = self.wait(f"run {run_id} to finish", lambda: (r := self.instance.get_run_by_id(run_id)) and
                        r.is_finished and r)
        return run

    def marts(self) -> dict:
        """The marts' hashes; a run of the daemon may hold the file for a moment (DuckDB: one process)."""

        def read():
            try:
                return table_hashes(self.warehouse)
            except duckdb.IOException:
                return None

        return self.wait("a read-only open of the warehouse", read, interval=0.5)


def _service_env(tmp: Path, pg_env: dict[str, str], port: int, webhook: str) -> dict[str, str]:
    """retention.env.example's variables, with this test's values: every name the services get is in it."""
    data = tmp / "data"
    values = {
        **pg_env,
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "DAGSTER_WEBSERVER_HOST": "127.0.0.1",
        "DAGSTER_WEBSERVER_PORT": str(port),
        "RETENTION_LANDING_DIR": str(data / "landing"),
        "RETENTION_WAREHOUSE": str(data / "warehouse" / "warehouse.duckdb"),
        "RETENTION_EXPORT_DIR": str(data / "exports"),
        "RETENTION_REPORT_PATH": str(data / "reports" / "retention_report.html"),
        "RETENTION_NIGHTLY_CRON": "* * * * *",
        "RETENTION_NIGHTLY_TIMEZONE": "UTC",
        "RETENTION_MAX_STALENESS_HOURS": "36",
        "RETENTION_ALERT_WEBHOOK_URL": webhook,
        "RETENTION_UI_URL": f"http://127.0.0.1:{port}",
    }
    assert set(values) == set(env_file(ENV_EXAMPLE)), "the test must set exactly the deployment's variables"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("RETENTION_", "DAGSTER_"))}
    return {**inherited, **values}


def _start_reference(tmp: Path, landing: Path) -> subprocess.Popen:
    """The same night without the services, interruptions or PostgreSQL: `retention nightly` on a copy of the
    landing folder, with a copy of the dbt project (its manifest is parsed for another warehouse path)."""
    ref = tmp / "reference"
    shutil.copytree(landing, ref / "landing")
    shutil.copytree(REPO / "dbt_project", ref / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETENTION_", "DAGSTER_"))}
    env.update(RETENTION_LANDING_DIR=str(ref / "landing"), RETENTION_WAREHOUSE=str(ref / "warehouse.duckdb"),
               RETENTION_EXPORT_DIR=str(ref / "exports"), RETENTION_REPORT_PATH=str(ref / "report.html"),
               RETENTION_DBT_PROJECT_DIR=str(ref / "dbt_project"))
    log = (ref / "nightly.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "pipeline", "nightly"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from tests.deploy.postgres import free_port

    tmp = tmp_path_factory.mktemp("deploy")
    with throwaway_cluster() as pg, webhook_receiver() as alerts:
        port = free_port()
        env = _service_env(tmp, pg.env(), port, alerts.url)
        generated = retention(["sample-data", "--customers", str(CUSTOMERS), "--seed", str(SEED)], env)
        assert generated.returncode == 0, generated.stderr[-3000:]
        reference = _start_reference(tmp, Path(env["RETENTION_LANDING_DIR"]))
        instance = write_instance(tmp / "dagster_home", yaml.safe_load((DEPLOY / "dagster.yaml").read_text()),
                                  pg.env())
        services = {name: Service(name, env, tmp / f"{name}.log") for name in ("daemon", "webserver")}
        deployment = Deployment(tmp, env, instance, Client(f"http://127.0.0.1:{port}"), f"http://127.0.0.1:{port}",
                                alerts, pg, reference, services)
        try:
            deployment.wait("the webserver to serve the code location", deployment.client.ready, interval=2)
            yield deployment
        finally:
            for service in [*services.values(), *deployment.retired]:
                service.kill_group()
            if reference.poll() is None:
                reference.kill()
            reference.wait()
            instance.dispose()


def _engine_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if entry.message.startswith("Started process for run"):
            return int(entry.dagster_event.event_specific_data.metadata["pid"].value)
    return None


def _step_started(instance: dg.DagsterInstance, run_id: str, step: str) -> bool:
    return any(e.step_key == step for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START))


def test_a_scheduled_night_survives_a_killed_rebuild(deployment):
    d = deployment
    ingest = d.wait("the schedule's first ingest run", lambda: next(iter(
        d.runs(job_name="ingest_job", tags={"dagster/schedule_name": "nightly_ingest"})), None))
    assert d.finished(ingest.run_id).status == dg.DagsterRunStatus.SUCCESS, d.services["daemon"].tail()

    build = d.wait("the rebuild the sensor requests", lambda: next(iter(
        d.runs(job_name="build_job", tags={"dagster/run_key": f"rebuild-after-{ingest.run_id}"})), None))
    pid = d.wait("the rebuild's dbt step in its run worker", lambda: _step_started(
        d.instance, build.run_id, "dbt_models") and _engine_pid(d.instance, build.run_id), interval=0.2)
    killed = kill_tree(pid)
    failed = d.finished(build.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE, f"killed {killed}, run ended {failed.status}"

    retry = d.wait("run retries to start the rebuild again", lambda: next(iter(
        d.runs(tags={"dagster/parent_run_id": build.run_id})), None))
    assert d.finished(retry.run_id).status == dg.DagsterRunStatus.SUCCESS, d.services["daemon"].tail()
    assert retry.tags["dagster/retry_number"] == "1" and retry.tags[RANGE_START_TAG] == build.tags[RANGE_START_TAG]

    with d.pg.connect() as con, con.cursor() as cur:  # run history is in PostgreSQL
        cur.execute("SELECT run_id, pipeline_name, status FROM runs WHERE run_id IN %s",
                    ((ingest.run_id, build.run_id, retry.run_id),))
        rows = {run_id: (job, status) for run_id, job, status in cur.fetchall()}
    assert rows == {ingest.run_id: ("ingest_job", "SUCCESS"), build.run_id: ("build_job", "FAILURE"),
                    retry.run_id: ("build_job", "SUCCESS")}

    assert d.reference.wait() == 0, (d.tmp / "reference" / "nightly.log").read_text()[-3000:]
    assert d.marts() == table_hashes(d.tmp / "reference" / "warehouse.duckdb")


def _scheduled_minutes(d: Deployment) -> list[float]:
    """The scheduled times of the runs the schedule launched (a run exists for every tick that was not lost)."""
    runs = d.runs(job_name="ingest_job", tags={"dagster/schedule_name": "nightly_ingest"})
    return sorted(dt.datetime.fromisoformat(r.tags[".dagster/scheduled_execution_time"]).timestamp() for r in runs)


def test_restarting_the_daemon_loses_no_tick(deployment):
    d = deployment
    d.wait("a moment away from a tick", lambda: 5 <= time.time() % 60 <= 45, interval=1)
    old = d.services["daemon"]
    old.stop()  # as `systemctl restart`: SIGTERM to the daemon; runs in progress go on in their processes
    d.retired.append(old)
    boundary = math.ceil(time.time() / 60) * 60  # a tick falls due while no daemon runs
    time.sleep(max(0.0, boundary + 2 - time.time()))
    d.services["daemon"] = Service("daemon", d.env, d.tmp / "daemon.log")

    when = dt.datetime.fromtimestamp(boundary, dt.UTC)
    d.wait(f"the run of the tick due at {when:%H:%M} (daemon down then)",
           lambda: boundary in _scheduled_minutes(d), interval=2)
    minutes = _scheduled_minutes(d)
    assert [round(b - a) for a, b in zip(minutes, minutes[1:], strict=False)] == [60] * (len(minutes) - 1), minutes


def _freshness(d: Deployment, path: list[str]) -> dict | None:
    execution = d.client.check(path, "data_is_fresh")
    return execution if execution and execution["status"] in ("SUCCEEDED", "FAILED") else None


def test_a_missed_night_fails_the_freshness_check_and_says_how_stale(deployment):
    d = deployment
    for path in (["marts", "retention"], ["exports", "outreach"]):
        execution = d.wait(f"the freshness check of {'/'.join(path)}", lambda p=path: _freshness(d, p), interval=3)
        evaluation = execution["evaluation"]
        metadata = {e["label"]: e.get("floatValue", e.get("text")) for e in evaluation["metadataEntries"]}
        expected = (dt.datetime.now(dt.UTC) - dt.datetime(2025, 12, 11, tzinfo=dt.UTC)).total_seconds() / 3600
        assert execution["status"] == "FAILED" and not evaluation["success"]
        assert metadata["as_of_day"] == SAMPLE_LAST_DAY.isoformat()
        # evaluated within the last minutes, rounded to 0.1 h
        assert expected - 1 < metadata["hours_stale"] <= expected + 0.05 and metadata["max_staleness_hours"] == 36
        assert f"holds data through {SAMPLE_LAST_DAY}" in evaluation["description"]
        assert f"{metadata['hours_stale']:,.1f} hours ago" in evaluation["description"]


def _november_mrr(d: Deployment) -> float:
    def read():
        try:
            with duckdb.connect(str(d.warehouse), read_only=True) as con:
                return con.execute("SELECT mrr_end FROM marts.revenue_churn WHERE grain = 'month' "
                                   "AND period_start = DATE '2025-11-01'").fetchone()
        except duckdb.IOException:
            return None

    return float(d.wait("a read-only open of the warehouse", read, interval=0.5)[0])


def test_an_ingest_materialized_from_the_ui_rebuilds_the_quarters_it_changed(deployment):
    d = deployment
    d.client.stop_schedule("nightly_ingest")  # from here on, only the runs this test launches
    d.wait("the runs in progress to finish", lambda: not d.runs(statuses=IN_PROGRESS), interval=2)
    before = _november_mrr(d)
    (Path(d.env["RETENTION_LANDING_DIR"]) / "invoices" / "invoices_late_2025-11.csv").write_text(LATE_FILE)

    ingest_keys = [list(spec.key.path) for spec in INGEST_SPECS]
    run_id = d.client.launch("__ASSET_JOB", ingest_keys)  # the Materialize button on the ingest assets
    assert d.finished(run_id).status == dg.DagsterRunStatus.SUCCESS
    build = d.wait("the rebuild after the UI's ingest", lambda: next(iter(
        d.runs(job_name="build_job", tags={"dagster/run_key": f"rebuild-after-{run_id}"})), None))
    assert (build.tags[RANGE_START_TAG], build.tags[RANGE_END_TAG]) == ("2025-10-01", "2025-10-01")
    assert d.finished(build.run_id).status == dg.DagsterRunStatus.SUCCESS
    assert _november_mrr(d) - before == pytest.approx(LATE_AMOUNT)


def test_a_night_failing_a_blocking_check_alerts_once_and_keeps_the_marts(deployment):
    d = deployment
    before = d.marts()
    (Path(d.env["RETENTION_LANDING_DIR"]) / "invoices" / "invoices_2099-01-01.csv").write_text(FUTURE_FILE)
    run_id = d.client.launch("ingest_job")
    assert d.finished(run_id).status == dg.DagsterRunStatus.FAILURE

    d.wait("the alert", lambda: len(d.alerts) >= 1)
    received_at = time.time()
    d.wait("a later tick of the alert sensor (a second message would come from one)", lambda: any(
        t["timestamp"] > received_at and t["status"] != "STARTED"
        for t in sensor_ticks(d.client, "alert_on_run_failure")), interval=3)
    assert len(d.alerts) == 1, d.alerts  # the killed rebuild was retried, so it alerted nobody
    alert = d.alerts[0]
    assert (alert["job"], alert["run_id"]) == ("ingest_job", run_id)
    assert "billing/invoices: landed_rows_are_plausible" in alert["failed_checks"]
    assert "ingest_job" in alert["text"] and "landed_rows_are_plausible" in alert["text"]
    assert alert["url"] == f"{d.ui_url}/runs/{run_id}"
    with urllib.request.urlopen(alert["url"], timeout=60) as page:  # the link opens the run in the UI
        assert page.status == 200
    assert d.marts() == before, "a failed night must not change the published marts"
    assert set(before) == set(MARTS)
