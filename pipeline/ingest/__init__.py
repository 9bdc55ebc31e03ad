"""Landing files into raw DuckDB tables, with a manifest and a quarantine."""
