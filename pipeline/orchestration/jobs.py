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
    """Everything after ingest. `on_demand_checks` run only when asked for: the dbt unit-test checks, whose tests
    already run inside every `dbt build`, and the freshness checks, which a sensor evaluates."""
    selection = dg.AssetSelection.all() - dg.AssetSelection.groups(INGEST_GROUP)
    if on_demand_checks:
        selection = selection - dg.AssetSelection.checks(*on_demand_checks)
    return dg.define_asset_job(
        "build_job",
        selection=selection,
        description="dbt staging, intermediate and the quarterly marts, their checks, publishing, then everything "
        "downstream.",
    )
