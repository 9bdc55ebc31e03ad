from __future__ import annotations

import subprocess
import sys

import dagster as dg

from pipeline.definitions_builder import build_definitions
from pipeline.quality import quality_checks
from pipeline.settings import load_settings


def test_every_check_targets_an_asset_of_the_pipeline_and_adds_no_duplicate(tmp_path, monkeypatch):
    monkeypatch.setenv("RETENTION_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    defs = build_definitions(load_settings())
    graph = defs.resolve_asset_graph()
    ours = [k for c in quality_checks() for k in c.check_keys]
    assert len(ours) == len(set(ours))
    assert {k.asset_key for k in ours} <= graph.get_all_asset_keys()
    assert set(ours) <= graph.asset_check_keys
    dg.Definitions.validate_loadable(defs)


def test_importing_the_checks_does_not_import_great_expectations():
    code = "import sys, pipeline.quality as q; q.quality_checks(); print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
