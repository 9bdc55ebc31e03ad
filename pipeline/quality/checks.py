"""Every data-quality asset check, collected for Definitions."""

from __future__ import annotations

import dagster as dg

from pipeline.quality.gx_checks import gx_checks
from pipeline.quality.landing import landing_checks
from pipeline.quality.reconciliation import reconciliation_checks


def quality_checks() -> list[dg.AssetChecksDefinition]:
    """Reconciliation (blocking), Great Expectations suites (blocking on critical failures), and the landing
    warnings (freshness, quarantine share). They need the resources `warehouse` and `quality`."""
    return [*reconciliation_checks(), *gx_checks(), *landing_checks()]
