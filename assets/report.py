"""Report stage: the headline figures, the S&OP pack and the publication for BI tools."""


import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.checks import check_result, check_spec
from assets.planning import PLANNING, cycle_of, write_cycle_table
from assets.resources import SopSettings
from sop_pipeline.report.checks import publication_problems, published_counts
from sop_pipeline.report.pack import (
    pack_path,
    pack_problems,
    pack_sections,
    staged_pack_path,
    write_pack,
)
from sop_pipeline.report.publish import publish, read_manifest
from sop_pipeline.review.checks import summary_problems
from sop_pipeline.review.stage import summary_stage
from sop_pipeline.tables import OUTPUT_TABLES

PLANNING_TABLES = [AssetKey(name) for name in OUTPUT_TABLES if name != "cycle_summary"]
ONE_SUMMARY_ROW = check_spec(
    "one_summary_row", "cycle_summary", blocking=True,
    description="Exactly one row for the cycle, no negative count of skus or alerts.")
MANIFEST_MATCHES = check_spec(
    "manifest_matches_tables", "published_tables", blocking=True,
    description="manifest.json lists every published table, and its rows per table are "
                "the rows of the serving file and of the Parquet version it points at.")


@asset(
    deps=PLANNING_TABLES, group_name="report", **PLANNING,
    description=OUTPUT_TABLES["cycle_summary"].description,
    check_specs=[ONE_SUMMARY_ROW],
)
def cycle_summary(context: AssetExecutionContext, sop: SopSettings):
    with sop.connect() as con:
        row = summary_stage(con, cycle_of(context))
        figures = {column: float(value) for column, value in row.iloc[0].items()
                   if isinstance(value, (int, float, np.number)) and not np.isnan(value)}
        yield write_cycle_table(con, context, "cycle_summary", row, **figures)
    yield check_result(context, ONE_SUMMARY_ROW, summary_problems(row))


@asset(
    deps=[AssetKey("cycle_summary"), *PLANNING_TABLES], group_name="report",
    **{**PLANNING, "kinds": {"html", "plotly"}},
    description="The S&OP pack: one self-contained HTML report of the cycle the S&OP "
                "meeting decides from (decisions, scenarios side by side, the adopted plan in "
                "money, budget gap, demand and what changed, assumptions, supply vs demand, "
                "capacity, inventory risk, plan vs actual, forecast waterfall and value "
                "added, top alerts).",
    check_specs=[AssetCheckSpec("pack_is_complete", asset="sop_pack",
                                description="Every section is present, every chart has data, "
                                            "nothing is loaded from the network.")],
)
def sop_pack(context: AssetExecutionContext, sop: SopSettings):
    cycle_month = cycle_of(context)
    with sop.connect() as con:
        staged = write_pack(con, cycle_month, sop.warehouse_path(),
                            service_level=sop.service_level, staged=True)
    problems = pack_problems(staged.read_text())
    path = pack_path(sop.warehouse_path(), cycle_month)
    context.log.info(f"S&OP pack of {context.partition_key}: {path} (in place once published)")
    yield MaterializeResult(metadata={
        "path": MetadataValue.path(str(path)),
        "size_mib": round(staged.stat().st_size / 2**20, 2),
        "sections": ", ".join(pack_sections()),
    })
    yield AssetCheckResult(check_name="pack_is_complete", passed=not problems,
                           metadata={"problems": "; ".join(problems) or "none"})


@asset(
    deps=[*PLANNING_TABLES, AssetKey("cycle_summary"), AssetKey("sop_pack")],
    group_name="report",
    **{**PLANNING, "kinds": {"duckdb", "parquet"}},
    description="The output tables copied for BI tools to a serving DuckDB file (readable by "
                "DuckDB 0.10 and later) and to Parquet, swapped in atomically after a "
                "successful cycle.",
    check_specs=[MANIFEST_MATCHES],
)
def published_tables(context: AssetExecutionContext, sop: SopSettings):
    warehouse_dir, cycle_month = sop.warehouse_path(), cycle_of(context)
    staged = staged_pack_path(warehouse_dir, cycle_month)
    # the cycle's new pack goes in with the tables, or neither does
    alongside = {staged: pack_path(warehouse_dir, cycle_month)} if staged.exists() else {}
    with sop.connect() as con:
        publication = publish(con, warehouse_dir, OUTPUT_TABLES, alongside=alongside)
    context.log.info(f"published version {publication.version} to "
                     f"{publication.serving_path} in {publication.seconds:.1f} s")
    yield MaterializeResult(metadata={
        "serving_file": MetadataValue.path(str(publication.serving_path)),
        "parquet_dir": MetadataValue.path(str(publication.parquet_dir)),
        "version": publication.version,
        **{f"rows/{name}": rows for name, rows in publication.tables.items()},
    })
    manifest = read_manifest(warehouse_dir)
    counts = published_counts(warehouse_dir, manifest) if manifest else ({}, {})
    yield check_result(context, MANIFEST_MATCHES,
                       publication_problems(manifest, OUTPUT_TABLES, *counts))
