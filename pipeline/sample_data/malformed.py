"""The few deliberately broken invoice rows that let a demo run show the quarantine at work.

Exactly three extra rows are added to the invoice files, each a copy of a randomly chosen (seed-dependent)
renewal line under a fresh invoice number (the three highest numbers), so no valid row is lost or replaced:

1. `period_start` written as `DD.MM.YYYY` instead of `YYYY-MM-DD` (an unparseable date),
2. `status` = `pending` (not an allowed invoice status),
3. `amount` = `n/a` (not a number).

Each lands in the same daily file as the row it copies.
"""

from __future__ import annotations

import numpy as np

BAD_DATE, BAD_STATUS, BAD_AMOUNT = 1, 2, 3
BAD_STATUS_VALUE = "pending"
BAD_AMOUNT_VALUE = "n/a"
BAD_DATE_FORMAT = "%d.%m.%Y"  # strftime format of the broken period_start
MALFORMED_COLUMNS = {BAD_DATE: "period_start", BAD_STATUS: "status", BAD_AMOUNT: "amount"}


def add_malformed_invoice_rows(
    rng: np.random.Generator, rows: dict[str, np.ndarray], n_billing: int
) -> dict[str, np.ndarray]:
    """Append the three malformed rows (marked in the `bad` column with their BAD_* code)."""
    source = np.sort(rng.choice(n_billing, size=len(MALFORMED_COLUMNS), replace=False))
    extra = {k: v[source].copy() for k, v in rows.items()}
    first = int(rows["inv"].max()) + 1
    extra["inv"] = np.arange(first, first + len(source), dtype=np.int64)
    extra["line"] = np.ones(len(source), np.int8)
    extra["bad"] = np.asarray(sorted(MALFORMED_COLUMNS), dtype=np.int8)
    return {k: np.concatenate([rows[k], extra[k]]) for k in rows}
