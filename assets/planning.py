"""Planning assets, one partition per cycle: each reads, calls sop_pipeline, writes, reports."""


import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue

from assets.partitions import cycle_partitions
from assets.resources import WAREHOUSE_POOL
from sop_pipeline.cycle import month_start
from sop_pipeline.report.sparkline import sparkline_markdown
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
    """Replace this cycle's rows of table `name`; return the materialization with a preview."""
    cycle_month = cycle_of(context)
    count = replace_cycle_rows(con, name, cycle_month, rows)
    context.log.info(f"{name}: {count:,} rows for cycle {context.partition_key}")
    return MaterializeResult(
        asset_key=AssetKey(name),
        metadata={
            "dagster/row_count": count,
            "table": f"main.{name}",
            "preview": MetadataValue.md(markdown_table(rows.head(PREVIEW_ROWS))),
            **metadata,
        },
    )


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
