"""What the pipeline tells people: the run summary, the charts in the Dagster UI and the HTML report."""
