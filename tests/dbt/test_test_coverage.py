"""The dbt project keeps its test policy: a key test on every model, accepted values on every status and movement
column (the same values as the landing contract), a contract and unit tests on every mart."""

import json

import pytest

from pipeline.ingest.contract import INVOICE_STATUSES, ORDER_STATUSES
from pipeline.settings import load_settings
from pipeline.transform.project import load_dbt_project

KEY_TESTS = {"unique", "unique_combination_of_columns"}
ONE_ROW = {"int_activity_window", "int_as_of_day"}  # one row each: no key to test


@pytest.fixture(scope="module")
def manifest():
    project = load_dbt_project(load_settings())
    return json.loads(project.manifest_path.read_text())


def _models(manifest):
    return {n["unique_id"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def _tests_by_model(manifest) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            for dep in node["depends_on"]["nodes"]:
                if dep.startswith("model.") and node.get("attached_node") == dep:
                    tests.setdefault(dep, []).append(node)
    return tests


def _name(test: dict) -> str:
    return (test.get("test_metadata") or {}).get("name", "")


def test_every_model_except_one_row_tables_has_a_key_test(manifest):
    tests = _tests_by_model(manifest)
    one_row = {uid for uid, m in _models(manifest).items() if m["name"] in ONE_ROW}
    assert len(one_row) == len(ONE_ROW)
    missing = [m["name"] for uid, m in _models(manifest).items()
               if uid not in one_row and not {_name(t) for t in tests.get(uid, [])} & KEY_TESTS]
    assert not missing


def test_every_mart_has_an_enforced_contract_and_a_unit_test(manifest):
    unit_tested = {u["model"] for u in manifest["unit_tests"].values()}
    marts = [m for m in _models(manifest).values() if m["config"]["schema"] == "marts"]
    assert len(marts) >= 9
    assert [m["name"] for m in marts if not m["config"]["contract"]["enforced"]] == []
    assert [m["name"] for m in marts if m["name"] not in unit_tested] == []


def test_status_and_movement_columns_have_accepted_values(manifest):
    accepted = {}
    for uid, tests in _tests_by_model(manifest).items():
        for test in tests:
            if _name(test) == "accepted_values":
                column = test.get("column_name")
                accepted[(uid.split(".")[-1], column)] = tuple(test["test_metadata"]["kwargs"]["values"])
    for model in _models(manifest).values():
        for column in model["columns"]:
            if column == "status" or column.endswith("_movement") or column == "grain":
                assert (model["name"], column) in accepted, f"{model['name']}.{column} has no accepted_values"
    assert accepted[("stg_billing__invoices", "status")] == INVOICE_STATUSES
    assert accepted[("stg_shop__orders", "status")] == ORDER_STATUSES


def test_customer_ids_in_staging_relate_to_customers(manifest):
    related = {uid.split(".")[-1] for uid, tests in _tests_by_model(manifest).items()
               if any(_name(t) == "relationships" for t in tests)}
    assert {"stg_billing__invoices", "stg_shop__orders", "stg_crm__churn_feedback", "customer_value"} <= related


def test_every_mart_key_column_is_declared_not_null(manifest):
    marts = {uid: m for uid, m in _models(manifest).items() if m["config"]["schema"] == "marts"}
    keys = {
        (marts[uid]["name"], column)
        for uid, tests in _tests_by_model(manifest).items() if uid in marts
        for test in tests if _name(test) in KEY_TESTS
        for column in test["test_metadata"]["kwargs"].get("combination_of_columns") or [test["column_name"]]
    }
    not_null = {
        (m["name"], column) for m in marts.values() for column, spec in m["columns"].items()
        if any(c["type"] == "not_null" for c in spec.get("constraints", []))
    }
    assert len(keys) >= 20 and keys - not_null == set()


def test_every_mart_column_is_described(manifest):
    """What the documentation site and the Dagster UI show for each column a user reads."""
    marts = [m for m in _models(manifest).values() if m["config"]["schema"] == "marts"]
    undescribed = [f"{m['name']}.{name}" for m in marts for name, column in m["columns"].items()
                   if not (column.get("description") or "").strip()]
    assert undescribed == []
