"""The dbt sources YAML is generated from the extract contract and says what landing writes."""

import duckdb
import yaml

from sop_pipeline.ingest import dbt_sources
from sop_pipeline.ingest.contract import ENTITIES
from sop_pipeline.ingest.landing import META_COLUMNS, land_extracts
from tests.extracts import write_extracts


def test_checked_in_sources_match_the_contract():
    assert dbt_sources.SOURCES_YML.read_text() == dbt_sources.render(), (
        f"{dbt_sources.SOURCES_YML} is out of step with the contract; run: "
        f"{dbt_sources.COMMAND}"
    )


def test_rendered_yaml_reads_back_as_the_contract():
    (source,) = yaml.safe_load(dbt_sources.render())["sources"]
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == [e.table for e in ENTITIES] + list(dbt_sources.LOG_TABLES)
    for entity in ENTITIES:
        table = tables[entity.table]
        assert table["config"]["meta"]["contract_entity"] == entity.name
        assert table["description"] == dbt_sources.table_description(entity)
        columns = {c["name"]: c["description"] for c in table["columns"]}
        assert list(columns) == [c.name for c in entity.columns] + list(META_COLUMNS)
        for column in entity.columns:  # quoting and folding keep the text as it was
            assert columns[column.name] == dbt_sources.column_description(column)


def test_landing_writes_the_columns_the_sources_declare(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        land_extracts(con, write_extracts(tmp_path / "x"))
        described = {
            table: [r[0] for r in con.execute(f"DESCRIBE raw.{table}").fetchall()]
            for table in [e.table for e in ENTITIES] + list(dbt_sources.LOG_TABLES)
        }
    for entity in ENTITIES:
        assert described[entity.table] == [c.name for c in entity.columns] + list(META_COLUMNS)
    for table, (_, columns) in dbt_sources.LOG_TABLES.items():
        assert described[table] == list(columns), table
