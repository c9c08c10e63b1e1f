"""dbt build: staging and marts, with dbt tests run inline as Dagster asset checks."""

import os

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model

from assets.project import dbt_project, manifest_path
from assets.resources import WAREHOUSE_POOL, SopSettings
from sop_pipeline import warehouse


@dbt_assets(manifest=manifest_path(), project=dbt_project, pool=WAREHOUSE_POOL)
def sop_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, sop: SopSettings):
    # `build` runs each model's tests right after it, so a failing test stops what depends on it.
    os.environ["SOP_DUCKDB_PATH"] = str(warehouse.database_path(sop.warehouse_path()))
    yield from dbt.cli(["build"], context=context).stream()


def model_keys(*names: str) -> list[AssetKey]:
    """Asset keys of dbt models, for the `deps` of the Python assets that read them."""
    return [get_asset_key_for_model([sop_dbt_models], name) for name in names]
