"""`python -m pipeline.orchestration.prepare`: the dbt manifest for this deployment's settings, before a service.

The webserver and the daemon each load the definitions in a code server of their own, and loading parses the dbt
project when the project files or the settings changed (after an upgrade, a new warehouse path). Started at the
same moment, both would write `target/manifest.json` at once and one could read it half-written.
`deploy/dagster-service` runs this under a lock first: one parses, the other finds the manifest current. Nothing
here imports Dagster, so a current manifest costs a second.
"""

from __future__ import annotations

import sys

from pipeline.settings import SettingsError, load_settings
from pipeline.transform.dbt_vars import settings_vars, vars_arg
from pipeline.transform.parse import DbtParseFailed, start_parse


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        start_parse(settings.dbt_project_dir, vars_arg(settings_vars(settings))).wait()
    except DbtParseFailed as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
