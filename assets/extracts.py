"""Land the extract files in DuckDB's `raw` schema: one asset per contract entity."""


from collections.abc import Sequence

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.planning import column_schema
from assets.resources import WAREHOUSE_POOL, SopSettings
from sop_pipeline import demo
from sop_pipeline.ingest.contract import ENTITIES, Entity
from sop_pipeline.ingest.dbt_sources import LOG_TABLES, META_DESCRIPTIONS
from sop_pipeline.ingest.landing import land_extracts
from sop_pipeline.ingest.pipedrive import DATASET, PipedriveSettings
from sop_pipeline.ingest.pipedrive_map import CONTRACT_ENTITIES as CRM_ENTITIES
from sop_pipeline.ingest.pipedrive_map import contract_frames

QUARANTINE_KEY = AssetKey(["raw", "quarantine"])
META_TYPES = {"_row_number": "BIGINT", "_loaded_at": "TIMESTAMP"}


def raw_columns(entity: Entity) -> list[tuple[str, str, str]]:
    """The raw table's columns as landed: the contract's (text from CSV, whatever Parquet
    typed) and the load metadata."""
    return [*((c.name, "VARCHAR", f"{c.description} (contract: {c.kind})")
              for c in entity.columns),
            *((name, META_TYPES.get(name, "VARCHAR"), text)
              for name, text in META_DESCRIPTIONS.items())]


# The keys match the dbt sources (`source('raw', 'erp_items')`), so lineage joins up.
def raw_specs(crm_deps: Sequence[AssetKey] = ()) -> list[AssetSpec]:
    """One spec per contract entity and the quarantine; the CRM's depend on `crm_deps` (the
    pulled raw_crm tables) when the CRM is pulled."""
    return [
        AssetSpec(["raw", e.table], description=e.description, group_name="extracts",
                  kinds={"duckdb"}, deps=list(crm_deps) if e.name in CRM_ENTITIES else [],
                  metadata={"contract_file": e.name, "required": e.required,
                            "dagster/table_name": f"raw.{e.table}",
                            "dagster/column_schema": column_schema(raw_columns(e))})
        for e in ENTITIES
    ] + [
        AssetSpec(QUARANTINE_KEY, group_name="extracts", kinds={"duckdb"},
                  description="Rows that broke a row-level contract rule, with the reason.",
                  metadata={"dagster/table_name": "raw.quarantine",
                            "dagster/column_schema": column_schema(
                                [(name, "VARCHAR", text)
                                 for name, text in LOG_TABLES["quarantine"][1].items()])})
    ]


def build_raw_extracts(crm_deps: Sequence[AssetKey] = ()) -> AssetsDefinition:
    """The landing asset; with `crm_deps` the CRM entities come from the Pipedrive pull
    (raw_crm, mapped by sop_pipeline.ingest.pipedrive_map), not from the folder's files."""

    @multi_asset(
        name="raw_extracts",
        specs=raw_specs(crm_deps),
        pool=WAREHOUSE_POOL,
        check_specs=[AssetCheckSpec("no_quarantined_rows", asset=QUARANTINE_KEY,
                                    description="Warns when any extract row was quarantined.")],
    )
    def raw_extracts(context: AssetExecutionContext, sop: SopSettings):
        """Read every extract file, enforce the contract and land it as it came, with load
        metadata."""
        extracts_dir = sop.extracts_path()
        if not sop.extracts_dir and demo.ensure_demo_company(extracts_dir):
            context.log.info(f"Generated the bundled demo company in {extracts_dir}")
        settings = PipedriveSettings.from_env() if crm_deps else None
        crm_source = (f"pipedrive {settings.base_url} ({DATASET})" if settings
                      else f"extracts folder {extracts_dir}")
        with sop.connect() as con:
            pulled = contract_frames(con, crm_source) if settings else None
            report = land_extracts(con, extracts_dir, pulled=pulled)
        context.log.info(f"The CRM (crm/accounts, crm/deals) came from the {crm_source}")
        context.log.info(report.summary())
        if report.absent_optional:
            context.log.warning("Absent optional inputs: " + ", ".join(report.absent_optional))
        yield from _results(report, crm_source)

    return raw_extracts


def _results(report, crm_source: str):
    for load, entity in zip(report.entities, ENTITIES, strict=True):
        crm = {"crm_source": crm_source} if entity.name in CRM_ENTITIES else {}
        yield MaterializeResult(
            asset_key=["raw", entity.table],
            # the file's content is the raw table's version: a new hash, new data downstream
            data_version=DataVersion(load.file_hash) if load.file_hash else None,
            metadata={
                "status": load.status,
                "source_file": MetadataValue.path(load.source_file or "(absent)"),
                "file_hash": load.file_hash or "",
                "dagster/row_count": load.rows,
                "quarantined_rows": load.quarantined,
                "load_id": report.load_id,
                **crm,
            },
        )
    problems = "\n\n".join(p for e in report.entities for p in e.problems)
    yield MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={"dagster/row_count": report.quarantined,
                  "problems": MetadataValue.md(f"```\n{problems or 'none'}\n```")},
    )
    yield AssetCheckResult(
        check_name="no_quarantined_rows", asset_key=QUARANTINE_KEY,
        passed=report.quarantined == 0, severity=AssetCheckSeverity.WARN,
        metadata={"quarantined_rows": report.quarantined},
    )
