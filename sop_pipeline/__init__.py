"""Sales & Operations Planning domain library: plain functions over pandas and DuckDB."""
