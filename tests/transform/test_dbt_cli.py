"""The dbt resource's start-up savings stay real: dagster-dbt still calls the hooks DbtCli replaces."""

import importlib.metadata
import inspect

from dagster_dbt import DbtCliResource

from pipeline.settings import Settings
from pipeline.transform.dbt_cli import ADAPTER_HOOK, VERSION_HOOK, DbtCli, step_target_path
from pipeline.transform.project import dbt_executable


def test_dagster_dbt_still_calls_the_replaced_hooks():
    source = inspect.getsource(DbtCliResource.cli)
    assert f"self.{VERSION_HOOK}" in source
    assert f"self.{ADAPTER_HOOK}(" in source


def test_version_comes_from_the_installed_package_without_a_subprocess(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("dbt --version was run")

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = DbtCli(project_dir=str(Settings.from_env().dbt_project_dir), dbt_executable=dbt_executable())
    assert str(getattr(resource, VERSION_HOOK)) == importlib.metadata.version("dbt-core")
    assert getattr(resource, ADAPTER_HOOK)(["build"]) is None


def test_each_step_keeps_one_artifact_folder(tmp_path):
    assert step_target_path(tmp_path, "dbt_models") == tmp_path / "dagster" / "dbt_models"
    assert step_target_path(tmp_path, "dbt_models") == step_target_path(tmp_path, "dbt_models")
