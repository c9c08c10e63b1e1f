"""The CRM pulled from Pipedrive with dlt: one asset per dlt resource (`raw_crm/<table>`),
upstream of the landed `raw/crm_accounts` and `raw/crm_deals`. In the code location only when
the pull is configured (PIPEDRIVE_API_TOKEN and PIPEDRIVE_COMPANY_DOMAIN or _BASE_URL)."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets.resources import WAREHOUSE_POOL, SopSettings
from sop_pipeline.ingest.pipedrive import (
    DATASET,
    PipedriveSettings,
    failure,
    pipedrive_pipeline,
    pipedrive_source,
)

DESCRIPTIONS = {
    "pipelines": "Pipedrive pipelines, as the API sent them (read whole each pull).",
    "stages": "Pipedrive stages with their deal_probability (read whole each pull).",
    "products": "Pipedrive products; `code` is the sku (read whole each pull).",
    "organizations": "Pipedrive organisations, the CRM accounts (incremental by update_time).",
    "deals": "Pipedrive deals, deleted ones included (incremental by update_time).",
    "deal_products": "The product lines of the deals each pull read (sku, quantity, price).",
}


class PipedriveTranslator(DagsterDltTranslator):
    """Keys `raw_crm/<resource>` in the extracts group; deal_products comes from deals."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        name = data.resource.name
        return super().get_asset_spec(data).replace_attributes(
            key=AssetKey([DATASET, name]), group_name="extracts",
            deps=[AssetKey([DATASET, "deals"])] if name == "deal_products" else [],
            description=DESCRIPTIONS.get(name, f"Pipedrive {name}."),
        ).merge_attributes(metadata={"dagster/table_name": f"{DATASET}.{name}"})


def build_pipedrive_assets(warehouse_dir: Path) -> AssetsDefinition:
    """The dlt assets. The definition's source has no token (it only names the resources);
    the run builds the source from the environment and loads into the run's warehouse."""

    @dlt_assets(
        dlt_source=pipedrive_source(None), dlt_pipeline=pipedrive_pipeline(warehouse_dir),
        name="pipedrive_crm", dagster_dlt_translator=PipedriveTranslator(), pool=WAREHOUSE_POOL,
    )
    def pipedrive_crm(context: AssetExecutionContext, dlt: DagsterDltResource,
                      sop: SopSettings):
        """Pull the CRM from Pipedrive into raw_crm; on failure nothing is loaded."""
        settings = PipedriveSettings.from_env()
        warehouse = sop.warehouse_path()
        context.log.info(f"Pulling the CRM from Pipedrive at "
                         f"{settings.base_url if settings else '(not configured)'}")
        try:
            yield from dlt.run(context=context, dlt_source=pipedrive_source(settings),
                               dlt_pipeline=pipedrive_pipeline(warehouse))
        except Exception as exc:
            raise failure(exc, settings, warehouse) from None

    return pipedrive_crm
