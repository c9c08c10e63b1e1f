"""The published planning tables: names, grains, column types and descriptions.

One declaration creates the DuckDB tables (with table and column comments that BI tools show)
and renders the README's data dictionary: the plan's tables in `plan.py`, the review's in
`review.py`, in the order the README lists them.
"""

from sop_pipeline.tables.declaration import (
    BASELINE,
    SERIES_KEY,
    SERIES_MONTH_KEY,
    OutputTable,
    nullable_text,
)
from sop_pipeline.tables.plan import PLAN_TABLES
from sop_pipeline.tables.review import REVIEW_TABLES

__all__ = ["BASELINE", "OUTPUT_TABLES", "SERIES_KEY", "SERIES_MONTH_KEY", "OutputTable",
           "nullable_text"]

OUTPUT_TABLES: dict[str, OutputTable] = {t.name: t for t in (*PLAN_TABLES, *REVIEW_TABLES)}
