"""Planning assets, one partition per cycle: each reads, calls sop_pipeline, writes, reports."""


import numpy as np
import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
)

from assets.partitions import cycle_partitions
from assets.resources import WAREHOUSE_POOL
from sop_pipeline.cycle import month_start
from sop_pipeline.report.sparkline import sparkline_markdown
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import replace_cycle_rows

PREVIEW_ROWS = 10
# What every planning asset shares: one partition per cycle, one writer at a time.
PLANNING = {"partitions_def": cycle_partitions, "pool": WAREHOUSE_POOL,
            "kinds": {"duckdb", "python"}}


def cycle_of(context: AssetExecutionContext) -> pd.Timestamp:
    return month_start(context.partition_key)


def write_cycle_table(
    con, context: AssetExecutionContext, name: str, rows: pd.DataFrame, **metadata
) -> MaterializeResult:
    """Replace this cycle's rows of table `name`; return the materialization with its table
    name, column schema, a preview (of the selected model's rows where the table marks one)
    and `metadata` made readable."""
    cycle_month = cycle_of(context)
    count = replace_cycle_rows(con, name, cycle_month, rows, run_id=context.run_id)
    context.log.info(f"{name}: {count:,} rows for cycle {context.partition_key}")
    shown = rows[rows["is_selected"].astype(bool)] if "is_selected" in rows.columns else rows
    return MaterializeResult(
        asset_key=AssetKey(name),
        metadata={
            "dagster/row_count": count,
            "dagster/table_name": f"main.{name}",
            "dagster/column_schema": column_schema(OUTPUT_TABLES[name].columns),
            "preview": MetadataValue.md(markdown_table(shown.head(PREVIEW_ROWS))),
            **{key: readable(value) for key, value in metadata.items()},
        },
    )


def column_schema(columns) -> TableSchema:
    """A Dagster column schema of (name, type, description) columns (tables.py, contract)."""
    return TableSchema(columns=[TableColumn(name, sql_type, description=description)
                                for name, sql_type, description in columns])


def readable(value):
    """A metadata value as a person reads it: floats rounded to what matters (whole above
    1,000, 2 decimals above 1, 4 significant digits below), dictionaries as markdown tables."""
    if isinstance(value, bool | int | MetadataValue) or value is None:
        return value
    if isinstance(value, float | np.floating):
        value = float(value)
        if not np.isfinite(value) or value == 0:
            return value
        if abs(value) >= 1000:
            return round(value)
        return round(value, 2) if abs(value) >= 1 else float(f"{value:.4g}")
    if isinstance(value, dict):
        table = pd.DataFrame({"key": list(value), "value": [readable(v) for v in value.values()]})
        return MetadataValue.md(markdown_table(table))
    return value


def monthly_chart(frame: pd.DataFrame, column: str, how: str = "sum") -> MetadataValue:
    """A small unicode chart of `column` aggregated by month, for the asset's metadata."""
    if frame.empty:
        return MetadataValue.md("_no rows_")
    by_month = frame.groupby("month")[column].agg(how).sort_index()
    first, last = by_month.index[0], by_month.index[-1]
    return MetadataValue.md(f"{column} ({how}) by month, {first:%Y-%m} to {last:%Y-%m}: "
                            + sparkline_markdown(by_month.to_list()))


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_no rows_"
    shown = frame.round(3).astype(str)
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "---|" * len(shown.columns)
    body = ["| " + " | ".join(row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *body])
