"""Deterministic, realistic sample data for the landing folder (see docs/sample-data.md)."""

from pipeline.sample_data.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
