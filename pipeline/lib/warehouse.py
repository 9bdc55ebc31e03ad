"""The DuckDB warehouse as a Dagster resource.

DuckDB allows one writing process per file, so every asset opens its own short-lived connection: writers
with `connect()`, readers with `connect(read_only=True)`. Memory and thread limits come from settings so a
big backfill spills to disk instead of being killed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb


class Warehouse(dg.ConfigurableResource):
    """Connections to the DuckDB warehouse file."""

    path: str
    memory_limit: str | None = None  # None: DuckDB's own; the pipeline passes RETENTION_DUCKDB_MEMORY_LIMIT
    threads: int | None = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit} if self.memory_limit else {}
        if self.threads:
            config["threads"] = self.threads
        con = duckdb.connect(str(path), read_only=read_only, config=config)
        con.execute("SET TimeZone = 'UTC'")  # naive timestamps in files are UTC
        try:
            yield con
        finally:
            con.close()
