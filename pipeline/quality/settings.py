"""Thresholds of the data-quality checks, as a resource so they come from RETENTION_* settings.

A resource (not constants) because the thresholds are business choices: a nightly feed may be allowed to be
two days late in one company and two hours in another.
"""

from __future__ import annotations

import dagster as dg


class QualitySettings(dg.ConfigurableResource):
    """Thresholds of the warning checks and the size of the Great Expectations samples."""

    max_staleness_hours: float  # landing_data_is_fresh warns when the newest load is older
    max_quarantine_pct: float  # quarantine_share_within_limit warns above this % of the latest batch
    gx_sample_rows: int = 100_000  # GX suites validate at most this many rows per table (whole table if smaller)
    max_plausible_amount: float = 10_000_000.0  # |amount| above this in a raw row is implausible (a warning)
