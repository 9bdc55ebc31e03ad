"""The customer base: who arrives when, what they buy (subscription, shop or both), where they live.

Customer numbers follow the creation time, so cus_000001 is the oldest customer; every later step draws its
behaviour from these arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sample_data import catalog as cat
from pipeline.sample_data.days import SECONDS_PER_DAY

GROWTH_FACTOR = 3.0  # the daily arrival rate at the end is this multiple of the rate at the start


def arrival_seconds(rng: np.random.Generator, n: int, first_day: int, last_day: int) -> np.ndarray:
    """Sorted creation times following an exponential growth curve over [first_day, last_day].

    Inverse-CDF sampling of a density proportional to exp(g t), so the business acquires more customers
    per day as it grows, like a real company would.
    """
    span = (last_day - first_day + 1) * SECONDS_PER_DAY
    growth = np.log(GROWTH_FACTOR) / span
    u = rng.random(n)
    offset = np.log1p(u * np.expm1(growth * span)) / growth
    seconds = first_day * SECONDS_PER_DAY + np.minimum(offset.astype(np.int64), span - 1)
    return np.sort(seconds)


def generate_customers(rng: np.random.Generator, n: int, first_day: int, last_day: int) -> pd.DataFrame:
    """One row per customer with integer codes that index into the catalog vocabularies."""
    created_sec = arrival_seconds(rng, n, first_day, last_day)
    kind = rng.choice(len(cat.KINDS), size=n, p=cat.KIND_SHARES).astype(np.int8)
    business_segment = rng.choice(3, size=n, p=cat.SUBSCRIBER_SEGMENT_SHARES)
    segment = np.where(kind == 1, cat.CONSUMER, business_segment).astype(np.int8)
    country = rng.choice(len(cat.COUNTRIES), size=n, p=cat.COUNTRY_SHARES).astype(np.int8)
    currency = np.asarray(cat.COUNTRY_CURRENCY, dtype=np.int8)[country]
    return pd.DataFrame(
        {
            "cust": np.arange(1, n + 1, dtype=np.int64),
            "created_sec": created_sec,
            "created_day": (created_sec // SECONDS_PER_DAY).astype(np.int64),
            "kind": kind,
            "segment": segment,
            "country": country,
            "currency": currency,
            "first_name": rng.integers(0, len(cat.FIRST_NAMES), size=n, dtype=np.int16),
            "last_name": rng.integers(0, len(cat.LAST_NAMES), size=n, dtype=np.int16),
            "company_word": rng.integers(0, len(cat.COMPANY_WORDS), size=n, dtype=np.int16),
            "company_suffix": rng.integers(0, len(cat.COMPANY_SUFFIXES), size=n, dtype=np.int16),
        }
    )
