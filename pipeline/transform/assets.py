"""dbt models as Dagster assets: the unpartitioned staging/intermediate layer and the quarterly marts.

Marts tagged `partitioned` in dbt are incremental models that replace one window of quarters per run; the
window comes from the Dagster partition (or partition range, run as one dbt invocation). Models tagged
`post_marts` read whole marts and run after them.
"""


import functools
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY, permanent_unless_transient
from pipeline.lib.warehouse import Warehouse
from pipeline.transform.build_state import activity_window_row, fingerprint, register_window
from pipeline.transform.dbt_vars import dbt_vars, vars_arg, window_env
from pipeline.transform.publish import build_publish_asset
from pipeline.transform.table_facts import with_table_facts
from pipeline.transform.unit_tests import build_unit_test_checks, invocation_evaluations

PARTITIONED_SELECTOR = "tag:partitioned"
# Set by whoever launches a rebuild (the nightly sensor, the CLI) to say why these quarters.
REBUILD_REASON_TAG = "retention/rebuild_reason"
POST_MARTS_SELECTOR = "tag:post_marts"


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Sets environment variables for the duration of the block (runs are one process, steps one at a time)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LayerTranslator(DagsterDbtTranslator):
    """Groups each model by its layer: the first folder under models/ (staging, intermediate, marts)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        fqn = props.get("fqn", [])
        if props.get("resource_type") == "model" and len(fqn) > 2:
            spec = spec.replace_attributes(group_name=fqn[1])
        return spec


class DbtVars(dg.ConfigurableResource):
    """The settings every dbt run receives as vars."""

    warehouse_path: str
    reporting_currency: str = "USD"
    activity_window_days: int | None = None
    duckdb_memory_limit: str = "4GB"

    def build(self) -> list[str]:
        return vars_arg(self.values())

    def values(self) -> dict[str, object]:
        return dbt_vars(self.warehouse_path, self.reporting_currency, self.activity_window_days, self.duckdb_memory_limit)

    def metric_values(self) -> dict[str, object]:
        """The vars that change numbers (not where the file is or how much memory DuckDB may use)."""
        return {k: v for k, v in self.values().items() if k not in ("duckdb_memory_limit", "warehouse_path")}


def build_dbt_assets(
    project: DbtProject, partitions_def: dg.PartitionsDefinition
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """Three dbt invocations in dependency order: the unpartitioned layers, the quarterly marts, and the models
    tagged `post_marts` that read whole mart tables (unit economics); then the step that publishes the marts.
    Returns the assets and the checks dagster-dbt does not make itself (the dbt unit tests)."""
    translator = LayerTranslator()
    common = {
        "manifest": project.manifest_path,
        "project": project,
        "dagster_dbt_translator": translator,
        "pool": "warehouse",
        "retry_policy": WAREHOUSE_RETRY_POLICY,
    }
    manifest = json.loads(project.manifest_path.read_text())
    unit_checks, unit_keys = build_unit_test_checks(manifest, translator, project, "dbt_vars")

    def _build(context, dbt: DbtCliResource, vars_args: list[str], warehouse: Warehouse, window=None, facts=None):
        with environment(window_env(window)):  # dbt.cli starts the process, which copies the environment
            invocation = dbt.cli(["build", *vars_args], context=context, raise_on_error=False)
        connect = functools.partial(warehouse.connect, read_only=True)
        yield from with_table_facts(invocation.stream(), invocation.manifest, connect, facts or {})
        yield from invocation_evaluations(invocation, unit_keys, context.run)
        error = invocation.get_error()
        if error is not None:
            raise permanent_unless_transient(error)

    @dbt_assets(**common, exclude=f"{PARTITIONED_SELECTOR} {POST_MARTS_SELECTOR}", name="dbt_models")
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, dbt_vars: DbtVars, warehouse: Warehouse):
        """Staging views and intermediate tables, rebuilt whole on every run (they are cheap on intervals)."""
        yield from _build(context, dbt, dbt_vars.build(), warehouse)

    @dbt_assets(
        **common,
        select=PARTITIONED_SELECTOR,
        name="dbt_partitioned_models",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dbt_partitioned_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, dbt_vars: DbtVars, warehouse: Warehouse
    ):
        """The marts, one quarter (or a range of quarters in one dbt run) at a time."""
        window = context.partition_time_window
        with warehouse.connect() as con:
            current = fingerprint(manifest, dbt_vars.metric_values(), activity_window_row(con))
            bounds, widened = register_window(con, (window.start.date(), window.end.date()), context.run.run_id, current)
        reason = context.run.tags.get(REBUILD_REASON_TAG, "quarters asked for")
        if widened:
            reason = f"{reason}; widened: {widened}"
        context.log.info(f"rebuilding marts for [{bounds[0]}, {bounds[1]}): {reason}")
        facts = {"rebuilt_window": f"[{bounds[0]}, {bounds[1]})", "rebuild_reason": reason}
        yield from _build(context, dbt, dbt_vars.build(), warehouse, bounds, facts)

    @dbt_assets(**common, select=POST_MARTS_SELECTOR, name="dbt_post_marts_models")
    def dbt_post_marts_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, dbt_vars: DbtVars, warehouse: Warehouse
    ):
        """Models over whole mart tables, rebuilt after any quarter changed."""
        yield from _build(context, dbt, dbt_vars.build(), warehouse)

    assets = [dbt_models, dbt_partitioned_models, dbt_post_marts_models, build_publish_asset(manifest)]
    return assets, [unit_checks]
