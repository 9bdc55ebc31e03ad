"""The Dagster definitions load, and the lineage from landing files to marts is one connected graph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.definitions_builder import build_definitions
from pipeline.settings import load_settings

RAW_KEYS = [["billing", "invoices"], ["shop", "orders"], ["crm", "customers"], ["finance", "fx_rates"],
            ["marketing", "acquisition_costs"], ["crm", "churn_feedback"]]


@pytest.fixture(scope="module")
def defs(tmp_path_factory) -> dg.Definitions:
    tmp = tmp_path_factory.mktemp("defs")
    env = {"RETENTION_WAREHOUSE": str(tmp / "w.duckdb"), "RETENTION_LANDING_DIR": str(tmp / "landing")}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        return build_definitions(load_settings())


def test_dagster_definitions_validate(tmp_path):
    env = {**os.environ, "RETENTION_WAREHOUSE": str(tmp_path / "w.duckdb"), "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "passed validation" in result.stderr + result.stdout


def test_raw_tables_are_assets_keyed_source_table(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.path[0] + "." + k.path[1] for k in graph.get_all_asset_keys() if len(k.path) == 2}
    assert {f"{s}.{t}" for s, t in RAW_KEYS} <= keys
    assert {"ingest.manifest", "ingest.quarantine"} <= keys


def test_dbt_sources_are_the_ingest_assets(defs):
    """dbt's source('billing', 'invoices') resolves to the ingest asset: no separate source node, no translator."""
    graph = defs.resolve_asset_graph()
    staging = dg.AssetKey(["staging", "stg_billing__invoices"])
    assert dg.AssetKey(["billing", "invoices"]) in graph.get(staging).parent_keys
    assert graph.get(dg.AssetKey(["billing", "invoices"])).is_materializable


def test_each_mart_is_one_asset_with_its_checks_and_owners(defs):
    graph = defs.resolve_asset_graph()
    retention = graph.get(dg.AssetKey(["marts", "retention"]))
    assert retention.group_name == "marts" and retention.owners == ["team:analytics-engineering"]
    checks = {k.name for k in graph.asset_check_keys if k.asset_key == retention.key}
    assert {"customer_counts_reconcile", "rates_within_bounds"} <= checks
    assert not [k for k in graph.get_all_asset_keys() if k.path[0] in ("marts_build", "published")]
    assert graph.get(dg.AssetKey(["staging", "stg_shop__orders"])).group_name == "staging"
    assert graph.get(dg.AssetKey(["shop", "orders"])).group_name == "ingest"


def test_the_serving_file_descends_from_every_mart_and_the_readers_from_it(defs):
    graph = defs.resolve_asset_graph()
    serving = dg.AssetKey(["serving", "marts"])
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert graph.get(serving).parent_keys == marts
    assert {dg.AssetKey(["billing", "invoices"]), dg.AssetKey(["shop", "orders"])} <= graph.get_ancestor_asset_keys(serving)
    for reader in (["reports", "retention_report"], ["exports", "outreach"]):
        assert graph.get(dg.AssetKey(reader)).parent_keys == {serving}


def test_nightly_schedule_and_rebuild_sensor_are_defined(defs):
    assert defs.resolve_schedule_def("nightly_ingest").cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("rebuild_changed_quarters") is not None
    assert defs.resolve_job_def("build_job").partitions_def is not None
