"""The dbt models and tests as the Dagster UI shows them: groups, checks with descriptions, and
the row counts and parse state a build leaves."""

import pytest
from dagster import AssetCheckKey, AssetKey, AssetsDefinition, DagsterInstance

STAGING_ENTITIES = {
    "stg_erp__items": "erp/items", "stg_erp__locations": "erp/locations",
    "stg_erp__sales_orders": "erp/sales_orders", "stg_erp__work_centers": "erp/work_centers",
    "stg_erp__work_center_calendar": "erp/work_center_calendar",
    "stg_erp__routings": "erp/routings", "stg_erp__purchase_orders": "erp/purchase_orders",
    "stg_erp__production_orders": "erp/production_orders", "stg_erp__budget": "erp/budget",
    "stg_crm__accounts": "crm/accounts", "stg_crm__deals": "crm/deals",
    "stg_stock__inventory": "stock/inventory", "stg_plan__overrides": "plan/overrides",
    "stg_plan__events": "plan/events", "stg_plan__scenarios": "plan/scenarios",
    "stg_plan__decisions": "plan/decisions",
}


@pytest.fixture(scope="module")
def dbt_assets_def() -> AssetsDefinition:
    """The dbt multi-asset of the code location, as loaded in process."""
    from assets.definitions import build_defs

    defs = build_defs()
    [dbt] = [a for a in defs.assets
             if isinstance(a, AssetsDefinition) and a.node_def.name == "sop_dbt_models"]
    return dbt


def test_the_singular_dbt_tests_are_checks_on_their_models(dbt_assets_def):
    checks = {spec.key: spec for spec in dbt_assets_def.check_specs}
    demand = AssetKey(["marts", "fct_monthly_demand"])
    for name in ("assert_fct_monthly_demand_reconciles_to_sales_orders",
                 "assert_fct_monthly_demand_is_dense"):
        spec = checks[AssetCheckKey(demand, name)]
        assert spec.blocking
        assert AssetKey(["staging", "stg_erp__sales_orders"]) in {
            dep.asset_key for dep in spec.additional_deps}
    # the quarantine rule, one check per staging model (the singular test forgot one entity)
    quarantine = {key.asset_key.path[-1]: spec for key, spec in checks.items()
                  if key.name.startswith("excludes_quarantined_rows")}
    assert set(quarantine) == set(STAGING_ENTITIES)
    for model, spec in quarantine.items():
        assert spec.blocking
        assert f"`{STAGING_ENTITIES[model]}`" in spec.description


def test_dbt_models_are_grouped_by_their_folder(dbt_assets_def):
    groups = {spec.key: spec.group_name for spec in dbt_assets_def.specs}
    assert groups
    for key, group in groups.items():
        assert group == key.path[0] and group in {"staging", "marts"}, key
    # the planning-only job selects planning groups: the dbt models stay out of it
    from assets.jobs import PLANNING_GROUPS

    assert not {"staging", "marts"} & set(PLANNING_GROUPS)


def test_dbt_models_carry_their_table_name(dbt_assets_def):
    names = {spec.key: spec.metadata["dagster/table_name"] for spec in dbt_assets_def.specs}
    assert names[AssetKey(["marts", "fct_monthly_demand"])] == "marts.fct_monthly_demand"
    assert names[AssetKey(["staging", "stg_erp__items"])] == "staging.stg_erp__items"


def test_every_dbt_check_has_a_description(dbt_assets_def):
    specs = list(dbt_assets_def.check_specs)
    assert len(specs) > 200
    assert [s.key.to_user_string() for s in specs if not (s.description or "").strip()] == []
    by_name = {s.key.name: s.description for s in specs}
    assert by_name["not_null_dim_items_sku"] == "`sku` is never null."
    assert by_name["relationships_fct_monthly_demand_sku__sku__ref_dim_items_"] == (
        "Every `sku` exists in `dim_items.sku`.")


def test_a_dbt_build_reports_row_counts_and_keeps_its_parse_state(tmp_path):
    from assets.definitions import build_defs
    from sop_pipeline.demo import generate_company

    extracts, warehouse = tmp_path / "extracts", tmp_path / "warehouse"
    generate_company(extracts, skus=3, locations=1, years=2, seed=3, end_month="2026-09")
    defs = build_defs(str(extracts), str(warehouse))
    # the extracts and the dbt models only: no planning
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
            if k.path[0] in ("raw", "staging", "marts")]
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("monthly_cycle").execute_in_process(
            partition_key="2026-09", asset_selection=keys, instance=instance)
    counts = {e.asset_key: e.materialization.metadata.get("dagster/row_count")
              for e in result.get_asset_materialization_events()}
    # tables are counted; views (staging) are not queried, as dagster-dbt leaves them
    demand = counts[AssetKey(["marts", "fct_monthly_demand"])]
    assert demand is not None and demand.value > 0
    assert all(counts[k] is not None for k in keys if k.path[0] == "marts")
    assert not any(e.event_type_value == "ASSET_OBSERVATION" for e in result.all_events)
    assert (warehouse / "dbt_partial_parse.msgpack").exists()


def test_older_dbt_invocation_folders_are_removed_and_the_newest_kept(tmp_path):
    import os

    from assets.project import KEPT_DBT_INVOCATIONS, prune_invocations

    folders = [tmp_path / f"sop_dbt_models-run{n:03d}-step{n}" for n in range(8)]
    for age, folder in enumerate(reversed(folders)):
        folder.mkdir()
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))  # folders[-1] the newest
    (tmp_path / "other_op-run000-step0").mkdir()  # another asset's invocation
    (tmp_path / "manifest.json").write_text("{}")
    current = folders[3]  # this build's own folder is kept whatever its time
    prune_invocations(current)
    kept = sorted(p.name for p in tmp_path.iterdir())
    newest = [f.name for f in folders[-(KEPT_DBT_INVOCATIONS - 1):]]
    assert kept == sorted([current.name, *newest, "other_op-run000-step0", "manifest.json"])
