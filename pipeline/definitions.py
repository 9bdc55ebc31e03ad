"""The one entry point (`workspace.yaml`, `dagster dev`): every domain's definitions, from the RETENTION_* settings."""

import dagster as dg

from pipeline.definitions_builder import build_definitions
from pipeline.settings import load_settings

defs: dg.Definitions = build_definitions(load_settings())
