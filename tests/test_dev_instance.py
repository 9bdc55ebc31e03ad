"""`./dev demo | ui | run` give Dagster the local instance (deploy/dagster.local.yaml) as DAGSTER_HOME's
dagster.yaml, keep a folder's own file, and renew a link left dangling by a move of the repository's file; and
they reuse the locked environment in .venv instead of building it again."""

import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / "deploy" / "dagster.local.yaml"


def _dev_run(home: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run([str(REPO / "dev"), "run", "--help"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_new_dagster_home_gets_the_local_instance_and_the_same_environment(tmp_path):
    environment = (REPO / ".venv" / "pyvenv.cfg").stat()
    home = tmp_path / "home"
    _dev_run(home)
    assert (home / "dagster.yaml").resolve() == LOCAL
    after = (REPO / ".venv" / "pyvenv.cfg").stat()
    assert (after.st_ino, after.st_mtime_ns) == (environment.st_ino, environment.st_mtime_ns), ".venv was rebuilt"


def test_a_dangling_link_is_renewed_and_an_own_file_kept(tmp_path):
    dangling, own = tmp_path / "dangling", tmp_path / "own"
    dangling.mkdir()
    own.mkdir()
    (dangling / "dagster.yaml").symlink_to(tmp_path / "moved-away.yaml")
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    _dev_run(dangling)
    _dev_run(own)
    assert (dangling / "dagster.yaml").resolve() == LOCAL
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_local_and_production_instances_queue_runs_and_warehouse_steps_alike():
    local = yaml.safe_load(LOCAL.read_text())
    production = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    assert local["concurrency"] == production["concurrency"]
    assert local["concurrency"] == {"pools": {"default_limit": 1}, "runs": {"max_concurrent_runs": 1}}
