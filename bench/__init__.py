"""The benchmark harness of issue 7: times the whole pipeline, a nightly increment and a raw-DuckDB reference.

Everything is measured from the outside, on whole processes, so the numbers include what a user waits for
(Python and Dagster imports, dbt start-up) and nothing in the pipeline needs to know it is being measured.
"""
