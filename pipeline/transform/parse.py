"""`dbt parse` for the manifest the definitions are built from, startable before the slow imports.

A parse is needed whenever a project file or the vars changed since the last one (a new warehouse path changes
the vars, so every fresh warehouse needs one): 3-5 s of a dbt process. This module imports nothing heavy, so
`retention run` starts the parse first and imports Dagster and dagster-dbt (2-3 s) while dbt parses on the
other core; `load_dbt_project` then only waits for it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SOURCE_DIGEST = "source_digest.txt"  # beside manifest.json: the digest of the files it was parsed from
GENERATED = {"target", "logs", "dbt_packages"}
TARGET = "target"  # dbt's and DbtProject's default target path, relative to the project


class DbtParseFailed(RuntimeError):
    """`dbt parse` exited non-zero; the message ends with its output."""


def dbt_executable() -> str:
    """dbt from this interpreter's environment, whether or not the virtualenv is activated."""
    return str(Path(sys.executable).with_name("dbt"))


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


@dataclass
class Parse:
    """A `dbt parse` of one project with one set of vars, or none when the manifest was already current."""

    project_dir: Path  # resolved
    vars_args: tuple[str, ...]
    digest: str  # what SOURCE_DIGEST records once the parse succeeded
    process: subprocess.Popen | None

    def wait(self) -> None:
        """Waits for the parse; records the digest when it succeeded, raises DbtParseFailed when not."""
        if self.process is None:
            return
        output, _ = self.process.communicate()
        if self.process.returncode != 0:
            raise DbtParseFailed(f"dbt parse failed in {self.project_dir} (exit {self.process.returncode}):\n{output}")
        (self.project_dir / TARGET / SOURCE_DIGEST).write_text(self.digest)
        self.process = None

    def matches(self, project_dir: Path, vars_args: Sequence[str]) -> bool:
        return self.project_dir == project_dir.resolve() and self.vars_args == tuple(vars_args)

    def __enter__(self) -> Parse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stops a parse nobody waited for (the command failed before it needed the manifest)."""
        if self.process is not None:
            self.process.kill()
            self.process.communicate()
            self.process = None


def start_parse(project_dir: Path, vars_args: Sequence[str] = ()) -> Parse:
    """Starts `dbt parse` with the `--vars` every invocation will pass, unless manifest.json was parsed from the
    files as they are now with those vars (its digest is recorded beside it). Each `dbt build` then reuses this
    parse instead of parsing the project again. dagster-dbt's own preparer is not used: it looks for dbt on
    PATH, which an unactivated virtualenv does not provide, and runs `dbt deps`, which offline machines cannot."""
    project_dir = project_dir.resolve()
    target = project_dir / TARGET
    digest = " ".join([source_digest(project_dir), *vars_args])
    recorded = target / SOURCE_DIGEST
    if (target / "manifest.json").exists() and recorded.exists() and recorded.read_text() == digest:
        return Parse(project_dir, tuple(vars_args), digest, None)
    env = {
        **os.environ,
        "DBT_TARGET_PATH": TARGET,
        "DBT_LOG_PATH": TARGET,
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    process = subprocess.Popen(
        [dbt_executable(), "parse", "--quiet", *vars_args],
        cwd=project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Parse(project_dir, tuple(vars_args), digest, process)
