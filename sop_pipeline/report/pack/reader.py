"""Reading the working warehouse for one cycle: a missing table reads as empty, never created."""

from __future__ import annotations

import duckdb
import pandas as pd

from sop_pipeline.supply.inputs import SupplySettings
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import adopted_scenario, query


class Warehouse:
    """One cycle's view of the working database; a missing table reads as empty."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cycle: pd.Timestamp):
        self.con = con
        self.cycle = cycle
        self.tables = {
            f"{schema}.{name}" for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
                "WHERE NOT internal").fetchall()
        }

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, table: str) -> int:
        if not self.has(table):
            return 0
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def cycle_rows(self, name: str, scenario: str | None = None) -> pd.DataFrame:
        """This cycle's rows of an output table, with its documented columns; in a table of
        scenarios, those of `scenario`, by default the cycle's adopted plan."""
        table = OUTPUT_TABLES[name]
        if not self.has(f"main.{name}"):
            return pd.DataFrame(columns=table.column_names)
        if table.plans_scenarios:  # a scenario name is the planners' text: a parameter
            frame = self.query(f"SELECT * FROM main.{name} WHERE cycle_month = $cycle "
                               "AND scenario = $scenario",
                               scenario=scenario or self.adopted_scenario())
        else:
            frame = self.query(f"SELECT * FROM main.{name} WHERE cycle_month = $cycle")
        return frame.reindex(columns=table.column_names)

    def adopted_scenario(self) -> str:
        """The scenario the cycle's decisions adopted (plan_version), else the baseline."""
        return adopted_scenario(self.con, self.cycle)

    def currency(self) -> str:
        """The currency of the cycle's money figures: plan_financials' where the cycle has
        rows, else the supply settings' default."""
        named = self.cycle_rows("plan_financials")["currency"].dropna()
        return str(named.iloc[0]) if len(named) else SupplySettings.currency

    def query(self, sql: str, **params: object) -> pd.DataFrame:
        """Run SQL with `$cycle` bound to the cycle's first day and `$<name>` to each of
        `params`; dates as Timestamps."""
        cycle = {"cycle": self.cycle.date()} if "$cycle" in sql else {}
        return query(self.con, sql, {**cycle, **params})
