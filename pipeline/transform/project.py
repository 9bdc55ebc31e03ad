"""The dbt project as dagster-dbt sees it, with its manifest ready to read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dagster_dbt import DbtProject

from pipeline.transform.parse import SOURCE_DIGEST, Parse, dbt_executable, source_digest, start_parse

__all__ = ["SOURCE_DIGEST", "dbt_executable", "load_dbt_project", "source_digest"]


def load_dbt_project(project_dir: Path, vars_args: Sequence[str] = (), started: Parse | None = None) -> DbtProject:
    """The DbtProject with a manifest.json parsed from the files as they are now, with these vars.

    `dbt parse` takes seconds, so it runs only when the manifest is missing or when any project file or the vars
    changed since it was parsed (see parse.py). That keeps `dagster dev` reloads and every `retention` run on
    current models without paying for a parse each time. `started` is a parse begun earlier (`retention run`
    starts it before its imports); one for another project or other vars is waited for and not used.
    """
    if started is None or not started.matches(project_dir, vars_args):
        if started is not None:
            started.wait()
        started = start_parse(project_dir, vars_args)
    started.wait()
    return DbtProject(project_dir=project_dir.resolve())
