"""The monthly cycle as one job, and the planning half alone for cycles after the first."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from assets.partitions import cycle_partitions

PLANNING_GROUPS = ("demand", "supply", "scenarios", "variance", "alerts", "report")

# One DuckDB file allows one writer: every step runs in one process, one after another.
monthly_cycle_job = define_asset_job(
    "monthly_cycle",
    selection=AssetSelection.all(),
    partitions_def=cycle_partitions,
    executor_def=in_process_executor,
    description="Land the extracts, build the dbt models, then plan the cycle.",
)

planning_job = define_asset_job(
    "planning_only",
    selection=AssetSelection.groups(*PLANNING_GROUPS),
    partitions_def=cycle_partitions,
    executor_def=in_process_executor,
    description="Plan a cycle from the already built marts (backfills after one full run).",
)
