"""What the warehouse was last built from, for dbt's own state comparison.

After a complete, successful build, the manifest it was built from is kept beside the warehouse file
(`<warehouse>.dbt-state/manifest.json`). When the project's manifest differs from it (the project was parsed
again: a model, macro or YAML file changed, for instance by an upgrade), `dbt ls` lists the models whose SQL,
config, macros or contract changed and everything built from them. (Not `state:modified.relation`: the database
name follows the warehouse file's name, which says nothing about the code.) If there are any, the build starts from scratch
(`--full-refresh`): an incremental table written by other code may hold rows the new code would not write. A
warehouse with no recorded state (its first build, or one built by a version before this) starts from scratch too.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dagster_dbt import DbtProject

from pipeline.transform.project import dbt_executable


@dataclass(frozen=True)
class BuildState:
    directory: Path

    @classmethod
    def beside(cls, warehouse: Path) -> BuildState:
        warehouse = warehouse.resolve()
        return cls(warehouse.with_name(warehouse.stem + ".dbt-state"))

    @property
    def manifest(self) -> Path:
        return self.directory / "manifest.json"

    @property
    def artifacts(self) -> Path:
        """The dbt step's target folder: the latest build's run_results.json and dbt.log, per warehouse."""
        return self.directory / "last_build"

    def refresh_reason(self, project: DbtProject, vars_args: list[str], asked: bool) -> str:
        """Why the next build must start from scratch; empty when it need not."""
        if asked:
            return "asked for"
        if not self.manifest.exists():
            return f"no complete build of this warehouse recorded in {self.directory}"
        if filecmp.cmp(self.manifest, project.manifest_path, shallow=False):
            return ""
        changed = modified_models(project, vars_args, self.directory)
        return f"models changed since the last complete build: {', '.join(changed)}" if changed else ""

    def record(self, project: DbtProject) -> None:
        """After a complete, successful build: the manifest it was built from."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.manifest.with_suffix(".part")
        shutil.copyfile(project.manifest_path, partial)
        partial.replace(self.manifest)


CODE_CHANGES = [f"state:modified.{part}+" for part in ("body", "configs", "macros", "contract")]


def modified_models(project: DbtProject, vars_args: list[str], state_dir: Path) -> list[str]:
    """dbt's own comparison against the manifest in `state_dir`: models whose code changed, and their children."""
    command = [dbt_executable(), "--quiet", "ls", "--select", *CODE_CHANGES, "--state", str(state_dir),
               "--resource-type", "model", "--output", "name", "--target-path", str(state_dir / "target"), *vars_args]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(command, cwd=project.project_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt ls (state comparison) failed:\n{result.stdout}{result.stderr}")
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())
