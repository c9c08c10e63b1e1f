"""What a data engineer reads in the Dagster UI: column schemas and table names from the
declarations, owners and stage tags, the cycle's freshness policy, the landing-folder sensor,
partitions from the first cycle the data supports, and metadata numbers a person can read."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey, MetadataValue, RunRequest, SkipReason, build_sensor_context

from assets.definitions import CYCLE_OUTPUTS, DATA_OWNER, PLANNING_OWNER, build_defs
from assets.partitions import FALLBACK_FIRST_CYCLE, first_cycle
from assets.planning import readable
from assets.resources import SopSettings
from assets.sensors import extracts_landed
from sop_pipeline.demo import generate_company
from sop_pipeline.ingest.contract import ENTITIES
from sop_pipeline.tables import OUTPUT_TABLES


@pytest.fixture(scope="module")
def graph():
    return build_defs().resolve_asset_graph()


@pytest.fixture
def extracts(tmp_path):
    folder = tmp_path / "extracts"
    generate_company(folder, skus=4, locations=1, years=2, seed=5, end_month="2026-09")
    return folder


def test_every_planning_table_carries_its_declared_columns_and_name(graph):
    for name, table in OUTPUT_TABLES.items():
        node = graph.get(AssetKey(name))
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (column, sql_type, text) for column, sql_type, text in table.columns], name
        assert node.metadata["dagster/table_name"] == f"main.{name}"


def test_every_raw_table_carries_the_contract_columns_and_the_load_metadata(graph):
    for entity in ENTITIES:
        node = graph.get(AssetKey(["raw", entity.table]))
        columns = [c.name for c in node.metadata["dagster/column_schema"].columns]
        assert columns[: len(entity.columns)] == [c.name for c in entity.columns]
        assert columns[len(entity.columns):] == ["_row_number", "_source_file", "_file_hash",
                                                 "_loaded_at"]
        assert node.metadata["dagster/table_name"] == f"raw.{entity.table}"


def test_every_asset_has_an_owner_and_its_stage_and_the_cycle_is_due(graph):
    for node in graph.asset_nodes:
        stage = node.tags["stage"]
        assert node.owners == [DATA_OWNER if stage in ("extracts", "staging", "marts", "default")
                               else PLANNING_OWNER], node.key
    for key in CYCLE_OUTPUTS:
        policy = graph.get(key).freshness_policy
        assert policy is not None and policy.deadline_cron == "0 12 5 * *"


def test_the_sensor_requests_the_cycle_once_per_content(extracts):
    resources = {"sop": SopSettings(extracts_dir=str(extracts))}
    # a context manager: the sop resource holds a run's warehouse (it yields, for runs only)
    with build_sensor_context(resources=resources) as context:
        first = extracts_landed(context)
    assert isinstance(first, RunRequest) and first.partition_key == "2026-10"
    with build_sensor_context(cursor=first.run_key, resources=resources) as context:
        again = extracts_landed(context)
    assert isinstance(again, SkipReason)
    # a corrected file is new content: a new request, under a new key
    path = extracts / "erp/items.csv"
    rows = list(csv.DictReader(path.open()))
    rows[0]["description"] += " (corrected)"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with build_sensor_context(cursor=first.run_key, resources=resources) as context:
        changed = extracts_landed(context)
    assert isinstance(changed, RunRequest) and changed.run_key != first.run_key
    assert changed.partition_key == "2026-10"


def test_the_sensor_skips_an_empty_folder_and_is_off_by_default(tmp_path):
    resources = {"sop": SopSettings(extracts_dir=str(tmp_path))}
    with build_sensor_context(resources=resources) as context:
        assert isinstance(extracts_landed(context), SkipReason)
    assert extracts_landed.default_status.value == "STOPPED"


def test_partitions_start_at_the_first_cycle_the_data_supports(extracts, monkeypatch):
    monkeypatch.delenv("SOP_FIRST_CYCLE", raising=False)  # a run earlier in the session sets it
    monkeypatch.setenv("SOP_EXTRACTS_DIR", str(extracts))
    orders = pd.read_csv(extracts / "erp/sales_orders.csv", usecols=["order_date"])
    first_month = pd.Timestamp(orders["order_date"].min()).to_period("M").to_timestamp()
    assert first_cycle() == f"{first_month + pd.DateOffset(months=12):%Y-%m}"
    monkeypatch.setenv("SOP_FIRST_CYCLE", "2025-03")
    assert first_cycle() == "2025-03"
    monkeypatch.delenv("SOP_FIRST_CYCLE")
    monkeypatch.setenv("SOP_EXTRACTS_DIR", str(extracts / "nothing here"))
    assert first_cycle() == FALLBACK_FIRST_CYCLE


def test_metadata_numbers_and_dictionaries_read_as_a_person_reads_them():
    assert readable(88702.33884412743) == 88702
    assert readable(2.084971114336754) == 2.08
    assert readable(np.float64(0.012345678)) == 0.01235
    assert readable(7) == 7 and readable("EUR") == "EUR" and readable(0.0) == 0.0
    table = readable({"ensemble_median": 52, "seasonal_naive": 9})
    assert isinstance(table, MetadataValue.md("").__class__)
    assert "| ensemble_median | 52 |" in table.value
