"""Check the supply plan of every cycle in a warehouse against its invariants, and count what
issue 11 measured: sales lost while stock is kept, below-safety-stock statuses within the
tolerance, planned orders off their lots, and the alerts per kind; for every plan scenario
(baseline and what-ifs) of each cycle.

    .venv/bin/python scripts/check_plan.py [WAREHOUSE_DIR]     # default: ./warehouse

Exits 1 when a cycle breaks an invariant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.supply.checks import plan_problems
from sop_pipeline.supply.plan import ITEM_COLUMNS, SupplySettings
from sop_pipeline.tables import BASELINE
from sop_pipeline.warehouse import adopted_scenario, cycle_rows, database_path


def main(argv: list[str]) -> int:
    warehouse = Path(argv[0]) if argv else Path("warehouse")
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        items = con.execute(f"SELECT {', '.join(ITEM_COLUMNS)} FROM marts.dim_items").df()
        cycles = con.execute(
            "SELECT DISTINCT cycle_month FROM main.supply_plan ORDER BY 1").df()["cycle_month"]
        failed = 0
        for cycle in pd.to_datetime(cycles):
            adopted = adopted_scenario(con, cycle)
            for scenario in _scenarios(con, cycle):
                rows = {name: cycle_rows(con, name, cycle, scenario)
                        for name in ("supply_plan", "capacity_plan", "inventory_projection")}
                # the alerts table is the adopted plan's
                rows["alerts"] = (cycle_rows(con, "alerts", cycle) if scenario == adopted
                                  else None)
                problems = plan_problems(rows["supply_plan"], rows["capacity_plan"], items,
                                         cycle, SupplySettings().overtime_share)
                failed += bool(problems)
                print(f"{cycle:%Y-%m} {scenario}{' (adopted)' if scenario == adopted else ''}: "
                      f"{_figures(rows)}")
                for problem in problems:
                    print(f"  PROBLEM {problem}")
    return 1 if failed else 0


def _scenarios(con: duckdb.DuckDBPyConnection, cycle: pd.Timestamp) -> list[str]:
    """The cycle's plan scenarios, baseline first. A what-if's lead times are only ever
    longer than the items' (a supplier delay), so the items' own are a valid floor for it."""
    found = con.execute("SELECT DISTINCT scenario FROM main.supply_plan WHERE cycle_month = ?",
                        [cycle.date()]).df()["scenario"]
    return sorted(found, key=lambda name: (name != BASELINE, name))


def _figures(rows: dict[str, pd.DataFrame]) -> str:
    plan, projection, alerts = rows["supply_plan"], rows["inventory_projection"], rows["alerts"]
    kept = ((plan["unmet_qty"] > QTY_TOLERANCE) & (plan["closing_qty"] > QTY_TOLERANCE)).sum()
    near = ((projection["closing_qty"] - projection["safety_stock_qty"]).abs() <= QTY_TOLERANCE)
    below = (projection["status"] == "below_safety_stock")
    text = (f"{len(plan)} plan rows, {int((plan['unmet_qty'] > QTY_TOLERANCE).sum())} with "
            f"unmet demand, {int(kept)} of them closing with stock; {int(below.sum())} below "
            f"safety stock ({int((below & near).sum())} within {QTY_TOLERANCE} of it)")
    if alerts is None:
        return text
    counts = alerts["kind"].value_counts().sort_index()
    return text + "; alerts " + ", ".join(f"{kind} {count}" for kind, count in counts.items())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
