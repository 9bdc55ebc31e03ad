"""The services as the deployment starts them (deploy/dagster-service, the command of the systemd units and the
containers), the instance they share, and the process handling the tests need."""

import copy
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SERVICE = DEPLOY / "dagster-service"
ENV_EXAMPLE = DEPLOY / "retention.env.example"
T = TypeVar("T")


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile and compose's env_file read them (no quotes, no inline comments)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def shortened_config(deploy_config: dict) -> dict:
    """deploy/dagster.yaml with the daemon's intervals shortened, so a test night takes minutes, not hours."""
    config = copy.deepcopy(deploy_config)
    config["run_monitoring"].update(poll_interval_seconds=2, free_slots_after_run_end_seconds=2)
    config["run_coordinator"]["config"] = {"dequeue_interval_seconds": 1}
    return config


def literal_instance_config(config: dict, pg_env: dict[str, str]) -> dict:
    """The same instance with the PostgreSQL values written in, for the test's own DagsterInstance (the services
    read them from their environment; the test process's environment stays as it is)."""
    literal = copy.deepcopy(config)
    names = {"hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "username": "DAGSTER_PG_USER",
             "password": "DAGSTER_PG_PASSWORD", "db_name": "DAGSTER_PG_DB"}
    literal["storage"]["postgres"]["postgres_db"].update({field: pg_env[env] for field, env in names.items()})
    literal["storage"]["postgres"]["postgres_db"]["port"] = int(pg_env["DAGSTER_PG_PORT"])
    return literal


def write_instance(home: Path, deploy_config: dict, pg_env: dict[str, str]) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    config = shortened_config(deploy_config)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (home / "test_instance.yaml").write_text(yaml.safe_dump(literal_instance_config(config, pg_env)))
    return dg.DagsterInstance.from_config(str(home), "test_instance.yaml")


def _default_sigint():
    # A process started in the background inherits "ignore SIGINT"; each service gets a process group of its own.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()


class Service:
    """One `deploy/dagster-service <name>` process and its process group (code server, run workers)."""

    def __init__(self, name: str, env: dict[str, str], log: Path):
        self.name = name
        self.log_path = log
        self._log = log.open("a")
        self.process = subprocess.Popen([str(SERVICE), name], env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        preexec_fn=_default_sigint)
        self.pid = self.process.pid

    def tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text()[-chars:]

    def stop(self, timeout: float = 120) -> None:
        """SIGTERM to the service's main process only, as systemd's KillMode=process and compose's stop do."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)

    def kill_group(self) -> None:
        """Teardown: everything this service started, whatever state it is in."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._log.close()


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(pid: int) -> list[int]:
    """kill -9 a process and every process it started (a run worker and its dbt), as a crash of the machine's
    memory or a reboot would; returns the pids killed."""
    victims = [pid, *descendants(pid)]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return victims


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 1.0,
             alive: Callable[[], None] = lambda: None) -> T:
    """Polls `probe` until it returns something truthy. The timeout only turns a hang into a message naming
    what never happened; nothing is asserted about durations."""
    deadline = time.monotonic() + timeout
    while True:
        alive()
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for: {what}"
        time.sleep(interval)
