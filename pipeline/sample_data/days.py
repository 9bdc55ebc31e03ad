"""Calendar arithmetic on integer day numbers (days since 1970-01-01), vectorised with numpy.

Integers instead of datetime objects keep the simulation arrays small and fast; the writer turns them into
DATE and TIMESTAMP values only when a file is written.
"""

from __future__ import annotations

from datetime import date

import numpy as np

SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (d - _EPOCH).days


def add_months(day: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Shift days by whole months, clamping to the month end (Jan 31 + 1 month = Feb 28/29).

    Billing periods are anchored on the subscription start and shifted by k months each time, so a
    31st-of-month anchor does not drift to the 28th forever after February.
    """
    as_days = np.asarray(day, dtype="int64").astype("datetime64[D]")
    month = as_days.astype("datetime64[M]")
    day_of_month = (as_days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype="int64").astype("timedelta64[M]")
    month_len = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    shifted = target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1).astype(
        "timedelta64[D]"
    )
    return shifted.astype(np.int64)


def month_start(day: np.ndarray) -> np.ndarray:
    """First day of the month of each day, as a day number."""
    as_month = np.asarray(day, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
    return as_month.astype("datetime64[D]").astype(np.int64)


def random_seconds(
    rng: np.random.Generator, day: np.ndarray, low_hour: int = 0, high_hour: int = 24
) -> np.ndarray:
    """Epoch seconds at a random time of each day between the two hours (UTC)."""
    offsets = rng.integers(low_hour * 3600, high_hour * 3600, size=len(day))
    return np.asarray(day, dtype=np.int64) * SECONDS_PER_DAY + offsets
