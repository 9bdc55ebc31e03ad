"""Jobs: ingest alone, and everything downstream of ingest (run for a quarter or a range of quarters)."""

from __future__ import annotations

import dagster as dg

INGEST_GROUP = "ingest"

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(INGEST_GROUP),
    description="Load new landing files into the raw tables.",
)


def build_job(on_demand_checks: list[dg.AssetChecksDefinition]):
    """Everything after ingest. `on_demand_checks` run only when asked for: the freshness checks, which a sensor
    evaluates between runs."""
    selection = dg.AssetSelection.all() - dg.AssetSelection.groups(INGEST_GROUP)
    if on_demand_checks:
        selection = selection - dg.AssetSelection.checks(*on_demand_checks)
    return dg.define_asset_job(
        "build_job",
        selection=selection,
        description="The dbt models (the quarterly ones for the run's quarters), their checks, the value assets, "
        "publishing to the serving file, then the export and the report.",
    )
