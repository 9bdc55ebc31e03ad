"""`retention docs`: the dbt documentation site of the published marts, one HTML file that opens offline.

`dbt docs generate --static` embeds the manifest and the catalog (each mart's columns and types as the serving
file holds them) in `static_index.html`. dbt reads the serving file read-only (profile target `serving`), like any
reader, so generating the site never gets in a run's way.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pipeline.settings import Settings
from pipeline.transform.project import dbt_executable, dbt_vars

SITE = "static_index.html"


def generate_docs(settings: Settings, out: Path) -> Path:
    """Writes the site into `out`; returns the HTML file to open."""
    if not settings.serving_file.exists():
        raise ValueError(f"no serving file at {settings.serving_file}: run `retention run` first")
    variables = {**dbt_vars(settings), "serving_path": str(settings.serving_file.resolve())}
    command = [dbt_executable(), "--quiet", "docs", "generate", "--static", "--target", "serving",
               "--select", "path:models/marts", "--vars", json.dumps(variables), "--target-path", str(out.resolve())]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_LOG_PATH": str(out.resolve())}
    result = subprocess.run(command, cwd=settings.dbt_project_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError(f"dbt docs generate failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return out / SITE
