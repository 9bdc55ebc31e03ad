"""A group of checks is one step: each check still has its own result, runs alone when asked, and one that raises
neither hides the others' results nor lets the step pass."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipeline.lib.warehouse import Warehouse
from pipeline.quality.runner import Rule, grouped_checks, rule_spec
from tests.quality.conftest import QUALITY

ASSET = dg.AssetKey(["raw", "thing"])


def _rule(name: str, evaluate, tables=(), blocking: bool = False) -> Rule:
    return Rule(spec=rule_spec(ASSET, name, f"check {name}", blocking, "ERROR"), tables=list(tables), evaluate=evaluate)


def _run(group: dg.AssetChecksDefinition, path, checks=None, assets=()):
    selection = dg.AssetSelection.checks(*(checks or [group]))
    if assets:
        selection = selection | dg.AssetSelection.assets(*assets)
    defs = dg.Definitions(
        assets=list(assets) or [dg.AssetSpec(ASSET)],
        asset_checks=[group],
        jobs=[dg.define_asset_job("checks_only", selection=selection)],
        resources={"warehouse": Warehouse(path=str(path)), "quality": QUALITY},
    )
    result = defs.resolve_job_def("checks_only").execute_in_process(raise_on_error=False)
    return result, {e.check_name: e for e in result.get_asset_check_evaluations()}


def _warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    return path


def _passes(con, run):
    return dg.AssetCheckResult(passed=con.execute("SELECT 1").fetchone()[0] == 1)


def test_a_check_that_raises_leaves_the_others_results_and_fails_the_step(tmp_path):
    def raises(con, run):
        raise RuntimeError("broken rule")

    group = grouped_checks("group", [_rule("first", raises), _rule("second", _passes)])
    result, evaluations = _run(group, _warehouse(tmp_path))
    assert not result.success
    assert list(evaluations) == ["second"] and evaluations["second"].passed


def test_one_check_of_a_group_runs_alone_when_asked(tmp_path):
    calls = []

    def counted(name):
        def evaluate(con, run):
            calls.append(name)
            return dg.AssetCheckResult(passed=True)
        return evaluate

    group = grouped_checks("group", [_rule("first", counted("first")), _rule("second", counted("second"))])
    result, evaluations = _run(group, _warehouse(tmp_path), checks=[dg.AssetCheckKey(ASSET, "second")])
    assert result.success and list(evaluations) == ["second"] and calls == ["second"]


def test_checks_of_missing_tables_pass_as_skipped_and_the_rest_run(tmp_path):
    group = grouped_checks("group", [_rule("absent", _passes, tables=["raw.nothing"]), _rule("present", _passes)])
    result, evaluations = _run(group, _warehouse(tmp_path))
    assert result.success
    assert evaluations["absent"].passed and evaluations["absent"].metadata["skipped"].value is True
    assert evaluations["present"].passed and "skipped" not in evaluations["present"].metadata


def test_a_failing_blocking_check_of_a_group_stops_what_is_downstream(tmp_path):
    ran = []

    @dg.asset(key=ASSET)
    def thing():
        ran.append("thing")

    @dg.asset(key=["published", "thing"], deps=[thing])
    def published():
        ran.append("published")

    def fails(con, run):
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)

    group = grouped_checks("group", [_rule("passes", _passes, blocking=True), _rule("fails", fails, blocking=True)])
    result, evaluations = _run(group, _warehouse(tmp_path), assets=[thing, published])
    assert not result.success
    assert ran == ["thing"]
    assert evaluations["passes"].passed and not evaluations["fails"].passed
