"""Quarterly partitions shared by the partitioned dbt marts and the jobs that run them.

Shared code rather than orchestration: the partitioned assets need the definition, and assets must not import
orchestration. The quarter in progress is a partition too (end_offset=1) so nightly runs can rebuild it.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

QUARTER_CRON = "0 0 1 1,4,7,10 *"


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarterly_partitions(start: dt.date) -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        start=quarter_start(start).isoformat(),
        cron_schedule=QUARTER_CRON,
        fmt="%Y-%m-%d",
        timezone="UTC",
        end_offset=1,
    )


def parse_period(text: str) -> dt.date:
    """A period given on the command line: 2024-Q2, 2024-05 or 2024-05-17 -> the first day of its quarter."""
    value = text.strip().upper()
    if len(value) == 7 and value[4:6] == "-Q" and value[6] in "1234" and value[:4].isdigit():
        return dt.date(int(value[:4]), 3 * (int(value[6]) - 1) + 1, 1)
    try:
        day = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a period: use 2024-Q2, 2024-05 or 2024-05-17") from exc
    return quarter_start(day)
