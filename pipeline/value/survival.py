"""Subscription survival: Kaplan-Meier curves per group, and what they say about a subscriber of a given age.

A subscriber's lifetime runs from their first day with MRR to the end of their last MRR interval, counted in
whole calendar months; it is censored at the as-of day while they still have MRR then (see
docs/purchase-model.md, "Subscription survival", for the definition and why). The curves are lifelines'
Kaplan-Meier estimates with its 95 % confidence interval (exponential Greenwood); the inputs come aggregated,
one row per (group keys, months, ended) with a count of subscribers, passed to lifelines as frequency weights,
so the work does not grow with the number of subscribers. Pure pandas/numpy; the asset is
survival_asset.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUPINGS = ("all", "segment", "cohort_quarter")
ALL = "all"
TAIL_MONTHS = 12  # the pooled hazard of a curve's last months continues it beyond its longest lifetime
CURVE_COLUMNS = (
    "months_since_start", "at_risk", "events", "censored", "survival", "ci_lower", "ci_upper",
)
TABLE_COLUMNS = ("group_type", "group_value", *CURVE_COLUMNS, "median_lifetime_months")


def kaplan_meier(months: object, ended: object, subscribers: object) -> tuple[pd.DataFrame, float | None]:
    """The curve at every month 0 .. the longest lifetime, and the median lifetime (None if never reached).

    ``months`` are whole months lived, ``ended`` whether the lifetime ended there (False: censored, still
    subscribing after that many months), ``subscribers`` how many subscribers share the row. ``survival`` at
    month t is S(t) = P(lifetime > t) = prod over s <= t of (1 - events(s) / at_risk(s)), where at_risk(s) counts
    the lifetimes of s months or more: a lifetime censored at s counts as surviving s (lifelines' convention).
    """
    # imported when curves are fitted, not when Dagster loads the code
    from lifelines import KaplanMeierFitter

    t = np.asarray(months, dtype=np.int64)
    e = np.asarray(ended, dtype=bool)
    w = np.asarray(subscribers, dtype=np.int64)
    if t.size == 0 or int(w.sum()) == 0:
        raise ValueError("kaplan_meier: no subscribers")
    if np.any(t < 0) or np.any(w < 0):
        raise ValueError("kaplan_meier: months and subscribers must be >= 0")
    timeline = np.arange(int(t.max()) + 1)
    with np.errstate():  # lifelines sets numpy's error state process-wide; this puts it back afterwards
        fitter = KaplanMeierFitter(alpha=0.05).fit(t, e, timeline=timeline, weights=w)
    event_counts = np.bincount(t, weights=w * e, minlength=timeline.size)
    censored_counts = np.bincount(t, weights=w * ~e, minlength=timeline.size)
    leaving = event_counts + censored_counts
    at_risk = leaving[::-1].cumsum()[::-1]  # lifetimes of s months or more
    ci = fitter.confidence_interval_.to_numpy()
    curve = pd.DataFrame({
        "months_since_start": timeline,
        "at_risk": at_risk.astype(np.int64),
        "events": event_counts.astype(np.int64),
        "censored": censored_counts.astype(np.int64),
        "survival": fitter.survival_function_.to_numpy()[:, 0],
        "ci_lower": ci[:, 0],
        "ci_upper": ci[:, 1],
    })
    median = float(fitter.median_survival_time_)
    return curve, (median if np.isfinite(median) else None)


def survival_table(lifetimes: pd.DataFrame) -> pd.DataFrame:
    """Curves for every subscriber ('all'), per segment and per signup quarter, stacked with the group's median.

    ``lifetimes`` has one row per (cohort_quarter, segment, months, ended) with ``subscribers``.
    """
    frames = []
    for grouping in GROUPINGS:
        keys = pd.Series(ALL, index=lifetimes.index) if grouping == ALL else lifetimes[grouping].astype(str)
        for value, rows in lifetimes.groupby(keys.to_numpy(), sort=True):
            agg = rows.groupby(["months", "ended"], as_index=False)["subscribers"].sum()
            curve, median = kaplan_meier(agg["months"], agg["ended"], agg["subscribers"])
            curve.insert(0, "group_value", str(value))
            curve.insert(0, "group_type", grouping)
            curve["median_lifetime_months"] = median
            frames.append(curve)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLE_COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(TABLE_COLUMNS)]


def extended_survival(curve: pd.DataFrame, until: int) -> np.ndarray:
    """S(0 .. until) of one curve: the estimate where there are lifetimes that long, then S(M) (1 - h)^(t - M),
    where M is the longest lifetime and h the pooled monthly hazard (events / at risk) of the curve's last
    TAIL_MONTHS months. Without it every subscriber older than the oldest ended lifetime would be "certain to
    stay", and the oldest subscribers are exactly the ones whose future lies beyond the curve."""
    curve = curve.sort_values("months_since_start")
    s = curve["survival"].to_numpy(dtype=np.float64)
    last = s.size - 1
    if until <= last:
        return s[: until + 1]
    tail = curve.tail(TAIL_MONTHS)
    exposed = float(tail["at_risk"].sum())
    hazard = float(tail["events"].sum()) / exposed if exposed > 0 else 0.0
    steps = np.arange(1, until - last + 1)
    return np.concatenate([s, s[last] * (1.0 - hazard) ** steps])


def conditional_by_age(
    curve: pd.DataFrame, horizon: int, monthly_discount: float, max_age: int = 0
) -> pd.DataFrame:
    """For every age a (whole months, 0 .. the longest lifetime or max_age) of a subscriber still subscribing:

    * ``discounted_months`` = sum over k = 1..horizon of S(a+k) / S(a) / (1 + d)^k: the months they are expected
      to pay for, each discounted to today (d = monthly rate);
    * ``p_cancel`` = 1 - S(a+horizon) / S(a): the probability they have stopped within the horizon.

    A current subscriber of age a is a lifetime censored at a, so S(a) > 0 on their own curve; where S(a) = 0
    (another group's curve) both are left at 0 and 1.
    """
    ages = curve["months_since_start"].to_numpy(dtype=np.int64)
    top = max(int(ages.max()) if ages.size else 0, int(max_age))
    s = extended_survival(curve, top + horizon)
    base = s[: top + 1]
    k = np.arange(1, horizon + 1)
    ahead = s[np.arange(top + 1)[:, None] + k[None, :]]  # S(a + k), shape (ages, horizon)
    factor = (1.0 + monthly_discount) ** -k.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base[:, None] > 0, ahead / base[:, None], 0.0)
    return pd.DataFrame({
        "age_months": np.arange(top + 1),
        "discounted_months": ratio @ factor,
        "p_cancel": 1.0 - ratio[:, -1],
    })
