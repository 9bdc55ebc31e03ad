"""What one dbt build step rebuilds, decided before dbt starts, and what it records once dbt has succeeded.

Two scopes make a nightly build small: the window of quarters of the partitioned marts (build_state.py) and the
customers of the customer-scoped intermediate models (customer_scope.py). A build of all history rebuilds
everything from scratch (`--full-refresh`, every customer): that is what a first build, a change of models, vars
or the activity window W, or a warehouse without a recorded customer watermark gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipeline.transform.build_state import (
    activity_window_row,
    fingerprint,
    record_fingerprint,
    record_unit_tests_passed,
    register_window,
    unit_tests_due,
)
from pipeline.transform.customer_scope import (
    CustomerScope,
    built_through,
    newest_load,
    record_built_through,
    scope_for,
)
from pipeline.transform.dbt_vars import ALL_HISTORY, window_env

NO_WATERMARK = "no customer watermark recorded yet (first build of the per-customer models): all history"


@dataclass(frozen=True)
class BuildPlan:
    window: tuple[dt.date, dt.date]  # [start, end) of the partitioned marts' rebuild
    reason: str  # why the window differs from the one asked for ('' when it does not)
    unit_tests: bool
    scope: CustomerScope
    activity_window: str  # W as dbt last derived it, '' before the first build
    code: str  # fingerprint of the models and vars, without W (for the unit-test record)

    @property
    def full_refresh(self) -> bool:
        return self.window == ALL_HISTORY

    def dbt_args(self) -> list[str]:
        """`dbt build` arguments beyond the vars: unit tests only when due, `--full-refresh` for all history."""
        unit = [] if self.unit_tests else ["--exclude-resource-type", "unit_test"]
        return [*unit, *(["--full-refresh"] if self.full_refresh else [])]

    def env(self) -> dict[str, str]:
        return {**window_env(self.window), **self.scope.env()}


def plan_build(
    con: duckdb.DuckDBPyConnection,
    asked: tuple[dt.date, dt.date],
    run_id: str,
    manifest: Mapping[str, Any],
    metric_vars: Mapping[str, Any],
    step: str,
    whole_step: bool,
) -> BuildPlan:
    """Registers the build's window as pending and decides what it rebuilds."""
    w_before = activity_window_row(con)
    no_watermark = built_through(con) is None
    window, reason = register_window(
        con, ALL_HISTORY if no_watermark else asked, run_id, fingerprint(manifest, metric_vars, w_before)
    )
    if no_watermark and asked != ALL_HISTORY:
        reason = reason or NO_WATERMARK
    code = fingerprint(manifest, metric_vars, "")
    scope = scope_for(built_through(con), newest_load(con), every_customer=window == ALL_HISTORY)
    unit_tests = not whole_step or unit_tests_due(con, step, code)
    return BuildPlan(window, reason, unit_tests, scope, w_before, code)


def finish_build(
    con: duckdb.DuckDBPyConnection,
    plan: BuildPlan,
    run_id: str,
    manifest: Mapping[str, Any],
    metric_vars: Mapping[str, Any],
    step: str,
    whole_step: bool,
) -> str | None:
    """Records what the successful build covered. Returns the new W when dbt derived a different one: then every
    quarter's activity is stale, all history is registered as pending, and the caller must rebuild it."""
    if plan.unit_tests and whole_step:
        record_unit_tests_passed(con, step, plan.code)
    w_after = activity_window_row(con)
    built_from = fingerprint(manifest, metric_vars, w_after)
    if plan.activity_window and w_after != plan.activity_window and not plan.full_refresh:
        register_window(con, ALL_HISTORY, run_id, built_from)
        return w_after
    record_fingerprint(con, built_from)
    if whole_step:
        record_built_through(con, plan.scope)
    return None
