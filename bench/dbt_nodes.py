"""Where a run's dbt time went, from the run_results.json its dbt step leaves (dbt's own timing of each node).

The pipeline's log gives a step's seconds only (timeline.py); this splits the dbt step into models, data tests
and unit tests and names the slowest nodes, so the nightly part of bench.json says what to work on next.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipeline.transform.state import BuildState


def run_results(warehouse: Path) -> Path:
    """The run_results.json of the latest dbt build of `warehouse` (its BuildState's artifact folder)."""
    return BuildState.beside(warehouse).artifacts / "run_results.json"

KINDS = {"model": "models_s", "test": "data_tests_s", "unit_test": "unit_tests_s"}


def dbt_split(run_results: Path, since: dt.datetime, top: int = 8) -> dict[str, float]:
    """Seconds per kind of node and of the `top` slowest nodes; {} when no dbt run wrote the file since `since`."""
    if not run_results.exists() or run_results.stat().st_mtime < since.timestamp():
        return {}
    results = json.loads(run_results.read_text())["results"]
    split = dict.fromkeys(KINDS.values(), 0.0)
    for result in results:
        kind = KINDS.get(result["unique_id"].split(".")[0])
        if kind:
            split[kind] += result["execution_time"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:top]
    split.update({r["unique_id"].split(".", 2)[-1]: r["execution_time"] for r in slowest})
    return {name: round(seconds, 2) for name, seconds in split.items()}
