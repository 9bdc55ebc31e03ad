"""Adds facts read from the warehouse to the dbt models' materializations: row counts, and the values of
one-row models that declare `meta: {record_row_as_metadata: true}` (such as the activity window W).

DuckDB lets one process write the file, and dbt holds it while it runs, so the facts are read after dbt has
exited: model outputs are held back until then. If dbt fails, the models it did build are still reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

import dagster as dg
import duckdb

COUNTED = ("table", "incremental")
RECORD_ROW = "record_row_as_metadata"


def _facts(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> dict[str, Any]:
    config = node.get("config", {})
    relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
    facts: dict[str, Any] = {}
    if config.get("materialized") in COUNTED:
        facts["dagster/row_count"] = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    if config.get("meta", {}).get(RECORD_ROW):
        cursor = con.execute(f"SELECT * FROM {relation} LIMIT 2")
        rows, names = cursor.fetchall(), [d[0] for d in cursor.description]
        if len(rows) == 1:
            facts.update({n: v if isinstance(v, int | float | str | bool) else str(v) for n, v in zip(names, rows[0], strict=True)})
    return facts


def with_table_facts(
    events: Iterable[Any],
    manifest: Mapping[str, Any],
    connect_read_only: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
    extra: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> Iterator[Any]:
    """The events, with each model output held back until dbt exits and then given its facts and `extra(node)`."""
    held: list[dg.Output] = []
    try:
        for event in events:
            if isinstance(event, dg.Output) and "unique_id" in event.metadata:
                held.append(event)
            else:
                yield event
    except Exception:
        yield from held
        raise
    with connect_read_only() as con:
        for output in held:
            node = manifest["nodes"].get(output.metadata["unique_id"].value, {})
            more = extra(node) if extra and node else {}
            yield output.with_metadata({**output.metadata, **more, **(_facts(con, node) if node else {})})
