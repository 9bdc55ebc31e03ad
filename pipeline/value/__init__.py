"""Customer-value models (purchase frequency, survival) fitted on per-customer summaries."""
