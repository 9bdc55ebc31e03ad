"""Which failures are worth a retry.

Every asset that touches the warehouse carries `WAREHOUSE_RETRY_POLICY`. A retry only helps when the cause
can go away by itself: another process holding DuckDB's file lock (a query from a notebook, a UI reader at
the wrong moment), a file system hiccup, memory pressure from something else on the machine. A wrong SQL
model or a failed test fails the same way every time, so those are raised as `dg.Failure(allow_retries=False)`
and the run stops at once with the real message.
"""

from __future__ import annotations

import dagster as dg

WAREHOUSE_RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)

TRANSIENT_MARKERS = (
    "could not set lock",
    "conflicting lock",
    "resource temporarily unavailable",
    "database is locked",
    "out of memory",
    "no space left on device",
    "connection reset",
)


def is_transient(message: str) -> bool:
    text = message.lower()
    return any(marker in text for marker in TRANSIENT_MARKERS)


def permanent_unless_transient(error: BaseException) -> BaseException:
    """The error to raise from a step: as it is when a retry may help, else a Failure that is not retried."""
    if is_transient(str(error)):
        return error
    return dg.Failure(description=str(error), allow_retries=False)
