"""Data quality: reconciliation identities, Great Expectations suites and landing-feed warnings as Dagster
asset checks. `quality_checks()` returns them all; they need the resources `warehouse` and `quality`
(`QualitySettings`). Great Expectations is imported only when a suite runs."""

from pipeline.quality.checks import quality_checks
from pipeline.quality.settings import QualitySettings

__all__ = ["QualitySettings", "quality_checks"]
