"""The dbt models as Dagster assets, built by one `dbt build` per run.

dbt owns incrementality: each model decides in SQL what it rebuilds (the partition window, the customers that
loads changed since its own last build, the settings it was built with; see dbt_project/macros/incremental/).
Python only says which quarters a run covers (the Dagster partitions of the models tagged `partitioned`) and
whether a build starts from scratch: `--full-refresh` when asked for, or when dbt's state comparison finds
models changed since the last complete build (state.py).
"""


import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY, permanent_unless_transient
from pipeline.transform.state import BuildState

PARTITIONED_TAG = "partitioned"
WINDOW_ENV = ("DBT_RETENTION_WINDOW_START", "DBT_RETENTION_WINDOW_END")


class RetentionTranslator(DagsterDbtTranslator):
    """Groups each model by its layer (and an intermediate model by its topic folder); gives the models tagged
    `partitioned`, and only those, the quarterly partitions."""

    def __init__(self, partitions_def: dg.PartitionsDefinition):
        super().__init__()
        self.partitions_def = partitions_def

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] != "model":
            return spec
        layer, *folders = node["fqn"][1:-1]
        group = f"{layer}_{folders[0]}" if layer == "intermediate" and folders else layer
        partitions = self.partitions_def if PARTITIONED_TAG in node["tags"] else None
        return spec.replace_attributes(group_name=group, partitions_def=partitions)


class BuildConfig(dg.Config):
    """Run config of the dbt step: the UI's launchpad, `retention run --full-refresh`."""

    full_refresh: bool = Field(False, description="Rebuild every selected model from scratch (dbt --full-refresh).")


@contextmanager
def partition_window(context: dg.AssetExecutionContext) -> Iterator[None]:
    """The run's window of quarters, in the environment of the one dbt process started inside this block.

    The window travels as environment variables, not vars, because dbt parses the whole project again whenever
    the vars change, while a changed environment variable only re-parses the macro that reads it. dagster-dbt
    starts dbt with a copy of this process's environment and has no per-invocation environment, so the variables
    are set here, for the duration of one `dbt.cli` call in a run's single step, and restored afterwards.
    """
    if not context.has_partition_key_range:
        yield
        return
    window = context.partition_time_window
    values = dict(zip(WINDOW_ENV, (window.start.date().isoformat(), window.end.date().isoformat()), strict=True))
    saved = {name: os.environ.get(name) for name in WINDOW_ENV}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_dbt_assets(
    project: DbtProject, partitions_def: dg.PartitionsDefinition, vars_args: list[str], state: BuildState
) -> dg.AssetsDefinition:
    """Every dbt model as one multi-asset: a run's selected models are built by one `dbt build`."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=RetentionTranslator(partitions_def),
        name="dbt_models",
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="warehouse",
        retry_policy=WAREHOUSE_RETRY_POLICY,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: BuildConfig):
        """The selected models and their data tests, in dbt's order, in one dbt process; production builds leave
        the dbt unit tests out (they test SQL, not data, and run in the test suite)."""
        complete = context.selected_asset_keys == context.assets_def.keys
        refresh = state.refresh_reason(project, vars_args, asked=config.full_refresh)
        if refresh:
            context.log.info(f"full refresh: {refresh}")
        args = ["build", *vars_args, "--exclude-resource-type", "unit_test", *(["--full-refresh"] if refresh else [])]
        with partition_window(context):
            # One artifact folder per warehouse (state.py), not one per run: the latest build's results are there to
            # read, and builds of two warehouses from one project never write the same files.
            invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=state.artifacts)
        yield from invocation.stream()
        error = invocation.get_error()
        if error is not None:
            raise permanent_unless_transient(error)
        if complete:
            state.record(project)

    return dbt_models
