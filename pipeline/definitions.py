"""The one entry point: collects the domains into Definitions, configured from RETENTION_* settings."""

import dagster as dg

from pipeline.lib.definitions_builder import build_definitions
from pipeline.settings import Settings

defs: dg.Definitions = build_definitions(Settings.from_env())
