"""Add-ons of subscriptions (dense profile): extra lines on renewal invoices and mid-period purchases.

Each subscription holds a set of the add-ons in cat.ADDON_PRICE_SHARE. A held add-on is billed on every
renewal invoice as its own line (lines 2, 3, ... after the plan's line 1) over the same service period, at a
share of the plan line's amount, and shares that invoice's payment outcome. An add-on bought inside a period
gets its own invoice with one prorated line over [purchase day, period end) and is billed from the next
renewal on; a held add-on may be dropped at a renewal. Purchases only happen in periods that are followed by
another one: a customer about to leave does not buy extras.

The add-on state evolves period by period on top of the finished subscription simulation, from its own random
stream, so the plan lifecycles (and the standard profile's output) do not depend on it. The loop runs once per
period number, vectorised over the subscriptions billed in that period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.sample_data import catalog as cat
from pipeline.sample_data.days import random_seconds
from pipeline.sample_data.density import Density

_SHARE = np.asarray(cat.ADDON_PRICE_SHARE, dtype=np.float64)
_DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class AddonLines:
    """`renewal`: base (row of the billing-lines frame), line, cents. `buys`: one row per purchase invoice."""

    renewal: pd.DataFrame
    buys: pd.DataFrame

    @staticmethod
    def empty() -> AddonLines:
        renewal = pd.DataFrame({"base": np.empty(0, np.int64), "line": np.empty(0, np.int8),
                                "cents": np.empty(0, np.int64)})
        buys = pd.DataFrame({k: np.empty(0, np.int64) for k in ("sub", "cust", "currency", "ps", "pe", "cents",
                                                                 "issue_sec")})
        return AddonLines(renewal, buys)


def simulate_addons(rng: np.random.Generator, lines: pd.DataFrame, end_day: int, density: Density) -> AddonLines:
    """Add-on lines for the plan's billing lines (columns sub, cust, currency, ps, pe, cents)."""
    if not density.has_addons or lines.empty:
        return AddonLines.empty()
    sub, ps, pe = (lines[c].to_numpy(np.int64) for c in ("sub", "ps", "pe"))
    period_no, has_next = _period_numbers(sub, ps)
    months = np.maximum(np.round((pe - ps) / _DAYS_PER_MONTH), 1)
    held = np.zeros((int(sub.max()) + 1, len(_SHARE)), dtype=bool)
    by_period = np.argsort(period_no, kind="stable")
    bounds = np.searchsorted(period_no[by_period], np.arange(int(period_no.max()) + 2))
    renewal, buys = [], []
    for k in range(len(bounds) - 1):
        rows = by_period[bounds[k] : bounds[k + 1]]
        s = sub[rows]
        draw = rng.random((len(rows), len(_SHARE)))
        if k == 0:
            held[s] = draw < np.asarray(density.addon_start_share)
        else:
            held[s] &= draw >= _per_period(density.addon_monthly_drop, months[rows])[:, None]
        renewal.append(_renewal_lines(rows, held[s], lines["cents"].to_numpy()))
        bought = _purchases(rng, rows, held[s], has_next[rows], ps, pe, months, end_day, density)
        buys.append(_buy_rows(rng, lines, *bought))
        held[s] |= bought[1]
    return AddonLines(pd.concat(renewal, ignore_index=True), pd.concat(buys, ignore_index=True))


def _period_numbers(sub: np.ndarray, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's period number k within its subscription, and whether a later period follows it."""
    n = len(sub)
    order = np.lexsort((ps, sub))
    sorted_sub = sub[order]
    first = np.r_[True, sorted_sub[1:] != sorted_sub[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    period_no, has_next = np.empty(n, np.int64), np.empty(n, bool)
    period_no[order] = np.arange(n) - group_start
    has_next[order] = np.r_[~first[1:], False]
    return period_no, has_next


def _per_period(monthly_rate: float, months: np.ndarray) -> np.ndarray:
    """A monthly chance turned into the chance over a period of `months` months."""
    return 1.0 - (1.0 - monthly_rate) ** months


def _renewal_lines(rows: np.ndarray, held: np.ndarray, base_cents: np.ndarray) -> pd.DataFrame:
    """One line per held add-on, numbered 2, 3, ... in catalogue order, priced off the plan line."""
    r, j = np.nonzero(held)
    line = 1 + np.cumsum(held, axis=1)[r, j]
    cents = np.round(base_cents[rows[r]] * _SHARE[j]).astype(np.int64)
    return pd.DataFrame({"base": rows[r], "line": line.astype(np.int8), "cents": cents})


def _purchases(
    rng: np.random.Generator,
    rows: np.ndarray,
    held: np.ndarray,
    has_next: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
    months: np.ndarray,
    end_day: int,
    density: Density,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, bought add-on mask, purchase day per row and add-on) of the add-ons bought in each period."""
    p = _per_period(density.addon_monthly_adoption, months[rows])[:, None]
    span = pe[rows] - ps[rows]
    day = ps[rows][:, None] + 1 + (rng.random(held.shape) * (span - 1)[:, None]).astype(np.int64)
    bought = (rng.random(held.shape) < p) & ~held & has_next[:, None] & (day <= end_day)
    return rows, bought, day


def _buy_rows(
    rng: np.random.Generator, lines: pd.DataFrame, rows: np.ndarray, bought: np.ndarray, day: np.ndarray
) -> pd.DataFrame:
    """One invoice per purchase: the add-on's share of the plan line, prorated to the rest of the period."""
    r, j = np.nonzero(bought)
    base = rows[r]
    ps, pe = lines["ps"].to_numpy(np.int64)[base], lines["pe"].to_numpy(np.int64)[base]
    buy_day = day[r, j]
    full = lines["cents"].to_numpy()[base] * _SHARE[j]
    return pd.DataFrame(
        {
            "sub": lines["sub"].to_numpy(np.int64)[base],
            "cust": lines["cust"].to_numpy(np.int64)[base],
            "currency": lines["currency"].to_numpy(np.int64)[base],
            "ps": buy_day,
            "pe": pe,
            "cents": np.round(full * (pe - buy_day) / (pe - ps)).astype(np.int64),
            "issue_sec": random_seconds(rng, buy_day, 8, 20),
        }
    )
