"""What an output table declaration is, the keys the stages join on, and the columns many
tables share."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# The grains the planning stages join on: one series, and one series in one month.
SERIES_KEY = ["sku", "location_id"]
SERIES_MONTH_KEY = [*SERIES_KEY, "month"]


def nullable_text(values: pd.Series) -> pd.Series:
    """A text column with None where a value is missing (not NaN), as the tables store it."""
    return values.astype(object).where(values.notna(), None)


@dataclass(frozen=True)
class OutputTable:
    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[tuple[str, str, str], ...]  # name, DuckDB type, description
    # A plan table of scenarios: its stage writes the baseline's rows, the scenario stage the
    # what-ifs' (each with its `scenario`); readers take one scenario at a time.
    plans_scenarios: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c[0] for c in self.columns]

    @property
    def stage_columns(self) -> list[str]:
        """The columns a stage returns: all but cycle_month, which the writer adds, and in a
        plan table of scenarios the scenario (a plan stage plans the baseline)."""
        added = ("cycle_month", "scenario") if self.plans_scenarios else ("cycle_month",)
        return [name for name in self.column_names if name not in added]


CYCLE = ("cycle_month", "DATE",
       "Planning cycle (first day of month); it sees actuals up to the month before.")
SKU = ("sku", "VARCHAR", "Stock-keeping unit (dim_items.sku).")
LOCATION = ("location_id", "VARCHAR", "Location (dim_locations.location_id).")
MONTH = ("month", "DATE", "Planned month (first day of month).")
BASELINE = "baseline"  # the plan of the cycle's own inputs; every other scenario is a what-if
SCENARIO = ("scenario", "VARCHAR", "Plan scenario: 'baseline' (the cycle's own inputs) or a "
           "what-if of plan/scenarios; plan_version says which one the cycle adopted.")
