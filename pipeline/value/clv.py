"""Customer lifetime value over a horizon of whole months, and the part of it a customer's departure would take.

Two methods, one per kind of relationship (docs/purchase-model.md, "Customer lifetime value"):

* purchases (irregular buyers): BG/NBD's expected repeat order days in each coming month times Gamma-Gamma's
  expected value of an order day;
* subscription (current subscribers): current MRR in each coming month times the probability of still
  subscribing then, from the survival curve of the subscriber's segment conditional on their age.

Both discount month k by (1 + d)^-k, d the monthly rate equivalent to the annual one, and multiply by the gross
margin. Pure numpy/pandas; the asset is clv_asset.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.value import bgnbd, gamma_gamma

DAYS_PER_MONTH = 365.25 / 12  # BG/NBD runs in days; a month of the horizon is the mean calendar month


@dataclass(frozen=True)
class ClvTerms:
    """RETENTION_CLV_MONTHS, RETENTION_DISCOUNT_RATE (annual, a fraction: 0.10 = 10 %), RETENTION_GROSS_MARGIN."""

    months: int
    annual_discount_rate: float
    gross_margin: float

    @property
    def monthly_discount_rate(self) -> float:
        """(1 + annual)^(1/12) - 1: twelve months of it compound to the annual rate."""
        return (1.0 + self.annual_discount_rate) ** (1.0 / 12.0) - 1.0

    def discount_factors(self) -> np.ndarray:
        """(1 + d)^-k for the months k = 1 .. months."""
        return (1.0 + self.monthly_discount_rate) ** -np.arange(1, self.months + 1, dtype=np.float64)


def _unique_pairs(x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, T) with the inverse index: the given-alive forecast depends on nothing else. Whole-day inputs
    (the warehouse's) are packed into one int64 key, anything else goes through a row-wise unique."""
    span = float(T.max(initial=0.0)) + 1.0
    if np.all(x == np.floor(x)) and np.all(T == np.floor(T)) and span * (float(x.max(initial=0.0)) + 1) < 2.0**62:
        key = x.astype(np.int64) * np.int64(span) + T.astype(np.int64)
        ukey, inverse = np.unique(key, return_inverse=True)
        ux, uT = np.divmod(ukey, np.int64(span))
        return ux.astype(np.float64), uT.astype(np.float64), inverse.ravel()
    pairs, inverse = np.unique(np.stack([x, T], axis=1), axis=0, return_inverse=True)
    return pairs[:, 0], pairs[:, 1], inverse.ravel()


def purchase_value(
    bg_fit: bgnbd.BgNbdFit | bgnbd.Params,
    gg_fit: gamma_gamma.GammaGammaFit | gamma_gamma.Params,
    x: object,
    t_x: object,
    T: object,
    m: object,
    terms: ClvTerms,
) -> pd.DataFrame:
    """Per buyer: p_alive, expected_purchases over the horizon, expected_order_value and purchase_clv.

    purchase_clv = margin x E[Z | x, m] x sum over k of (E[X(T, T + k months)] - E[X(T, T + (k-1) months)])
    x (1 + d)^-k. Buyers without repeat order days (x = 0) or without a known repeat value (m NaN) get the
    population's mean order-day value. The given-alive forecast is evaluated once per distinct (x, T) and month,
    then multiplied by each buyer's P(alive).
    """
    x_arr = np.asarray(x, dtype=np.float64)
    t_arr = np.asarray(t_x, dtype=np.float64)
    T_arr = np.asarray(T, dtype=np.float64)
    m_arr = np.asarray(m, dtype=np.float64)
    alive = bgnbd.p_alive(bg_fit, x_arr, t_arr, T_arr)
    ux, uT, inverse = _unique_pairs(x_arr, T_arr)
    cumulative = np.zeros((terms.months + 1, ux.size))
    for k in range(1, terms.months + 1):
        cumulative[k] = bgnbd.expected_purchases_if_alive(bg_fit, k * DAYS_PER_MONTH, ux, uT)
    monthly = np.diff(cumulative, axis=0)  # expected order days in month k, if alive now
    discounted = (terms.discount_factors() @ monthly)[inverse] * alive
    known = (x_arr > 0) & np.isfinite(m_arr) & (m_arr > 0)
    value = gamma_gamma.conditional_expected_value(gg_fit, np.where(known, x_arr, 0.0), np.where(known, m_arr, 0.0))
    return pd.DataFrame({
        "p_alive": alive,
        "expected_purchases": cumulative[-1][inverse] * alive,
        "expected_order_value": value,
        "purchase_clv": terms.gross_margin * value * discounted,
    })


def subscription_value(mrr: object, by_age: pd.DataFrame, ages: object, terms: ClvTerms) -> pd.DataFrame:
    """Per subscriber: p_cancel within the horizon and subscription_clv = margin x MRR x sum over k of
    S(a+k) / S(a) (1 + d)^-k, read from ``by_age`` (survival.conditional_by_age of their curve, built with the
    same months and monthly rate) at their age a in whole months."""
    age_arr = np.asarray(ages, dtype=np.int64)
    table = by_age.set_index("age_months")
    if age_arr.size and (age_arr.min() < 0 or age_arr.max() > table.index.max()):
        raise ValueError("subscription_value: an age lies outside the survival table")
    row = table.loc[age_arr]
    return pd.DataFrame({
        "p_cancel": row["p_cancel"].to_numpy(),
        "subscription_clv": terms.gross_margin * np.asarray(mrr, dtype=np.float64)
        * row["discounted_months"].to_numpy(),
    })


def value_at_stake(frame: pd.DataFrame) -> pd.Series:
    """The expected lifetime value lost: purchase_clv x (1 - p_alive) + subscription_clv x p_cancel, over the
    parts a model covers; NaN where none does."""
    purchases = frame["purchase_clv"] * (1.0 - frame["p_alive"])
    subscription = frame["subscription_clv"] * frame["p_cancel"]
    both = pd.concat([purchases, subscription], axis=1)
    return both.sum(axis=1, min_count=1)
