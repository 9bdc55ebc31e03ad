"""What the loads since the last publication changed, as the first day whose period numbers may differ: the
nightly rebuild starts there.

Every group of files loaded writes a row to `ingest.changes` with the earliest day its new and replaced rows
touch (see `Entity.touches_from`). `changed_from` is the earliest of those days, over every load after the newest
one the published marts reflect (this run's, and those of a build that failed or was killed), and of the
published as-of day: moving the as-of day changes the quarter it was in (its last month becomes complete).
Nothing loaded since means nothing to rebuild: `changed_from` is None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

CHANGED_FROM = "changed_from"
AS_OF_DAY = "as_of_day"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def as_of_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last day with invoices or orders: the pipeline's as-of day (int_as_of_day uses the same rule)."""
    return con.execute(
        """SELECT max(d) FROM (SELECT max(issued_at)::DATE AS d FROM billing.invoices
                              UNION ALL SELECT max(ordered_at)::DATE FROM shop.orders)"""
    ).fetchone()[0]


@dataclass(frozen=True)
class Changes:
    changed_from: dt.date | None
    by_entity: dict[str, tuple[dt.date | None, int, int]] = field(default_factory=dict)

    def markdown(self) -> str:
        if not self.by_entity:
            return "No rows loaded: nothing to rebuild."
        lines = ["| entity | first day touched | rows inserted | rows replaced |", "|---|---|---|---|"]
        for entity, (first, inserted, replaced) in sorted(self.by_entity.items()):
            lines.append(f"| {entity} | {first or 'none (no period mart)'} | {inserted:,} | {replaced:,} |")
        return "\n".join(lines)


def changed_from(first_days: list[dt.date | None], previous_as_of: dt.date | None, loaded: bool) -> dt.date | None:
    """The first day to rebuild from; pure so the rule is unit-tested without a warehouse."""
    if not loaded:
        return None
    days = [d for d in [*first_days, previous_as_of] if d is not None]
    return min(days) if days else None


def changes_since(con: duckdb.DuckDBPyConnection, since: dt.datetime, previous_as_of: dt.date | None) -> Changes:
    rows = con.execute(
        """SELECT entity, min(first_day), sum(rows_inserted)::BIGINT, sum(rows_replaced)::BIGINT
           FROM ingest.changes WHERE loaded_at > ? GROUP BY entity""",
        [since],
    ).fetchall()
    by_entity = {entity: (first, inserted, replaced) for entity, first, inserted, replaced in rows}
    loaded = any(inserted or replaced for _, inserted, replaced in by_entity.values())
    return Changes(changed_from([first for first, _, _ in by_entity.values()], previous_as_of, loaded), by_entity)
