"""The dbt project: vars from the settings, a manifest parsed again exactly when a project file changed."""

import json
import os
import shutil

from pipeline.settings import load_settings
from pipeline.transform.project import dbt_vars, load_dbt_project, vars_args


def test_every_dbt_var_comes_from_the_settings(tmp_path):
    settings = load_settings(
        warehouse=tmp_path / "w.duckdb", reporting_currency="EUR", activity_window_days=60,
        duckdb_memory_limit="512MB", duckdb_threads=1,
    )
    assert dbt_vars(settings) == {
        "warehouse_path": str((tmp_path / "w.duckdb").resolve()),
        "reporting_currency": "EUR",
        "start": "2021-01-01",
        "activity_window_days": 60,
        "duckdb_memory_limit": "512MB",
        "duckdb_threads": 1,
    }
    assert json.loads(vars_args(settings)[1])["activity_window_days"] == 60


def test_unset_threads_become_every_core_and_a_derived_w_stays_null():
    values = dbt_vars(load_settings())
    assert values["duckdb_threads"] == os.cpu_count()
    assert values["activity_window_days"] is None  # dbt derives W from the data
    assert values["warehouse_path"].startswith("/")  # dbt runs in dbt_project/: relative paths would move


def test_manifest_is_parsed_again_only_when_a_project_file_changes(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    settings = load_settings(dbt_project_dir=project_dir, warehouse=tmp_path / "w.duckdb")
    manifest = load_dbt_project(settings).manifest_path
    parsed_at = manifest.stat().st_mtime_ns

    load_dbt_project(settings)
    assert manifest.stat().st_mtime_ns == parsed_at

    model = project_dir / "models" / "intermediate" / "calendar" / "int_as_of_day.sql"
    model.write_text(model.read_text() + "\n-- touched\n")
    load_dbt_project(settings)
    assert manifest.stat().st_mtime_ns > parsed_at


def test_no_model_s_dependencies_depend_on_the_settings(tmp_path):
    """The definitions reuse a manifest parsed with other settings (it is parsed again only when a file changes), so
    a var must never change a model's refs: Dagster would order the assets differently from dbt."""
    graphs = []
    for currency, window in (("USD", None), ("EUR", 60)):
        project_dir = tmp_path / f"dbt_{currency}"
        shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
        settings = load_settings(dbt_project_dir=project_dir, warehouse=tmp_path / "w.duckdb",
                                 reporting_currency=currency, activity_window_days=window)
        manifest = json.loads(load_dbt_project(settings).manifest_path.read_text())
        graphs.append({uid: sorted(n["depends_on"]["nodes"]) for uid, n in manifest["nodes"].items()})
    assert graphs[0] == graphs[1]
