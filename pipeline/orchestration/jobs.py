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
    description="dbt staging, intermediate and the quarterly marts, then everything downstream.",
)
