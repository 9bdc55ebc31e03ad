"""`python -m pipeline.orchestration.prepare`: the dbt manifest for this deployment, before a service starts.

The webserver and the daemon each load the definitions, which parse the dbt project when a project file is newer
than its manifest (after an upgrade). `deploy/dagster-service` runs this first, so a service starts on a current
manifest; the parse itself holds a lock, so two services never write the manifest at once.
"""

from __future__ import annotations

import sys

from pipeline.settings import SettingsError, load_settings
from pipeline.transform.project import load_dbt_project


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        load_dbt_project(settings)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
