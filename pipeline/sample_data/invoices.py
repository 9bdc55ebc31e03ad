"""Invoice rows as the daily export shows them: numbering, voids, late arrivals, restatements, malformed rows.

Input are the billing lines and plan changes of the subscription simulation and the add-on lines (none in the
standard density); output is one frame with a `file_day` per row (the day whose file carries it), ready for
the writer. Add-on lines of a renewal invoice land in the file of its plan line and follow its restatements,
as an export that sends whole invoices would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.ingest.contract import INVOICE_STATUSES
from pipeline.sample_data import catalog as cat
from pipeline.sample_data.addons import AddonLines
from pipeline.sample_data.days import SECONDS_PER_DAY
from pipeline.sample_data.malformed import add_malformed_invoice_rows
from pipeline.sample_data.subscriptions import OPEN_RECOVERED, OPEN_UNCOLLECTIBLE, PAID

STATUS = {name: code for code, name in enumerate(INVOICE_STATUSES)}
COLUMNS = ("inv", "line", "cust", "sub", "cents", "currency", "ps", "pe", "status", "issue_sec")


def build_invoice_rows(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    changes: pd.DataFrame,
    end_day: int,
    addons: AddonLines | None = None,
) -> pd.DataFrame:
    """All invoice rows, originals and restatements, sorted by file day and issue time."""
    addons = addons if addons is not None else AddonLines.empty()
    inv_billing, inv_change, inv_buy = _invoice_numbers(lines, changes, addons.buys)
    billing = _billing_rows(lines, inv_billing)
    addon_count = np.bincount(addons.renewal["base"].to_numpy(), minlength=len(lines))
    buys = _buy_rows(addons.buys, inv_buy)
    originals = _concat(
        [billing, *_change_rows(changes, inv_change), _void_duplicates(rng, billing, addon_count), buys]
    )
    originals["file_day"] = _late_file_days(rng, originals["issue_sec"], end_day)
    restated, fate = _restatements(rng, originals, lines["outcome"].to_numpy(), len(billing["inv"]), end_day)
    on_renewals = _renewal_addon_rows(originals, addons.renewal)
    base = addons.renewal["base"].to_numpy()
    rows = _concat([originals, restated, on_renewals, _restated_addons(on_renewals, base, fate)])
    rows["bad"] = np.zeros(len(rows["inv"]), dtype=np.int8)
    rows = add_malformed_invoice_rows(rng, rows, len(billing["inv"]))
    frame = pd.DataFrame(rows)
    order = np.lexsort((frame["line"], frame["inv"], frame["issue_sec"], frame["file_day"]))
    return frame.iloc[order].reset_index(drop=True)


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _invoice_numbers(
    lines: pd.DataFrame, changes: pd.DataFrame, buys: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number invoices in issue order, so inv_ numbers grow with time like a real billing system's."""
    parts = (lines, changes, buys)
    issue = np.concatenate([p["issue_sec"].to_numpy() for p in parts])
    sub = np.concatenate([p["sub"].to_numpy() for p in parts])
    kind = np.concatenate([np.full(len(p), code, np.int8) for code, p in enumerate(parts)])
    numbers = np.empty(len(issue), dtype=np.int64)
    numbers[np.lexsort((kind, sub, issue))] = np.arange(1, len(issue) + 1)
    cuts = np.cumsum([len(lines), len(changes)])
    return tuple(np.split(numbers, cuts))


def _row(inv, line, src, cents, ps, pe, status) -> dict[str, np.ndarray]:
    n = len(inv)
    return {
        "inv": inv,
        "line": np.full(n, line, np.int8),
        "cust": src["cust"].to_numpy(np.int32),
        "sub": src["sub"].to_numpy(np.int32),
        "cents": np.asarray(cents, np.int64),
        "currency": src["currency"].to_numpy(np.int8),
        "ps": np.asarray(ps, np.int32),
        "pe": np.asarray(pe, np.int32),
        "status": np.asarray(status, np.int8),
        "issue_sec": src["issue_sec"].to_numpy(np.int64),
    }


def _billing_rows(lines: pd.DataFrame, inv: np.ndarray) -> dict[str, np.ndarray]:
    """Renewal lines: paid at once, or open when the payment failed."""
    status = np.where(lines["outcome"].to_numpy() == PAID, STATUS["paid"], STATUS["open"])
    return _row(inv, 1, lines, lines["cents"], lines["ps"], lines["pe"], status)


def _change_rows(changes: pd.DataFrame, inv: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Line 1 credits the unused rest of the old plan, line 2 charges the new plan for the same days."""
    paid = np.full(len(changes), STATUS["paid"])
    credit = _row(inv, 1, changes, changes["credit_cents"], changes["change_day"], changes["pe"], paid)
    charge = _row(inv, 2, changes, changes["charge_cents"], changes["change_day"], changes["pe"], paid)
    return [credit, charge]


def _buy_rows(buys: pd.DataFrame, inv: np.ndarray) -> dict[str, np.ndarray]:
    """Mid-period add-on purchases: one paid, prorated line on an invoice of its own."""
    return _row(inv, 1, buys, buys["cents"], buys["ps"], buys["pe"], np.full(len(buys), STATUS["paid"]))


def _void_duplicates(
    rng: np.random.Generator, billing: dict[str, np.ndarray], addon_count: np.ndarray
) -> dict[str, np.ndarray]:
    """A few renewal invoices carry a duplicated plan line after their other lines, voided."""
    pick = rng.random(len(billing["inv"])) < cat.VOID_DUPLICATE_RATE
    dup = {k: v[pick] for k, v in billing.items()}
    dup["line"] = (2 + addon_count[pick]).astype(np.int8)
    dup["status"] = np.full(int(pick.sum()), STATUS["void"], np.int8)
    return dup


def _late_file_days(rng: np.random.Generator, issue_sec: np.ndarray, end_day: int) -> np.ndarray:
    """Most rows land in their issue day's file; LATE_RATE of them one or more days later."""
    day = issue_sec // SECONDS_PER_DAY
    late = rng.random(len(day)) < cat.LATE_RATE
    delay = np.where(late, rng.geometric(0.3, len(day)), 0)
    return np.minimum(day + delay, end_day).astype(np.int32)


def _restatements(
    rng: np.random.Generator,
    originals: dict[str, np.ndarray],
    outcome: np.ndarray,
    n_billing: int,
    end_day: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Re-sent rows with a new status: dunning (open -> paid/uncollectible) and refunds (paid -> refunded).

    Also returns, per plan line, whether it is re-sent, with which status and in which file, for its add-ons.
    """
    billing = {k: v[:n_billing] for k, v in originals.items()}
    n = n_billing
    refund = (outcome == PAID) & (rng.random(n) < cat.REFUND_RATE)
    delay = np.select(
        [outcome == OPEN_RECOVERED, outcome == OPEN_UNCOLLECTIBLE, refund],
        [rng.integers(3, 21, n), rng.integers(20, 46, n), rng.integers(3, 41, n)],
        default=-1,
    )
    new_status = np.select(
        [outcome == OPEN_RECOVERED, outcome == OPEN_UNCOLLECTIBLE],
        [STATUS["paid"], STATUS["uncollectible"]],
        default=STATUS["refunded"],
    )
    file_day = np.maximum(billing["issue_sec"] // SECONDS_PER_DAY + delay, billing["file_day"] + 1)
    keep = (delay >= 0) & (file_day <= end_day)
    restated = {k: v[keep] for k, v in billing.items()}
    restated["status"] = new_status[keep].astype(np.int8)
    restated["file_day"] = file_day[keep].astype(np.int32)
    return restated, {"keep": keep, "status": new_status.astype(np.int8), "file_day": file_day.astype(np.int32)}


def _renewal_addon_rows(originals: dict[str, np.ndarray], renewal: pd.DataFrame) -> dict[str, np.ndarray]:
    """Add-on lines of renewal invoices: the plan line's invoice, period, status and file, their own amount."""
    base = renewal["base"].to_numpy()
    rows = {k: v[base] for k, v in originals.items()}
    rows["line"] = renewal["line"].to_numpy(np.int8)
    rows["cents"] = renewal["cents"].to_numpy(np.int64)
    return rows


def _restated_addons(
    on_renewals: dict[str, np.ndarray], base: np.ndarray, fate: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Add-on lines are re-sent with their plan line: same new status, same later file."""
    keep = fate["keep"][base]
    rows = {k: v[keep] for k, v in on_renewals.items()}
    rows["status"] = fate["status"][base][keep]
    rows["file_day"] = fate["file_day"][base][keep]
    return rows
