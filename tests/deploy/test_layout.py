"""The systemd units, the Dockerfile and docker-compose.yml start what tests/deploy/test_nightly_service.py runs:
the same script with the same arguments, the variables of deploy/retention.env.example, data under its paths.
No Docker engine runs here, so the files are parsed and compared, not run."""

import configparser
import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.deploy.services import DEPLOY, ENV_EXAMPLE, REPO, SERVICE, env_file, shortened_config

pytestmark = pytest.mark.deploy

APP = Path("/opt/retention-pipeline")  # where the checkout lives on a VM and in the image
ENV_PATH = "/etc/retention-pipeline/retention.env"
SERVICES = ("webserver", "daemon")
PG_VARIABLES = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}


def _data_folders(env: dict[str, str]) -> set[str]:
    """The folders a service writes: the instance, the landing and export folders, the warehouse's and report's."""
    files = {env["RETENTION_WAREHOUSE"], env["RETENTION_REPORT_PATH"]}
    folders = {env["DAGSTER_HOME"], env["RETENTION_LANDING_DIR"], env["RETENTION_EXPORT_DIR"]}
    return folders | {str(Path(f).parent) for f in files}


def _unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / f"retention-{name}.service")
    return parser["Service"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_systemd_unit_runs_the_tested_command(name):
    unit = _unit(name)
    assert shlex.split(unit["ExecStart"]) == [str(APP / SERVICE.relative_to(REPO)), name]
    assert unit["WorkingDirectory"] == str(APP) and unit["EnvironmentFile"] == ENV_PATH


def test_restarting_the_daemon_unit_leaves_a_run_in_progress_alone():
    assert _unit("daemon")["KillMode"] == "process"  # as the test's restart: SIGTERM to the daemon only


def _dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_pins_one_python_that_the_project_admits_and_the_locked_environment():
    instructions = _dockerfile()
    image = next(arg for op, arg in instructions if op == "FROM")
    version = re.fullmatch(r"python:(\d+\.\d+\.\d+)-slim-\w+", image).group(1)
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert version in SpecifierSet(requires)
    uv_in_dev = re.search(r"^UV_VERSION=(\S+)$", (REPO / "dev").read_text(), re.M).group(1)
    assert ("ARG", f"UV_VERSION={uv_in_dev}") in instructions
    syncs = [arg for op, arg in instructions if op == "RUN" and "uv sync" in arg]
    assert syncs and all("--locked" in s and "--extra postgres" in s and "--no-dev" in s for s in syncs)


def test_the_image_runs_the_service_script_from_the_checkout_path_with_its_data_folders():
    instructions = _dockerfile()
    assert ("WORKDIR", str(APP)) in instructions
    entrypoint = json.loads(next(arg for op, arg in instructions if op == "ENTRYPOINT"))
    assert entrypoint == [str(APP / SERVICE.relative_to(REPO))]
    made = " ".join(arg for op, arg in instructions if op == "RUN" and "mkdir" in arg)
    for folder in _data_folders(env_file(ENV_EXAMPLE)):
        assert folder in made, f"the image does not create {folder}"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.mark.parametrize("name", SERVICES)
def test_each_compose_service_runs_the_tested_command_with_the_env_file_and_the_data_volumes(name):
    service = _compose()["services"][name]
    assert service["command"] == [name]  # the image's entrypoint is the service script
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert service["env_file"] == "retention.env"
    assert set(service["environment"]) <= set(env_file(ENV_EXAMPLE)), "a variable the test does not set"
    assert service["environment"]["DAGSTER_PG_HOST"] == "postgres"
    mounted = {volume.split(":")[1] for volume in service["volumes"]}
    assert _data_folders(env_file(ENV_EXAMPLE)) <= mounted
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_postgres_takes_its_database_and_user_from_the_same_env_file():
    postgres = _compose()["services"]["postgres"]
    assert postgres["env_file"] == "retention.env"
    script = " ".join(postgres["entrypoint"])
    for variable in ("DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
        assert f"$${variable}" in script


def _env_references(node) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_env_references(v) for v in node.values())) if node else set()
    return set()


def test_the_instance_reads_postgres_from_the_deployment_variables_and_the_test_changes_only_intervals():
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert _env_references(config) == PG_VARIABLES <= set(env_file(ENV_EXAMPLE))
    assert config["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1 and config["run_monitoring"]["enabled"]
    tested = shortened_config(config)
    changed = {k for k in config if tested[k] != config[k]}
    assert changed == {"run_monitoring", "run_coordinator"}
    assert {k for k in config["run_monitoring"] if tested["run_monitoring"][k] != config["run_monitoring"][k]} == {
        "poll_interval_seconds", "free_slots_after_run_end_seconds"}


def test_the_service_script_refuses_an_unknown_service():
    done = subprocess.run([str(SERVICE), "scheduler"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr
