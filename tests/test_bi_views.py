"""The serving file as a BI tool reflects it: SQLAlchemy + duckdb-engine, the way Superset lists
tables and views, their columns and comments (versions pinned in pyproject's dev extra)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
from duckdb_engine import DuckDBEngineWarning

from sop_pipeline.report.publish import publish
from sop_pipeline.tables import OUTPUT_TABLES

TABLES = ["alerts", "supply_plan", "plan_version"]
PYTHON_TYPES = {"DATE": date, "VARCHAR": str, "DOUBLE": float}  # the types of TABLES


@pytest.fixture
def serving_path(tmp_path: Path) -> Path:
    """A serving file published from a small working file: two cycles of three declared
    tables, the newer cycle adopting a what-if plan."""
    con = duckdb.connect(str(tmp_path / "sop.duckdb"))
    for name in TABLES:
        columns = ", ".join(f"{n} {t}" for n, t, _ in OUTPUT_TABLES[name].columns)
        con.execute(f"CREATE TABLE {name} ({columns})")
    for cycle_month in ("2024-03-01", "2024-04-01"):
        con.execute("INSERT INTO alerts (cycle_month, kind, entity) VALUES (?::DATE, 'stockout', "
                    "'SKU-1')", [cycle_month])
        for scenario in ("baseline", "demand_up"):
            con.execute("INSERT INTO supply_plan (cycle_month, scenario, sku, location_id, month) "
                        "VALUES (?::DATE, ?, 'SKU-1', 'DC-1', ?::DATE)",
                        [cycle_month, scenario, cycle_month])
    con.execute("INSERT INTO plan_version (cycle_month, scenario) VALUES "
                "('2024-03-01', 'baseline'), ('2024-04-01', 'demand_up')")
    publication = publish(con, tmp_path, TABLES)
    con.close()
    return publication.serving_path


@pytest.fixture
def engine(serving_path: Path):
    # Superset's form: the duckdb-engine URL; its query string is DuckDB configuration.
    engine = sqlalchemy.create_engine(f"duckdb:///{serving_path}?access_mode=read_only")
    yield engine
    engine.dispose()


@pytest.mark.filterwarnings(f"ignore::{DuckDBEngineWarning.__module__}.DuckDBEngineWarning")
def test_superset_reflects_tables_views_columns_and_comments(engine):
    inspector = sqlalchemy.inspect(engine)
    views = [f"latest_{name}" for name in TABLES]
    assert sorted(inspector.get_table_names()) == sorted(TABLES)
    assert sorted(inspector.get_view_names()) == sorted(views)

    for name in TABLES:
        declared = OUTPUT_TABLES[name]
        for relation in (name, f"latest_{name}"):
            columns = inspector.get_columns(relation)
            assert [(c["name"], c["type"].python_type, c["comment"]) for c in columns] == [
                (column, PYTHON_TYPES[data_type], text)
                for column, data_type, text in declared.columns
            ], relation
            # What Superset's SQL Lab asks for a table's preview: none may fail.
            assert inspector.get_pk_constraint(relation)["constrained_columns"] == []
            assert inspector.get_foreign_keys(relation) == []
            assert inspector.get_indexes(relation) == []
        assert inspector.get_table_comment(name)["text"].startswith(declared.description)
        view_comment = inspector.get_table_comment(f"latest_{name}")["text"]
        assert declared.description in view_comment
    assert inspector.get_table_comment("latest_supply_plan")["text"].startswith(
        "The latest adopted plan:")

    # Superset's "select star" reflects the table into a MetaData and queries it.
    latest_plan = sqlalchemy.Table("latest_supply_plan", sqlalchemy.MetaData(),
                                   autoload_with=engine)
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.select(latest_plan.c.cycle_month, latest_plan.c.scenario)).all()
        assert [(str(month), scenario) for month, scenario in rows] == [
            ("2024-04-01", "demand_up")]
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
            connection.execute(sqlalchemy.text("CREATE TABLE scratch (n INTEGER)"))
