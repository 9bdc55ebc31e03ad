"""The DuckDB warehouse as a Dagster resource.

DuckDB allows one writing process per file, so every asset opens its own short-lived connection: writers
with `connect()`, readers with `connect(read_only=True)`. Memory and thread limits come from settings so a
big backfill spills to disk instead of being killed.

Another process may hold the file's lock: a run started from the UI, a notebook, `retention report`. Opening
then waits a bounded time for it, saying so at INFO in the run's log every time it tries again, and fails
with the holder's PID rather than DuckDB's bare "Could not set lock on file".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

LOCK_CONFLICT = re.compile(r"could not set lock on file", re.IGNORECASE)
HOLDER_PID = re.compile(r"\(PID (\d+)\)")
FIRST_DELAY, MAX_DELAY = 0.5, 5.0


class WarehouseBusy(dg.Failure):
    """The warehouse stayed locked by another process for the whole wait. Not retried by Dagster: the wait
    was the retry, and the message says who holds the lock."""

    def __init__(self, message: str):
        super().__init__(description=message, allow_retries=False)
        self.message = message

    def __str__(self) -> str:
        return self.message


def lock_holder(error: duckdb.Error) -> str | None:
    """The PID in DuckDB's lock-conflict message ('unknown' when it names none); None for any other error."""
    message = str(error)
    if not LOCK_CONFLICT.search(message):
        return None
    pid = HOLDER_PID.search(message)
    return pid.group(1) if pid else "unknown"


def connect_waiting(
    path: Path,
    read_only: bool,
    config: dict,
    wait_seconds: float,
    log: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, waiting up to `wait_seconds` (with growing pauses) while another process holds the lock."""
    deadline = clock() + wait_seconds
    delay = FIRST_DELAY
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as error:
            holder = lock_holder(error)
            remaining = deadline - clock()
            if holder is None:
                raise
            if remaining <= 0:
                raise WarehouseBusy(
                    f"another run is writing this warehouse (PID {holder}): {path} was still locked after "
                    f"waiting {wait_seconds:g} s (a process that only reads it, such as a notebook, locks it too)"
                ) from None
            log(f"the warehouse {path} is locked by another process (PID {holder}): trying again in "
                f"{min(delay, remaining):.1f} s, for up to {remaining:.0f} s more")
            sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)


class Warehouse(dg.ConfigurableResource):
    """Connections to the DuckDB warehouse file."""

    path: str
    memory_limit: str | None = None  # None: DuckDB's own; the pipeline passes RETENTION_DUCKDB_MEMORY_LIMIT
    threads: int | None = None
    lock_wait_seconds: float = 60.0  # how long opening waits for another process's lock before failing

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = Path(self.path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit} if self.memory_limit else {}
        if self.threads:
            config["threads"] = self.threads
        con = connect_waiting(path, read_only, config, self.lock_wait_seconds, dg.get_dagster_logger().info)
        con.execute("SET TimeZone = 'UTC'")  # naive timestamps in files are UTC
        try:
            yield con
        finally:
            con.close()


def replace_table(warehouse: Warehouse, ddl: str, table: str, rows: object) -> None:
    """Creates `table` anew with `ddl` (CREATE OR REPLACE, typed columns) and fills it with the data frame `rows`,
    in one transaction: readers of the warehouse see the old table or the new one, never an empty one."""
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        con.execute(ddl)
        if len(rows):  # type: ignore[arg-type]
            con.register("new_rows", rows)
            con.execute(f"INSERT INTO {table} SELECT * FROM new_rows")
        con.execute("COMMIT")
