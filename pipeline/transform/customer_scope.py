"""Which customers the customer-scoped dbt models rebuild: those that loads changed since the models' last build.

The per-customer intermediate models (dbt_project/models/intermediate/by_customer/: converted invoice lines and
orders, MRR intervals, activity spans, first active day, order days and purchase gaps, gap counts) depend on nothing but each customer's own rows, the
fx rates and the activity window W. Ingest records every customer whose rows a load inserted, replaced or
deleted, and the customers an fx-rate change converts differently, in `ingest.changed_customers`. So a build
only has to rebuild the customers recorded since the last build: it passes the bounds of those loads to dbt
(`DBT_RETENTION_CHANGED_AFTER` / `_THROUGH`, read by macros/customer_scope.py), and after dbt succeeded it
records the newest load it covered. A build that fails records nothing, so the next one covers its loads
again (rebuilding a customer twice gives the same rows).

Every customer is rebuilt (no bounds, `--full-refresh`) when the build covers all history: the first build, a
change of models, vars or W, or no recorded watermark (a warehouse built before this existed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

CHANGED_ENV = ("DBT_RETENTION_CHANGED_AFTER", "DBT_RETENTION_CHANGED_THROUGH")
STATE_DDL = (
    "CREATE SCHEMA IF NOT EXISTS publish",
    """CREATE TABLE IF NOT EXISTS publish.customers_built_through (
        changed_through TIMESTAMP NOT NULL, recorded_at TIMESTAMP NOT NULL)""",
)


@dataclass(frozen=True)
class CustomerScope:
    """The loads (after, through] whose customers a build rebuilds; `after` None means every customer."""

    after: dt.datetime | None
    through: dt.datetime | None  # the newest load recorded when the build started

    @property
    def every_customer(self) -> bool:
        return self.after is None

    def describe(self) -> str:
        if self.after is None:
            return "per-customer models: every customer"
        return f"per-customer models: customers changed by loads after {self.after.isoformat(sep=' ')}"

    def env(self) -> dict[str, str]:
        """Environment for the dbt process: empty values mean every customer (macros/customer_scope.sql)."""
        after = "" if self.after is None else self.after.isoformat(sep=" ")
        through = "" if self.after is None or self.through is None else self.through.isoformat(sep=" ")
        return dict(zip(CHANGED_ENV, (after, through), strict=True))


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
    return con.execute(query, [schema, table]).fetchone()[0] > 0


def newest_load(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    if not _table_exists(con, "ingest", "changed_customers"):
        return None
    return con.execute("SELECT max(loaded_at) FROM ingest.changed_customers").fetchone()[0]


def built_through(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The newest load the customer-scoped models reflect; None before their first complete build."""
    for statement in STATE_DDL:
        con.execute(statement)
    row = con.execute("SELECT changed_through FROM publish.customers_built_through").fetchone()
    return None if row is None else row[0]


def scope_for(built: dt.datetime | None, newest: dt.datetime | None, every_customer: bool) -> CustomerScope:
    """The scope of one build; pure, so the rule is unit-tested. With nothing built yet, every customer."""
    if every_customer or built is None:
        return CustomerScope(None, newest)
    return CustomerScope(built, max(newest, built) if newest else built)


def record_built_through(con: duckdb.DuckDBPyConnection, scope: CustomerScope) -> None:
    """After a complete, successful build: its loads need no rebuild again."""
    built_through(con)  # creates the table
    con.execute("DELETE FROM publish.customers_built_through")
    stamp = scope.through or dt.datetime(1900, 1, 1)
    con.execute("INSERT INTO publish.customers_built_through VALUES (?, now()::TIMESTAMP)", [stamp])
