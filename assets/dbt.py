"""dbt build: staging and marts, with every dbt test run inline as a Dagster asset check."""

import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
    group_from_dbt_resource_props_fallback_to_directory,
)

from assets.project import (
    dbt_duckdb_path,
    dbt_project,
    keep_partial_parse,
    manifest_path,
    partial_parse_state,
    prune_invocations,
)
from assets.resources import WAREHOUSE_POOL, SopSettings


class SopDbtTranslator(DagsterDbtTranslator):
    """dbt models grouped by their folder (staging, marts), named `schema.table`, and every
    dbt test's check described. Owners and the stage tag: `owned` in assets/definitions.py."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_from_dbt_resource_props_fallback_to_directory(dbt_resource_props)

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        # schema.table, as SQL on the warehouse names it (the catalog is the file's name)
        props = dbt_resource_props
        table = f"{props['schema']}.{props.get('alias') or props['identifier']}"
        return {**super().get_metadata(dbt_resource_props), "dagster/table_name": table}

    def get_asset_check_spec(self, asset_spec: AssetSpec, manifest: Mapping[str, Any],
                             unique_id: str, project: DbtProject | None) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=describe_test(manifest["nodes"][unique_id]))


def describe_test(test: Mapping[str, Any]) -> str:
    """The dbt test's own `description`, else one read from the generic test and its arguments."""
    if test.get("description"):
        return test["description"]
    generic = test.get("test_metadata") or {}
    args = generic.get("kwargs", {})
    column = f"`{args['column_name']}`" if args.get("column_name") else "Every row"
    match generic.get("name"):
        case "not_null":
            return f"{column} is never null."
        case "unique":
            return f"{column} is unique: no value appears twice."
        case "accepted_values":
            return f"{column} is one of: {', '.join(map(str, args['values']))}."
        case "relationships":
            parent = args["to"].removeprefix("ref(").removesuffix(")").strip("'\"")
            return f"Every {column} exists in `{parent}.{args['field']}`."
        case "non_negative":
            return f"{column} is zero or more wherever it is set."
        case "positive":
            return f"{column} is greater than zero wherever it is set."
        case "unique_combination":
            return f"One row per ({', '.join(args['combination_of_columns'])})."
        case "expression_is_true":
            return f"Every row satisfies `{args['expression']}`."
        case "excludes_quarantined_rows":
            return f"No row that raw.quarantine lists for `{args['entity']}` is kept."
    return f"dbt test `{test['name']}`."


@dbt_assets(manifest=manifest_path(), project=dbt_project, pool=WAREHOUSE_POOL,
            dagster_dbt_translator=SopDbtTranslator())
def sop_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, sop: SopSettings):
    # `build` runs each model's tests right after it, so a failing test stops what depends on it.
    os.environ["SOP_DUCKDB_PATH"] = dbt_duckdb_path(sop.warehouse_path())
    state = partial_parse_state(sop.warehouse_path())
    # the parse state of this warehouse's last build, not the last build's of any warehouse
    parse_from = ["--partial-parse-file-path", str(state)] if state.exists() else []
    invocation = dbt.cli(["build", *parse_from], context=context)
    try:
        # On DuckDB the counts are queried once dbt has exited and released the file.
        yield from invocation.stream().fetch_row_counts()
    finally:
        keep_partial_parse(invocation.target_path, state)
        prune_invocations(invocation.target_path)
        _close_row_count_connection(invocation)


def model_keys(*names: str) -> list[AssetKey]:
    """Asset keys of dbt models, for the `deps` of the Python assets that read them."""
    return [get_asset_key_for_model([sop_dbt_models], name) for name in names]


def _close_row_count_connection(invocation: DbtCliInvocation) -> None:
    """Close the DuckDB file that dbt's adapter opened in this process to count rows: the
    planning assets open it next, and DuckDB refuses a second, differently configured one."""
    if invocation.adapter is None:
        return
    manager = type(invocation.adapter.connections)
    environment = getattr(manager, "_ENV", None)  # dbt-duckdb keeps one per process
    if environment is not None:
        environment.close()
    manager.close_all_connections()
