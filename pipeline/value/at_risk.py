"""Which active customers are at risk, why, and whom to call first. Pure pandas over one row per customer.

The input frame has one row per currently active customer with the signals computed in SQL (customer_value,
the purchase-model predictions and the lifetime value); the rules here are thresholds on those signals, kept
out of SQL so each reason is unit-tested on hand-made customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REASONS = ("overdue_purchase", "inactive", "mrr_contraction", "payment_overdue", "low_p_alive")

SIGNAL_COLUMNS = (
    "customer_id",
    "as_of",
    "last_order_day",
    "order_days",
    "median_purchase_gap_days",
    "current_mrr",
    "mrr_one_month_ago",
    "oldest_open_line_issued_on",
    "trailing_12m_revenue",
    "p_alive",
    "clv",
    "value_at_stake",
)


@dataclass(frozen=True)
class Thresholds:
    """The RETENTION_* thresholds of the reasons (their defaults live in pipeline/settings.py)."""

    overdue_factor: float  # x the customer's own median purchase gap
    inactive_days: int
    payment_grace_days: int
    p_alive_threshold: float
    # A fall smaller than this share of last month's MRR is not flagged: with invoices converted at each
    # period's own fx rate, currency moves alone shift a EUR customer's MRR by 1-3 % a month.
    mrr_contraction_min_pct: float
    min_order_days_for_overdue: int = 3  # a median gap needs a few gaps to mean something


def _days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def reason_flags(signals: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """One boolean column per reason; a missing signal never raises a flag."""
    since_order = _days_between(signals["as_of"], signals["last_order_day"])
    gap = signals["median_purchase_gap_days"].astype("float64")
    open_age = _days_between(signals["as_of"], signals["oldest_open_line_issued_on"])
    current = signals["current_mrr"].astype("float64").fillna(0.0)
    before = signals["mrr_one_month_ago"].astype("float64").fillna(0.0)
    flags = pd.DataFrame(index=signals.index)
    flags["overdue_purchase"] = (signals["order_days"].fillna(0) >= t.min_order_days_for_overdue) & (
        since_order > t.overdue_factor * gap
    )
    flags["inactive"] = since_order.notna() & (since_order >= t.inactive_days)
    flags["mrr_contraction"] = current < before * (1 - t.mrr_contraction_min_pct / 100)
    flags["payment_overdue"] = open_age.notna() & (open_age > t.payment_grace_days)
    flags["low_p_alive"] = signals["p_alive"].notna() & (
        signals["p_alive"].astype("float64") < t.p_alive_threshold
    )
    return flags.fillna(False).astype(bool)


def value_at_risk(signals: pd.DataFrame) -> pd.Series:
    """Trailing 12 months of revenue, or 12 x current MRR when that is larger (a new customer's annual run rate)."""
    trailing = signals["trailing_12m_revenue"].astype("float64").fillna(0.0)
    run_rate = 12 * signals["current_mrr"].astype("float64").fillna(0.0)
    return np.maximum(trailing, run_rate).round(2)


def priority_score(flagged: pd.DataFrame) -> pd.Series:
    """The value expected to leave: value_at_stake (the expected lifetime value lost, customer_lifetime_value)
    where a model knows the customer, else value_at_risk x (1 - p_alive), x 1 where p_alive is unknown too."""
    p_alive = flagged["p_alive"].astype("float64")
    trailing_rule = flagged["value_at_risk"] * np.where(p_alive.notna(), 1.0 - p_alive.fillna(0.0), 1.0)
    at_stake = flagged["value_at_stake"].astype("float64")
    return at_stake.where(at_stake.notna(), trailing_rule)


def at_risk(signals: pd.DataFrame, t: Thresholds) -> pd.DataFrame:
    """Customers with at least one reason, with reasons, value_at_risk and priority_rank (1 = call first).

    Ranked by ``priority_score``; ties go to the larger value at risk, then to the customer id for a stable order.
    """
    flags = reason_flags(signals, t)
    flagged = flags.any(axis=1)
    out = signals.loc[flagged].copy()
    names = np.array(REASONS, dtype=object)
    out["reasons"] = [list(names[row]) for row in flags.loc[flagged, list(REASONS)].to_numpy()]
    out["value_at_risk"] = value_at_risk(out)
    out["priority_score"] = priority_score(out)
    out = out.sort_values(["priority_score", "value_at_risk", "customer_id"], ascending=[False, False, True])
    out["priority_rank"] = np.arange(1, len(out) + 1)
    for column in ("clv", "value_at_stake"):
        out[column] = out[column].astype("float64").round(2)
    return out.reset_index(drop=True)


def mask_name(name: object) -> str:
    """'Ada Lovelace' -> 'A** L*******': enough to recognise a row, not enough to identify a person."""
    if not isinstance(name, str) or not name.strip():
        return ""
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


def mask_email(email: object) -> str:
    if not isinstance(email, str) or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"
