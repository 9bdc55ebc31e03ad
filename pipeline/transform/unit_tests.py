"""dbt unit tests as Dagster asset checks on the models they test.

dagster-dbt turns dbt data tests into asset checks but not unit tests. `dbt build` still runs them before
each model, and a failing unit test makes dbt skip its model, so the model's asset fails and nothing
downstream runs: they block through dbt itself. After every dbt invocation their results are reported as
evaluations of checks named after the unit tests, on the models they test. The same checks can be run on
their own from the UI, which runs `dbt test --select test_type:unit`. The specs are not `blocking` in
Dagster's sense: one check step over models of three layers would otherwise sit inside the graph it guards.
"""


from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource, DbtProject

PASSED = "pass"


def unit_test_check_keys(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator, project: DbtProject | None
) -> dict[str, tuple[dg.AssetCheckKey, str]]:
    """unique_id of every dbt unit test -> (check key on its model's asset, description)."""
    keys = {}
    for unique_id, test in manifest.get("unit_tests", {}).items():
        model_id = next(n for n in test["depends_on"]["nodes"] if n.startswith("model."))
        asset_key = translator.get_asset_spec(manifest, model_id, project).key
        keys[unique_id] = (dg.AssetCheckKey(asset_key, test["name"]), (test.get("description") or "").strip())
    return keys


def _result_metadata(result: Mapping[str, Any]) -> dict[str, Any]:
    return {"status": result["status"], "message": result.get("message") or "", "unique_id": result["unique_id"]}


def evaluations(
    run_results: Mapping[str, Any], keys: Mapping[str, tuple[dg.AssetCheckKey, str]]
) -> Iterator[dg.AssetCheckEvaluation]:
    """One evaluation per unit test that dbt ran; unit tests dbt did not select are not reported."""
    for result in run_results.get("results", []):
        if result["unique_id"] not in keys:
            continue
        key, _ = keys[result["unique_id"]]
        yield dg.AssetCheckEvaluation(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=result["status"] == PASSED,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_result_metadata(result),
        )


def invocation_evaluations(
    invocation: DbtCliInvocation, keys: Mapping[str, tuple[dg.AssetCheckKey, str]]
) -> Iterator[dg.AssetCheckEvaluation]:
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        return
    yield from evaluations(run_results, keys)


def build_unit_test_checks(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator, project: DbtProject, vars_resource_key: str
) -> tuple[dg.AssetChecksDefinition, dict[str, tuple[dg.AssetCheckKey, str]]]:
    keys = unit_test_check_keys(manifest, translator, project)
    specs = [
        dg.AssetCheckSpec(key.name, asset=key.asset_key, description=description or None)
        for key, description in keys.values()
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="dbt_unit_tests",
        can_subset=False,
        pool="warehouse",
        required_resource_keys={"dbt", vars_resource_key},
    )
    def dbt_unit_tests(context: dg.AssetCheckExecutionContext):
        """Runs every dbt unit test (fixtures in, expected rows out) and reports each on its model."""
        dbt: DbtCliResource = context.resources.dbt
        vars_args = getattr(context.resources, vars_resource_key).build()
        invocation = dbt.cli(["test", "--select", "test_type:unit", *vars_args], raise_on_error=False)
        for _ in invocation.stream_raw_events():
            pass
        by_key = {e.check_name: e for e in invocation_evaluations(invocation, keys)}
        for key, _ in keys.values():
            evaluation = by_key.get(key.name)
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=bool(evaluation and evaluation.passed),
                metadata=evaluation.metadata if evaluation else {"status": "not run"},
            )

    return dbt_unit_tests, keys
