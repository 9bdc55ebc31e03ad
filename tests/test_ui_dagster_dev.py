"""`dagster dev` as a user starts it: lineage over GraphQL, a daemon-driven backfill of eight quarters, and the
asset lineage page in a real browser (Debian Chromium through Playwright)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.graphql import Client
from tests.ui_graphql import (
    BACKFILL_QUARTERS,
    CHAIN,
    PARTITIONED,
    PERIOD_CHAIN,
    assets_by_key,
    backfill_status,
    launch_backfill,
)

REPO = Path.cwd()
CHROMIUM = "/usr/bin/chromium"
LINEAGE_NODES = ("invoices", "stg_billing__invoices", "int_invoice_lines_converted", "int_customer_mrr_intervals",
                 "customer_value", "at_risk_customers", "outreach")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_sigint():
    # A process started in the background inherits "ignore SIGINT"; dagster dev must be stoppable.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    return Client(url)(query, variables)


@pytest.fixture(scope="module")
def dagster_dev(sample, tmp_path_factory):
    workspace = sample.workspace.clone(tmp_path_factory.mktemp("ui") / "workspace")
    tmp, env = workspace.path, workspace.env
    shutil.copyfile(REPO / "deploy" / "dagster.local.yaml", tmp / "dagster_home" / "dagster.yaml")  # run queue, warehouse pool
    port = _free_port()
    dagster = str(Path(sys.executable).with_name("dagster"))
    log = (tmp / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        [dagster, "dev", "-h", "127.0.0.1", "-p", str(port), "-w", str(REPO / "workspace.yaml")],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_default_sigint,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert process.poll() is None, (tmp / "dagster_dev.log").read_text()[-3000:]
            try:
                if graphql(url, "{ version }")["version"]:
                    data = graphql(url, "{ assetNodes { id } }")
                    if data["assetNodes"]:
                        break
            except (OSError, AssertionError, KeyError):
                pass
            assert time.monotonic() < deadline, "dagster dev did not come up in 240 s"
            time.sleep(2)
        yield url, tmp
    finally:
        os.killpg(process.pid, signal.SIGINT)  # only the group this test started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_lineage_edges_groups_and_checks_over_graphql(dagster_dev):
    url, _ = dagster_dev
    nodes = assets_by_key(graphql(url, ASSET_NODES_QUERY))
    for chain in (CHAIN, PERIOD_CHAIN):
        for upstream, downstream in zip(chain, chain[1:], strict=False):
            assert upstream in nodes[downstream]["deps"], f"missing edge {upstream} -> {downstream}"
    assert nodes["marts/retention"]["group"] == "marts"
    assert {"mrr_movements_reconcile", "rates_within_bounds"} <= set(nodes["marts/revenue_churn"]["checks"])
    dbt_marts = [k for k in nodes if k.startswith("marts/") and k.split("/")[1] not in VALUE_TABLES]
    assert len(dbt_marts) >= 10 and not [k for k in dbt_marts if not nodes[k]["checks"]], "every mart has its checks"
    assert not [k for k, n in nodes.items() if n["group"] in (None, "default")]
    partitioned = {k for k, n in nodes.items() if n["partitioned"]}
    assert partitioned == set(PARTITIONED), "only what is rebuilt by quarter has partitions"
    assert nodes["marts/retention"]["description"]
    assert any(c["name"] == "retention_rate" for c in nodes["marts/retention"]["columns"])


def test_a_daemon_backfill_of_eight_quarters_completes(dagster_dev):
    url, _ = dagster_dev
    backfill_id = launch_backfill(lambda q, v: graphql(url, q, v))
    deadline = time.monotonic() + 900
    status = None
    while time.monotonic() < deadline:
        status = backfill_status(lambda q, v: graphql(url, q, v), backfill_id)
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"):
            break
        time.sleep(5)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), f"backfill {backfill_id} ended {status}"
    assert len(BACKFILL_QUARTERS) >= 8


VALUE_TABLES = {"purchase_model_fit", "customer_purchase_predictions", "at_risk_customers"}


def test_asset_lineage_page_in_chromium(dagster_dev):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is missing: apt-get install chromium (.ci/run does)"
    url, tmp = dagster_dev
    shot = REPO / "test-artifacts" / "asset_lineage.png"
    shot.parent.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        # Large enough that the graph fits at a zoom where nodes show full names, not "stg_bil…__invoices".
        page = browser.new_page(viewport={"width": 5000, "height": 9000})  # the graph is tall
        page.goto(f"{url}/assets/exports/outreach?view=lineage&lineageScope=upstream&lineageDepth=10")
        for name in LINEAGE_NODES:
            page.get_by_text(name, exact=True).first.wait_for(state="visible", timeout=90_000)
        skip = page.get_by_role("button", name="Skip")  # the first-visit "join the community" dialog
        try:
            skip.first.click(timeout=10_000)
            skip.first.wait_for(state="hidden", timeout=10_000)
        except PlaywrightTimeout:
            pass  # no dialog this time
        page.screenshot(path=str(shot))
        page.goto(f"{url}/asset-groups")  # the global lineage, every group collapsed by default
        page.get_by_text("serving", exact=True).first.wait_for(state="visible", timeout=90_000)
        page.screenshot(path=str(REPO / "test-artifacts" / "global_lineage.png"))
        page.set_viewport_size({"width": 1600, "height": 1200})
        page.goto(f"{url}/assets/marts/retention?view=checks")
        page.get_by_text("customer_counts_reconcile").first.wait_for(state="visible", timeout=90_000)
        page.screenshot(path=str(REPO / "test-artifacts" / "mart_retention_checks.png"))
        browser.close()
    assert shot.stat().st_size > 10_000
    assert (REPO / "test-artifacts" / "mart_retention_checks.png").stat().st_size > 10_000


ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    description
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name type } } } }
    partitionDefinition { description }
  }
}
"""
