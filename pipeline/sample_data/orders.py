"""Shop orders from irregular buyers: each has their own purchase rhythm and may lapse after any purchase.

Gaps between purchases are gamma-distributed around a customer-specific mean; after each purchase the
customer drops out with a customer-specific probability (a BG/NBD-like process), so some buy for years and
some only once. The loop runs per purchase number, vectorised over the customers still buying.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.sample_data import catalog as cat
from pipeline.sample_data.days import SECONDS_PER_DAY, random_seconds
from pipeline.sample_data.density import STANDARD, Density

COMPLETED, REFUNDED = cat.ORDER_STATUSES.index("completed"), cat.ORDER_STATUSES.index("refunded")


def build_order_rows(
    rng: np.random.Generator, customers: pd.DataFrame, end_day: int, density: Density = STANDARD
) -> pd.DataFrame:
    """Order rows (originals plus refund restatements), sorted by file day and order time."""
    shop = customers[customers["kind"].to_numpy() != 0]
    cust_idx, day = _purchase_days(rng, shop["created_day"].to_numpy(), end_day, density)
    segment = shop["segment"].to_numpy()[cust_idx]
    median = np.asarray(cat.ORDER_MEDIAN_CENTS, dtype=np.float64)[segment]
    cents = np.maximum(np.round(median * rng.lognormal(0.0, cat.ORDER_SIGMA, len(day))), 100).astype(np.int64)
    originals = {
        "cust": shop["cust"].to_numpy(np.int32)[cust_idx],
        "ordered_sec": random_seconds(rng, day, 6, 24),
        "cents": cents,
        "currency": shop["currency"].to_numpy(np.int8)[cust_idx],
        "status": rng.choice(len(cat.ORDER_STATUSES), size=len(day), p=cat.ORDER_STATUS_SHARES).astype(
            np.int8
        ),
    }
    numbers = np.empty(len(day), dtype=np.int64)
    numbers[np.lexsort((originals["cust"], originals["ordered_sec"]))] = np.arange(1, len(day) + 1)
    originals["order_no"] = numbers
    originals["file_day"] = (originals["ordered_sec"] // SECONDS_PER_DAY).astype(np.int32)
    restated = _refund_restatements(rng, originals, end_day)
    frame = pd.DataFrame({k: np.concatenate([originals[k], restated[k]]) for k in originals})
    order = np.lexsort((frame["order_no"], frame["ordered_sec"], frame["file_day"]))
    return frame.iloc[order].reset_index(drop=True)


def _purchase_days(
    rng: np.random.Generator, first_day: np.ndarray, end_day: int, density: Density
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, purchase day) of every purchase up to end_day."""
    n = len(first_day)
    low, high = np.log(density.purchase_mean_gap_days)
    mean_gap = np.exp(rng.uniform(low, high, n))
    dropout = rng.beta(*density.dropout_beta, n)
    day = first_day.astype(np.int64) + rng.integers(0, 3, n)
    idx = np.arange(n)
    found_idx: list[np.ndarray] = []
    found_day: list[np.ndarray] = []
    while idx.size:
        idx = idx[day[idx] <= end_day]
        found_idx.append(idx)
        found_day.append(day[idx])
        gap = rng.gamma(cat.PURCHASE_GAP_SHAPE, mean_gap[idx] / cat.PURCHASE_GAP_SHAPE)
        day[idx] += np.maximum(np.round(gap), 1).astype(np.int64)
        idx = idx[rng.random(idx.size) >= dropout[idx]]
    return np.concatenate(found_idx), np.concatenate(found_day)


def _refund_restatements(
    rng: np.random.Generator, originals: dict[str, np.ndarray], end_day: int
) -> dict[str, np.ndarray]:
    """A few completed orders are re-sent weeks later with status refunded."""
    n = len(originals["cust"])
    pick = (originals["status"] == COMPLETED) & (rng.random(n) < cat.ORDER_LATE_REFUND_RATE)
    file_day = originals["file_day"] + rng.integers(5, 41, n)
    keep = pick & (file_day <= end_day)
    restated = {k: v[keep] for k, v in originals.items()}
    restated["status"] = np.full(int(keep.sum()), REFUNDED, np.int8)
    restated["file_day"] = file_day[keep].astype(np.int32)
    return restated
