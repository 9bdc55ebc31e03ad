"""dbt unit tests become asset checks on the models they test, and their results become check evaluations."""

import json

import dagster as dg
import pytest

from pipeline.settings import load_settings
from pipeline.transform.assets import LayerTranslator
from pipeline.transform.project import load_dbt_project
from pipeline.transform.unit_tests import evaluations, unit_test_check_keys


@pytest.fixture(scope="module")
def manifest_and_project():
    project = load_dbt_project(load_settings().dbt_project_dir)
    return json.loads(project.manifest_path.read_text()), project


def test_every_dbt_unit_test_is_a_check_on_its_model(manifest_and_project):
    manifest, project = manifest_and_project
    keys = unit_test_check_keys(manifest, LayerTranslator(), project)
    assert len(keys) == len(manifest["unit_tests"]) >= 18
    key, description = keys[next(u for u in keys if u.endswith("int_activity_window_derived_from_median_gap"))]
    assert key == dg.AssetCheckKey(dg.AssetKey(["intermediate", "int_activity_window"]), "int_activity_window_derived_from_median_gap")
    assert "median" in description


def test_run_results_become_passed_and_failed_evaluations():
    key = dg.AssetCheckKey(dg.AssetKey(["marts_build", "retention"]), "worked_example")
    keys = {"unit_test.retention.retention.worked_example": (key, "")}
    results = {"results": [
        {"unique_id": "unit_test.retention.retention.worked_example", "status": "fail", "message": "actual differs"},
        {"unique_id": "model.retention.retention", "status": "success"},
    ]}
    [evaluation] = list(evaluations(results, keys))
    assert evaluation.asset_key == key.asset_key and evaluation.check_name == "worked_example"
    assert not evaluation.passed and evaluation.metadata["message"].value == "actual differs"
    results["results"][0]["status"] = "pass"
    assert next(iter(evaluations(results, keys))).passed
