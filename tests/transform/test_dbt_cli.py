"""The dbt resource's start-up savings stay real: dagster-dbt still calls the hooks DbtCli replaces, and a step
starts from the current partial parse."""

import importlib.metadata
import inspect
import os
import shutil
from pathlib import Path

from dagster_dbt import DbtCliResource

from pipeline.settings import load_settings
from pipeline.transform.dbt_cli import (
    ADAPTER_HOOK,
    PARTIAL_PARSE,
    VERSION_HOOK,
    DbtCli,
    refresh_partial_parse,
    step_target_path,
)
from pipeline.transform.dbt_vars import dbt_vars, vars_arg
from pipeline.transform.project import dbt_executable, load_dbt_project


def test_dagster_dbt_still_calls_the_replaced_hooks():
    source = inspect.getsource(DbtCliResource.cli)
    assert f"self.{VERSION_HOOK}" in source
    assert f"self.{ADAPTER_HOOK}(" in source


def test_version_comes_from_the_installed_package_without_a_subprocess(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("dbt --version was run")

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = DbtCli(project_dir=str(load_settings().dbt_project_dir), dbt_executable=dbt_executable())
    assert str(getattr(resource, VERSION_HOOK)) == importlib.metadata.version("dbt-core")
    assert getattr(resource, ADAPTER_HOOK)(["build"]) is None


def test_each_step_keeps_one_artifact_folder(tmp_path):
    assert step_target_path(tmp_path, "dbt_models") == tmp_path / "dagster" / "dbt_models"
    assert step_target_path(tmp_path, "dbt_models") == step_target_path(tmp_path, "dbt_models")


def _touch(path: Path, text: str, mtime_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_the_step_gets_the_project_partial_parse_when_it_has_none_or_an_older_one(tmp_path):
    source, step = tmp_path / "target", tmp_path / "target" / "dagster" / "dbt_models"
    _touch(source / PARTIAL_PARSE, "load-time parse", 2_000_000_000)
    assert refresh_partial_parse(source, step)
    assert (step / PARTIAL_PARSE).read_text() == "load-time parse"

    _touch(step / PARTIAL_PARSE, "last build", 1_000_000_000)
    assert refresh_partial_parse(source, step)
    assert (step / PARTIAL_PARSE).read_text() == "load-time parse"

    _touch(step / PARTIAL_PARSE, "last build", 3_000_000_000)
    assert not refresh_partial_parse(source, step)
    assert (step / PARTIAL_PARSE).read_text() == "last build"
    assert not refresh_partial_parse(source, source)
    assert not refresh_partial_parse(tmp_path / "nowhere", step)


def _parse_events(resource: DbtCli, vars_args: list[str], target: Path) -> list[str]:
    invocation = resource.cli(["parse", *vars_args], target_path=target, raise_on_error=True)
    return [event.raw_event["info"]["name"] for event in invocation.stream_raw_events()]


def test_a_build_after_a_new_warehouse_path_reuses_the_load_time_parse(tmp_path):
    """The load-time parse for a new warehouse refreshes target/; the step, which kept its file from the last
    run (other vars), must start from that parse instead of parsing the whole project again."""
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    first = vars_arg(dbt_vars(tmp_path / "first.duckdb", "USD", None))
    project = load_dbt_project(project_dir, first)
    step = project.project_dir / step_target_path(project.target_path, "dbt_models")
    step.mkdir(parents=True)
    shutil.copy(project.project_dir / project.target_path / PARTIAL_PARSE, step / PARTIAL_PARSE)  # what the last run's build left

    second = vars_arg(dbt_vars(tmp_path / "second.duckdb", "USD", None))
    load_dbt_project(project_dir, second)
    events = _parse_events(DbtCli(project_dir=project, dbt_executable=dbt_executable()), second, step)
    assert "UnableToPartialParse" not in events
