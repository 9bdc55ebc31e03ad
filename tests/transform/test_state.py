"""dbt's state comparison decides when a build starts from scratch; nothing of our own fingerprints the code."""

import shutil

import pytest

from pipeline.settings import load_settings
from pipeline.transform.project import load_dbt_project, vars_args
from pipeline.transform.state import BuildState


@pytest.fixture
def project(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    settings = load_settings(dbt_project_dir=project_dir, warehouse=tmp_path / "w.duckdb")
    return settings, load_dbt_project(settings)


def test_the_state_lives_beside_the_warehouse(tmp_path):
    assert BuildState.beside(tmp_path / "w.duckdb").directory == tmp_path / "w.dbt-state"


def test_a_first_build_and_a_build_asked_for_start_from_scratch(project, tmp_path):
    settings, dbt = project
    state = BuildState.beside(settings.warehouse)
    assert "no complete build" in state.refresh_reason(dbt, vars_args(settings), asked=False)
    state.record(dbt)
    assert state.refresh_reason(dbt, vars_args(settings), asked=False) == ""
    assert state.refresh_reason(dbt, vars_args(settings), asked=True) == "asked for"


def test_changed_model_code_rebuilds_from_scratch_and_names_what_changed(project):
    settings, dbt = project
    state = BuildState.beside(settings.warehouse)
    state.record(dbt)
    comment = dbt.project_dir / "models" / "marts" / "periods" / "_retention.yml"
    comment.write_text(comment.read_text().replace("Customer (logo) retention", "Customer retention"))
    dbt = load_dbt_project(settings)  # parsed again: a description is not code
    assert state.refresh_reason(dbt, vars_args(settings), asked=False) == ""
    # nor are the settings, or the warehouse file's name that dbt-duckdb takes as the database name
    elsewhere = settings.model_copy(update={"warehouse": settings.warehouse.with_name("other.duckdb"),
                                            "reporting_currency": "EUR", "activity_window_days": 60})
    assert state.refresh_reason(dbt, vars_args(elsewhere), asked=False) == ""

    model = dbt.project_dir / "models" / "marts" / "periods" / "retention.sql"
    model.write_text(model.read_text() + "\n-- a change of code\n")
    dbt = load_dbt_project(settings)
    reason = state.refresh_reason(dbt, vars_args(settings), asked=False)
    assert reason.startswith("models changed since the last complete build: ")
    assert "retention" in reason.split(": ")[1].split(", ")
    assert "customer_periods" not in reason  # upstream of the change: not rebuilt for it
