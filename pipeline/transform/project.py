"""The dbt project as dagster-dbt sees it, with its manifest ready to read."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dagster_dbt import DbtProject

from pipeline.transform.dbt_cli import DbtCli


def dbt_executable() -> str:
    """dbt from this interpreter's environment, whether or not the virtualenv is activated."""
    return str(Path(sys.executable).with_name("dbt"))


SOURCE_DIGEST = "source_digest.txt"  # beside manifest.json: the digest of the files it was parsed from
GENERATED = {"target", "logs", "dbt_packages"}


def source_digest(project_dir: Path) -> str:
    """sha256 over every file of the dbt project that dbt reads (models, macros, YAML, profiles)."""
    digest = hashlib.sha256()
    for relative in sorted(_source_files(project_dir)):
        digest.update(relative.encode() + b"\0" + (project_dir / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def _source_files(project_dir: Path) -> list[str]:
    """Paths relative to the project, skipping the generated folders without walking them (target/ holds one
    folder of artifacts per dbt invocation: tens of thousands of files)."""
    files = []
    for folder, subfolders, names in os.walk(project_dir):
        relative = Path(folder).relative_to(project_dir)
        if relative == Path("."):
            subfolders[:] = [d for d in subfolders if d not in GENERATED]
        files.extend((relative / name).as_posix() for name in names)
    return files


def load_dbt_project(project_dir: Path, vars_args: Sequence[str] = ()) -> DbtProject:
    """The DbtProject with a manifest.json parsed from the files as they are now.

    `dbt parse` takes seconds, so it runs only when the manifest is missing or when any project file changed since
    it was parsed (a digest is kept beside it), and with the `--vars` every invocation will pass, so each
    `dbt build` can reuse this parse instead of parsing the project again. That keeps `dagster dev` reloads and
    every `retention` run on current models without paying for a parse each time. dagster-dbt's own preparer is
    not used: it looks for dbt on PATH, which an unactivated virtualenv does not provide, and runs `dbt deps`,
    which offline machines cannot.
    """
    project = DbtProject(project_dir=project_dir.resolve())
    recorded = project.manifest_path.parent / SOURCE_DIGEST
    current = " ".join([source_digest(project.project_dir), *vars_args])
    fresh = project.manifest_path.exists() and recorded.exists() and recorded.read_text() == current
    if not fresh:
        resource = DbtCli(project_dir=project, dbt_executable=dbt_executable())
        resource.cli(["parse", "--quiet", *vars_args], target_path=project.target_path).wait()
        recorded.write_text(current)
    return project
