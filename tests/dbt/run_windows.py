"""Run `dbt run --select tag:partitioned` once per partition window, parsing the project only once.

Usage: python run_windows.py <settings.json>, where the JSON holds project_dir, work_dir, the pipeline's vars and a
list of [window_start, window_end] pairs. Run in a subprocess by the tests, like Dagster runs one window per invocation.
"""

from __future__ import annotations

import json
import sys

from dbt.cli.main import dbtRunner


def main(settings_path: str) -> int:
    with open(settings_path) as handle:
        settings = json.load(handle)
    common = [
        "--no-use-colors",
        "--project-dir",
        settings["project_dir"],
        "--profiles-dir",
        settings["project_dir"],
        "--target-path",
        f"{settings['work_dir']}/target",
        "--log-path",
        f"{settings['work_dir']}/logs",
    ]
    base_vars = settings["vars"]
    parsed = dbtRunner().invoke(["parse", *common, "--vars", json.dumps(base_vars)])
    if not parsed.success:
        return 1
    runner = dbtRunner(manifest=parsed.result)
    for window_start, window_end in settings["windows"]:
        variables = {**base_vars, "window_start": window_start, "window_end": window_end}
        result = runner.invoke(
            ["run", *common, "--select", "tag:partitioned", "--vars", json.dumps(variables)]
        )
        if not result.success:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
