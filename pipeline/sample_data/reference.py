"""The smaller side entities: FX rates, marketing spend and cancellation-survey answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sample_data import catalog as cat
from pipeline.sample_data.days import SECONDS_PER_DAY, month_start, random_seconds


def build_fx_rates(rng: np.random.Generator, first_day: int, end_day: int) -> pd.DataFrame:
    """Daily rates per non-reporting currency: a mean-reverting random walk of the log rate around its center.

    Mean reversion keeps three years of noise from drifting to implausible levels.
    """
    days = np.arange(first_day, end_day + 1, dtype=np.int64)
    shocks = rng.normal(0.0, cat.FX_DAILY_VOL, size=(len(days), len(cat.FX_CURRENCIES)))
    log_dev = np.empty_like(shocks)
    level = np.zeros(len(cat.FX_CURRENCIES))
    for i in range(len(days)):
        level = level * (1.0 - cat.FX_REVERSION) + shocks[i]
        log_dev[i] = level
    rates = np.round(np.asarray(cat.FX_CENTER) * np.exp(log_dev), 8)
    return pd.DataFrame(
        {
            "day": np.repeat(days, len(cat.FX_CURRENCIES)).astype(np.int32),
            "currency": np.tile(np.arange(len(cat.FX_CURRENCIES), dtype=np.int8), len(days)),
            "rate": rates.ravel(),
            "file_month": np.repeat(month_start(days), len(cat.FX_CURRENCIES)).astype(np.int32),
        }
    )


def build_acquisition_costs(
    rng: np.random.Generator, customers: pd.DataFrame, first_day: int, end_day: int
) -> pd.DataFrame:
    """Monthly spend per channel, proportional to the customers acquired that month with some noise."""
    months = np.unique(month_start(np.arange(first_day, end_day + 1)))
    acquired = np.bincount(
        np.searchsorted(months, month_start(customers["created_day"].to_numpy()), "right") - 1,
        minlength=len(months),
    )
    shares = np.asarray(cat.CHANNEL_SHARES) * np.asarray(cat.CHANNEL_CAC)
    noise = rng.lognormal(0.0, 0.15, size=(len(months), len(cat.CHANNELS)))
    cents = np.round(acquired[:, None] * shares[None, :] * noise * 100).astype(np.int64)
    return pd.DataFrame(
        {
            "period_start": np.repeat(months, len(cat.CHANNELS)).astype(np.int32),
            "channel": np.tile(np.arange(len(cat.CHANNELS), dtype=np.int8), len(months)),
            "cents": cents.ravel(),
            "file_month": np.repeat(months, len(cat.CHANNELS)).astype(np.int32),
        }
    )


def build_churn_feedback(rng: np.random.Generator, cancellations: pd.DataFrame, end_day: int) -> pd.DataFrame:
    """Survey answers for about FEEDBACK_RATE of cancellations, a few days after the cancellation."""
    n = len(cancellations)
    answered = rng.random(n) < cat.FEEDBACK_RATE
    day = cancellations["cancel_day"].to_numpy() + rng.integers(0, cat.FEEDBACK_MAX_DELAY_DAYS + 1, n)
    submitted = random_seconds(rng, day)
    reason = rng.choice(len(cat.REASONS), size=n, p=cat.REASON_SHARES).astype(np.int8)
    comment = np.where(rng.random(n) < cat.FEEDBACK_COMMENT_RATE, reason, -1).astype(np.int8)
    keep = answered & (day <= end_day)
    frame = pd.DataFrame(
        {
            "cust": cancellations["cust"].to_numpy(np.int32)[keep],
            "submitted_sec": submitted[keep],
            "reason": reason[keep],
            "comment": comment[keep],
        }
    )
    frame = frame.drop_duplicates(["cust", "submitted_sec"])
    frame = frame.iloc[np.lexsort((frame["cust"], frame["submitted_sec"]))].reset_index(drop=True)
    frame["file_day"] = (frame["submitted_sec"] // SECONDS_PER_DAY).astype(np.int32)
    return frame
