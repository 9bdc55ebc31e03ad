"""What the pipeline tells people: run summaries, later charts and reports."""
