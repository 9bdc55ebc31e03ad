"""dbt models as Dagster assets: one quarterly-partitioned multi-asset, built by one `dbt build` per run.

Marts tagged `partitioned` in dbt are incremental models that replace one window of quarters per run; the
window comes from the Dagster partition (or partition range: backfills run as one dbt invocation). The
per-customer intermediate models (tag `customer_scoped`) rebuild only the customers that loads changed since
their last build. The other models (staging views, the remaining intermediate tables, per-customer marts, and
the `post_marts` models that read whole marts) are rebuilt whole. Every asset carries the quarterly partitions
only to share that one dbt process: three processes cost about 10 s more per run than one.
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
from pipeline.transform.build_plan import BuildPlan, finish_build, plan_build
from pipeline.transform.customer_scope import CustomerScope, record_built_through
from pipeline.transform.dbt_cli import step_target_path
from pipeline.transform.dbt_vars import PARTITIONED_TAG, dbt_vars, vars_arg, window_env
from pipeline.transform.publish import build_publish_asset
from pipeline.transform.table_facts import with_table_facts
from pipeline.transform.unit_tests import build_unit_test_checks, invocation_evaluations

# Set by whoever launches a rebuild (the nightly sensor, the CLI) to say why these quarters.
REBUILD_REASON_TAG = "retention/rebuild_reason"
# What a changed activity window W makes stale: the activity spans and everything built from them.
HISTORY_SELECTION = "int_activity_spans+"


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
    """Every dbt model as one partitioned multi-asset, built by one `dbt build`, then the step that publishes the
    marts. Returns the assets and the checks dagster-dbt does not make itself (the dbt unit tests)."""
    translator = LayerTranslator()
    manifest = json.loads(project.manifest_path.read_text())
    unit_checks, unit_keys = build_unit_test_checks(manifest, translator, project, "dbt_vars")

    def _invoke(context, dbt: DbtCliResource, dbt_vars: DbtVars, warehouse: Warehouse, plan: BuildPlan, extra):
        step = context.op_execution_context.op.name
        with environment(plan.env()):  # dbt.cli starts the process, which copies the environment
            invocation = dbt.cli(
                ["build", *dbt_vars.build(), *plan.dbt_args()],
                context=context,
                raise_on_error=False,
                target_path=step_target_path(project.target_path, step),
            )
        connect = functools.partial(warehouse.connect, read_only=True)
        yield from with_table_facts(invocation.stream(), invocation.manifest, connect, extra)
        yield from invocation_evaluations(invocation, unit_keys, context.run)
        error = invocation.get_error()
        if error is not None:
            raise permanent_unless_transient(error)

    def _rebuild_history(dbt: DbtCliResource, dbt_vars: DbtVars, step: str) -> None:
        """Everything the activity window W feeds, over all history and every customer, with its data tests."""
        args = ["build", *dbt_vars.build(), "--exclude-resource-type", "unit_test", "--full-refresh",
                "--select", HISTORY_SELECTION]
        with environment({**window_env(None), **CustomerScope(None, None).env()}):
            invocation = dbt.cli(
                args, manifest=manifest, raise_on_error=False, target_path=step_target_path(project.target_path, step)
            ).wait()
        error = invocation.get_error()
        if error is not None:
            raise permanent_unless_transient(error)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name="dbt_models",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="warehouse",
        retry_policy=WAREHOUSE_RETRY_POLICY,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, dbt_vars: DbtVars, warehouse: Warehouse):
        """Every selected dbt model in one dbt process, in dbt's order (each process spends seconds starting):
        staging views, the per-customer models for the customers changed since their last build, the other
        intermediate tables, the quarterly marts for the run's window of quarters (widened when the past requires
        it), then the `post_marts` models (see build_plan.py).

        The activity window W is derived by dbt in the same run. If it changed, every quarter's activity is stale,
        so what W feeds is rebuilt over all history in a second dbt process before anything is published."""
        step = context.op_execution_context.op.name
        window, metric_vars = context.partition_time_window, dbt_vars.metric_values()
        whole_step = context.selected_asset_keys == context.assets_def.keys
        run_id = context.run.run_id
        with warehouse.connect() as con:
            asked = (window.start.date(), window.end.date())
            plan = plan_build(con, asked, run_id, manifest, metric_vars, step, whole_step)
        reason = context.run.tags.get(REBUILD_REASON_TAG, "quarters asked for")
        if plan.reason:
            reason = f"{reason}; widened: {plan.reason}"
        context.log.info(f"rebuilding marts for [{plan.window[0]}, {plan.window[1]}): {reason}; {plan.scope.describe()}")
        if not plan.unit_tests:
            context.log.info("dbt unit tests skipped: they passed on this code and these vars before")
        facts = {"rebuilt_window": f"[{plan.window[0]}, {plan.window[1]})", "rebuild_reason": reason}

        def window_facts(node: Mapping[str, Any]) -> Mapping[str, Any]:
            return facts if PARTITIONED_TAG in node.get("tags", []) else {}

        yield from _invoke(context, dbt, dbt_vars, warehouse, plan, window_facts)
        with warehouse.connect() as con:
            new_w = finish_build(con, plan, run_id, manifest, metric_vars, step, whole_step)
        if new_w is not None:
            context.log.warning(f"activity window W changed ({plan.activity_window} -> {new_w}): rebuilding all history")
            _rebuild_history(dbt, dbt_vars, f"{step}_history")
            if whole_step:
                with warehouse.connect() as con:
                    record_built_through(con, plan.scope)

    assets = [dbt_models, build_publish_asset(manifest)]
    return assets, [unit_checks]
