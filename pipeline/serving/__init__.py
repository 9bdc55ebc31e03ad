"""Publishing: the serving DuckDB file that the report, the export and every reader open, never the warehouse."""
