"""Subscription lifecycles: billing periods, plan changes, cancellations, dunning and reactivations.

The simulation walks period index k = 0, 1, 2, ... and handles every still-active subscription of that index
in one vectorised step, so the Python loop runs about 40 times whatever the number of customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.sample_data import catalog as cat
from pipeline.sample_data.days import add_months, random_seconds

PAID, OPEN_RECOVERED, OPEN_UNCOLLECTIBLE = 0, 1, 2  # payment outcome of a billing line
_PRICES = np.asarray(cat.MONTHLY_PRICE_CENTS, dtype=np.int64)


@dataclass(frozen=True)
class Subscriptions:
    """Column arrays of subscriptions that start a lifecycle together (first purchases or reactivations)."""

    sub: np.ndarray
    cust: np.ndarray
    segment: np.ndarray
    currency: np.ndarray
    start: np.ndarray
    cycle: np.ndarray  # months per billing period: 1 or 12
    tier: np.ndarray


@dataclass
class BillingHistory:
    """Everything the subscription business produced: invoice lines to issue and cancellation events."""

    lines: list[dict[str, np.ndarray]]
    changes: list[dict[str, np.ndarray]]
    cancellations: list[dict[str, np.ndarray]]

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return tuple(_concat(chunks) for chunks in (self.lines, self.changes, self.cancellations))


def _concat(chunks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    keys = chunks[0].keys()
    return pd.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in keys})


def new_subscriptions(
    rng: np.random.Generator,
    first_id: int,
    cust: np.ndarray,
    segment: np.ndarray,
    currency: np.ndarray,
    start: np.ndarray,
    annual_share: float = cat.ANNUAL_SHARE,
) -> Subscriptions:
    """Draw a plan (tier and monthly or annual cycle) for each new subscription."""
    n = len(cust)
    cycle = np.where(rng.random(n) < annual_share, 12, 1).astype(np.int64)
    tier = rng.choice(3, size=n, p=cat.TIER_SHARES).astype(np.int64)
    sub = np.arange(first_id, first_id + n, dtype=np.int64)
    return Subscriptions(sub, cust, segment.astype(np.int64), currency, start.astype(np.int64), cycle, tier)


def price_cents(segment: np.ndarray, tier: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """List price of one billing period; annual plans cost ANNUAL_PRICE_MONTHS monthly prices."""
    months = np.where(cycle == 12, cat.ANNUAL_PRICE_MONTHS, 1)
    return _PRICES[segment, tier] * months


def simulate(
    rng: np.random.Generator, first: Subscriptions, end_day: int, annual_share: float = cat.ANNUAL_SHARE
) -> BillingHistory:
    """Run the first subscriptions and up to REACTIVATION_ROUNDS rounds of returning customers."""
    history = BillingHistory([], [], [])
    batch, next_id = first, int(first.sub[-1]) + 1 if len(first.sub) else 1
    for _ in range(1 + cat.REACTIVATION_ROUNDS):
        if len(batch.sub) == 0:
            break
        ended_idx, ended_at = _run_lifecycles(rng, batch, end_day, history)
        batch = _reactivations(rng, batch, ended_idx, ended_at, end_day, next_id, annual_share)
        next_id += len(batch.sub)
    return history


def _run_lifecycles(
    rng: np.random.Generator, subs: Subscriptions, end_day: int, history: BillingHistory
) -> tuple[np.ndarray, np.ndarray]:
    """Bill period after period until every subscription has ended or reached end_day."""
    tier = subs.tier.copy()
    alive = np.ones(len(subs.sub), dtype=bool)
    ended_idx: list[np.ndarray] = []
    ended_at: list[np.ndarray] = []
    k = 0
    while alive.any():
        idx = np.flatnonzero(alive)
        ps = add_months(subs.start[idx], k * subs.cycle[idx])
        alive[idx[ps > end_day]] = False
        keep = ps <= end_day
        idx, ps = idx[keep], ps[keep]
        pe = add_months(subs.start[idx], (k + 1) * subs.cycle[idx])
        outcome = _payment_outcomes(rng, len(idx))
        history.lines.append(_billing_lines(rng, subs, idx, tier, ps, pe, outcome))
        cancel_day = _cancellations(rng, subs, idx, ps, pe, end_day)
        ends = (cancel_day >= 0) | (outcome == OPEN_UNCOLLECTIBLE)
        cancelled = cancel_day >= 0
        history.cancellations.append(
            {
                "sub": subs.sub[idx][cancelled],
                "cust": subs.cust[idx][cancelled],
                "cancel_day": cancel_day[cancelled],
            }
        )
        _plan_changes(rng, subs, idx[~ends], tier, ps[~ends], pe[~ends], end_day, history)
        alive[idx[ends]] = False
        ended_idx.append(idx[ends])
        ended_at.append(pe[ends])
        k += 1
    return _joined(ended_idx), _joined(ended_at)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


def _payment_outcomes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Most lines are paid at once; failed ones stay open and are later recovered or written off."""
    u = rng.random(n)
    recovered_cut = cat.FAILED_PAYMENT_RATE * cat.FAILED_RECOVERED_SHARE
    outcome = np.full(n, PAID, dtype=np.int8)
    outcome[u < cat.FAILED_PAYMENT_RATE] = OPEN_UNCOLLECTIBLE
    outcome[u < recovered_cut] = OPEN_RECOVERED
    return outcome


def _billing_lines(
    rng: np.random.Generator,
    subs: Subscriptions,
    idx: np.ndarray,
    tier: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
    outcome: np.ndarray,
) -> dict[str, np.ndarray]:
    """One line per subscription and period, issued a few hours into the period start day."""
    return {
        "sub": subs.sub[idx],
        "cust": subs.cust[idx],
        "currency": subs.currency[idx],
        "ps": ps,
        "pe": pe,
        "cents": price_cents(subs.segment[idx], tier[idx], subs.cycle[idx]),
        "issue_sec": random_seconds(rng, ps, 1, 12),
        "outcome": outcome,
    }


def _cancellations(
    rng: np.random.Generator,
    subs: Subscriptions,
    idx: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
    end_day: int,
) -> np.ndarray:
    """Day the customer cancels during this period (service runs to period end), or -1 when they stay."""
    segment, cycle = subs.segment[idx], subs.cycle[idx]
    churn = np.where(
        cycle == 12, np.asarray(cat.ANNUAL_CHURN)[segment], np.asarray(cat.MONTHLY_CHURN)[segment]
    )
    cancel_day = ps + (rng.random(len(idx)) * (pe - ps)).astype(np.int64)
    cancels = (rng.random(len(idx)) < churn) & (cancel_day <= end_day)
    return np.where(cancels, cancel_day, -1)


def _plan_changes(
    rng: np.random.Generator,
    subs: Subscriptions,
    idx: np.ndarray,
    tier: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
    end_day: int,
    history: BillingHistory,
) -> None:
    """Mid-period upgrades and downgrades: prorated credit for the old plan, charge for the new one."""
    u = rng.random(len(idx))
    step = np.where(u < cat.UPGRADE_RATE, 1, np.where(u < cat.UPGRADE_RATE + cat.DOWNGRADE_RATE, -1, 0))
    new_tier = tier[idx] + step
    change_day = ps + 1 + (rng.random(len(idx)) * (pe - ps - 1)).astype(np.int64)
    ok = (step != 0) & (new_tier >= 0) & (new_tier <= 2) & (change_day <= end_day)
    idx, ps, pe, change_day, new_tier = idx[ok], ps[ok], pe[ok], change_day[ok], new_tier[ok]
    share = (pe - change_day) / (pe - ps)
    seg, cycle = subs.segment[idx], subs.cycle[idx]
    history.changes.append(
        {
            "sub": subs.sub[idx],
            "cust": subs.cust[idx],
            "currency": subs.currency[idx],
            "change_day": change_day,
            "pe": pe,
            "credit_cents": -np.round(price_cents(seg, tier[idx], cycle) * share).astype(np.int64),
            "charge_cents": np.round(price_cents(seg, new_tier, cycle) * share).astype(np.int64),
            "issue_sec": random_seconds(rng, change_day, 8, 20),
        }
    )
    tier[idx] = new_tier


def _reactivations(
    rng: np.random.Generator,
    subs: Subscriptions,
    ended_idx: np.ndarray,
    ended_at: np.ndarray,
    end_day: int,
    first_id: int,
    annual_share: float,
) -> Subscriptions:
    """Some churned customers come back weeks or months later with a brand-new subscription."""
    back = rng.random(len(ended_idx)) < cat.REACTIVATION_RATE
    gap = cat.REACTIVATION_MIN_GAP_DAYS + rng.exponential(cat.REACTIVATION_MEAN_GAP_DAYS, len(ended_idx))
    start = ended_at + gap.astype(np.int64)
    take = back & (start <= end_day)
    idx = ended_idx[take]
    order = np.lexsort((subs.sub[idx], start[take]))
    idx, start = idx[order], start[take][order]
    return new_subscriptions(
        rng, first_id, subs.cust[idx], subs.segment[idx], subs.currency[idx], start, annual_share
    )
