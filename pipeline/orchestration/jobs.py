"""Jobs: ingest alone, and everything downstream of ingest (run for a quarter or a range of quarters)."""

from __future__ import annotations

import dagster as dg

INGEST_GROUP = "ingest"

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(INGEST_GROUP),
    description="Load new landing files into the raw tables.",
)


build_job = dg.define_asset_job(
    "build_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(INGEST_GROUP),
    description="The dbt models (the quarterly ones for the run's quarters), their checks, the value assets, "
    "publishing to the serving file, then the export and the report.",
)
