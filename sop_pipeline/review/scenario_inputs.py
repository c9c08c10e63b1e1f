"""The what-if levers (plan/scenarios) and the meetings' decisions (plan/decisions), checked
before anything plans or reports with them.

check_scenarios returns the validated lever frame, one row per lever: scenario, description,
lever, family, sku, work_center_id, supplier_id (text, None where empty), start_month,
end_month (month-start Timestamps; an empty start is the horizon's first month, an empty end
its last), value (float) and source_row_number (the file's data row, from 1). A scenario is
its set of lever rows; 'baseline' is reserved: it always exists and has no levers. What a
lever means ("the months": start_month..end_month; a lever wholly outside the horizon acts
on nothing; levers of one kind on one target compose, percentages multiply):

- demand_pct (target: family or sku, or neither = every item): the consensus qty in the
  months x (1 + value); value > -1.
- price_pct, cost_pct (family or sku, or neither): unit price / unit cost x (1 + value) over
  the whole horizon (no months: the plan has one price per item); demand does not respond
  (no elasticity: a demand_pct lever says what it does); value > -1.
- capacity_pct (work_center_id, required): the centre's available hours in the months x
  (1 + value); value > -1.
- capacity_hours (work_center_id, required): + value hours a month in the months (never below
  0 hours); any finite value.
- supplier_delay_days (supplier_id or sku or both; one required): its open purchase lines
  arrive value days later and its lead time grows as much, over the whole horizon (no
  months); value >= 0.
- service_level (no target): the safety stock's service level over the whole horizon (no
  months), at most one per scenario; value from 0.5 to under 1.

A lever given a target it does not use, or months where it acts on the whole horizon, is an
error, not ignored. Suppliers are the supplier_id values of the purchase orders.

check_decisions: every row needs cycle_month, decision_id, title, owner and a status (open,
done, dropped); one row per decision_id and cycle_month; an adopted scenario must be
'baseline' or a scenario of plan/scenarios; and the decisions of one cycle that adopt a
scenario (status not dropped) must adopt the same one (a cycle has one plan).

Both raise ScenarioError naming the file, the column, the row count and sample rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_starts
from sop_pipeline.supply.scenarios import LEVERS
from sop_pipeline.tables import BASELINE

SCENARIOS_FILE = "plan/scenarios.csv"
DECISIONS_FILE = "plan/decisions.csv"
SAMPLE_ROWS = 3
PCT_LEVERS = ("demand_pct", "price_pct", "cost_pct", "capacity_pct")
SERVICE_LEVEL_RANGE = (0.5, 1.0)  # from 0.5 (no safety stock) to under 1 (infinite stock)
# the levers each target column may be given on
TARGET_USERS = {
    "family": ("demand_pct", "price_pct", "cost_pct"),
    "sku": ("demand_pct", "price_pct", "cost_pct", "supplier_delay_days"),
    "work_center_id": ("capacity_pct", "capacity_hours"),
    "supplier_id": ("supplier_delay_days",),
}
TARGET_NAMES = {"family": "family (not in erp/items)", "sku": "sku (not in erp/items)",
                "work_center_id": "work centre (not in erp/work_centers)",
                "supplier_id": "supplier (no purchase order of erp/purchase_orders has it)"}
WHOLE_HORIZON = ("price_pct", "cost_pct", "supplier_delay_days", "service_level")
LEVER_TEXT = ["scenario", "description", "lever", *TARGET_USERS]
LEVER_KEY = ["scenario", "lever", *TARGET_USERS, "start_month"]
DECISION_TEXT = ["decision_id", "title", "adopted_scenario", "owner", "status", "rationale"]
DECISION_STATUSES = ("open", "done", "dropped")


class ScenarioError(ValueError):
    """Scenario levers or decisions that cannot be used; names the file, column and rows."""


def check_scenarios(
    levers: pd.DataFrame,
    items: pd.DataFrame,
    work_centers: pd.DataFrame,
    suppliers: Iterable[str],
    horizon: Iterable[pd.Timestamp],
) -> pd.DataFrame:
    """The validated lever frame (module docstring), or ScenarioError listing every problem.

    items: sku, family; work_centers: work_center_id; suppliers: the purchase orders'
    supplier_id values; horizon: the cycle's months (fills the empty months).
    """
    frame = _normalised(levers, LEVER_TEXT, ["start_month", "end_month"], ["value"])
    frame["lever"] = _lower(frame["lever"])
    problems = [*_missing(frame, SCENARIOS_FILE, ["scenario", "lever", "value"]),
                *_unparsable(frame, SCENARIOS_FILE, ["start_month", "end_month", "value"])]
    problems += _problem(frame, SCENARIOS_FILE, "scenario",
                         _lower(frame["scenario"]) == BASELINE,
                         f"name the reserved scenario {BASELINE!r} (it always exists and has "
                         "no levers: name a what-if otherwise)")
    problems += _problem(frame, SCENARIOS_FILE, "lever",
                         frame["lever"].notna() & ~frame["lever"].isin(LEVERS),
                         f"with an unknown lever (one of {', '.join(LEVERS)})")
    problems += _range_problems(frame)
    problems += _target_problems(frame, items, work_centers, suppliers)
    problems += _month_problems(frame)
    problems += _duplicates(frame, SCENARIOS_FILE, LEVER_KEY)
    if problems:
        raise ScenarioError("Invalid scenarios:\n- " + "\n- ".join(problems))
    months = sorted(pd.Timestamp(month) for month in horizon)
    if months:
        frame["start_month"] = frame["start_month"].fillna(months[0])
        frame["end_month"] = frame["end_month"].fillna(months[-1])
    return frame[[*LEVER_TEXT, "start_month", "end_month", "value", "source_row_number"]]


def all_scenarios(levers: pd.DataFrame) -> list[str]:
    """'baseline' first, then the scenarios of the lever rows in name order."""
    named = {name for name in levers["scenario"].dropna() if name != BASELINE}
    return [BASELINE, *sorted(named)]


def check_decisions(decisions: pd.DataFrame, scenario_names: Iterable[str]) -> pd.DataFrame:
    """The decisions with text trimmed (None where empty), status lower-cased, 'baseline'
    spelled as such and the months at month start; or ScenarioError (module docstring)."""
    frame = _normalised(decisions, DECISION_TEXT, ["cycle_month", "due_month"], [])
    frame["status"] = _lower(frame["status"])
    frame.loc[_lower(frame["adopted_scenario"]) == BASELINE, "adopted_scenario"] = BASELINE
    known = {*scenario_names, BASELINE}
    problems = [*_missing(frame, DECISIONS_FILE,
                          ["cycle_month", "decision_id", "title", "owner", "status"]),
                *_unparsable(frame, DECISIONS_FILE, ["cycle_month", "due_month"])]
    problems += _problem(frame, DECISIONS_FILE, "status",
                         frame["status"].notna() & ~frame["status"].isin(DECISION_STATUSES),
                         f"with an unknown status (one of {', '.join(DECISION_STATUSES)})")
    problems += _problem(frame, DECISIONS_FILE, "adopted_scenario",
                         frame["adopted_scenario"].notna()
                         & ~frame["adopted_scenario"].isin(known),
                         f"adopt a scenario plan/scenarios does not have (known: "
                         f"{', '.join(sorted(known))})")
    adopting = frame[frame["adopted_scenario"].notna() & (frame["status"] != "dropped")]
    plans = adopting.groupby("cycle_month")["adopted_scenario"].nunique()
    problems += _problem(frame, DECISIONS_FILE, "adopted_scenario",
                         frame.index.isin(adopting.index)
                         & frame["cycle_month"].isin(plans.index[plans > 1]),
                         "adopt different scenarios in one cycle (a cycle adopts one plan)")
    problems += _duplicates(frame, DECISIONS_FILE, ["decision_id", "cycle_month"])
    if problems:
        raise ScenarioError("Invalid decisions:\n- " + "\n- ".join(problems))
    return frame[["cycle_month", "decision_id", "title", "adopted_scenario", "owner",
                  "due_month", "status", "rationale", "source_row_number"]]


# --- the rules ------------------------------------------------------------------------------


def _range_problems(frame: pd.DataFrame) -> list[str]:
    """Each lever's value within its range (module docstring)."""
    lever, value = frame["lever"], frame["value"]
    low, high = SERVICE_LEVEL_RANGE
    rules = [
        (lever.isin(PCT_LEVERS) & (value <= -1),
         f"of {'/'.join(PCT_LEVERS)} at or below -1 (a cut of 100 % or more; must be > -1)"),
        (lever.eq("capacity_hours") & np.isinf(value), "of capacity_hours not finite"),
        (lever.eq("supplier_delay_days") & (value < 0),
         "of supplier_delay_days negative (a delay is >= 0 days)"),
        (lever.eq("service_level") & ~value.between(low, high, inclusive="left"),
         f"of service_level outside [{low}, {high:g}) (0.95 = 95 %)"),
    ]
    return [problem for bad, what in rules
            for problem in _problem(frame, SCENARIOS_FILE, "value", bad & value.notna(), what)]


def _target_problems(frame: pd.DataFrame, items: pd.DataFrame, work_centers: pd.DataFrame,
                     suppliers: Iterable[str]) -> list[str]:
    """Known targets, the targets each lever needs, none it does not use."""
    known = {"family": set(items["family"].dropna().astype(str)),
             "sku": set(items["sku"].dropna().astype(str)),
             "work_center_id": set(work_centers["work_center_id"].dropna().astype(str)),
             "supplier_id": {str(s) for s in suppliers if pd.notna(s)}}
    lever, given = frame["lever"], frame[list(TARGET_USERS)].notna()
    problems = []
    for column, users in TARGET_USERS.items():
        problems += _problem(frame, SCENARIOS_FILE, column,
                             given[column] & ~frame[column].isin(known[column]),
                             f"naming an unknown {TARGET_NAMES[column]}")
        problems += _problem(frame, SCENARIOS_FILE, column,
                             given[column] & lever.isin(LEVERS) & ~lever.isin(users),
                             f"set on a lever that does not use it ({column} goes with "
                             f"{', '.join(users)})")
    problems += _problem(frame, SCENARIOS_FILE, "work_center_id",
                         lever.isin(TARGET_USERS["work_center_id"]) & ~given["work_center_id"],
                         "of a capacity lever without a work_center_id")
    problems += _problem(frame, SCENARIOS_FILE, "supplier_id",
                         lever.eq("supplier_delay_days") & ~given["supplier_id"] & ~given["sku"],
                         "of supplier_delay_days with neither supplier_id nor sku")
    problems += _problem(frame, SCENARIOS_FILE, "family",
                         lever.isin(TARGET_USERS["family"]) & given["family"] & given["sku"],
                         "with both family and sku (give one)")
    service = frame[lever.eq("service_level") & frame["scenario"].notna()]
    repeated = service.duplicated("scenario", keep=False)
    problems += _problem(frame, SCENARIOS_FILE, "lever",
                         frame.index.isin(service.index[repeated.to_numpy()]),
                         "repeating service_level in one scenario (one service level a plan)")
    return problems


def _month_problems(frame: pd.DataFrame) -> list[str]:
    """start_month no later than end_month; no months on whole-horizon levers."""
    months = frame["start_month"].notna() | frame["end_month"].notna()
    return [
        *_problem(frame, SCENARIOS_FILE, "end_month",
                  frame["start_month"] > frame["end_month"], "ending before they start"),
        *_problem(frame, SCENARIOS_FILE, "start_month",
                  months & frame["lever"].isin(WHOLE_HORIZON),
                  f"with months on a lever that acts on the whole horizon "
                  f"({', '.join(WHOLE_HORIZON)}: leave start_month and end_month empty)"),
    ]


# --- helpers --------------------------------------------------------------------------------


def _normalised(frame: pd.DataFrame, text: list[str], months: list[str], numbers: list[str]
                ) -> pd.DataFrame:
    """Every column present; text trimmed (empty: None); months at month start and numbers
    as floats (NaT / NaN where empty or unparsable, the raw text kept as raw_<column>)."""
    rows = frame.reset_index(drop=True).copy()
    for column in [*text, *months, *numbers]:
        if column not in rows.columns:
            rows[column] = None
    rows["source_row_number"] = _row_numbers(rows)
    for column in [*text, *months, *numbers]:
        rows[column] = [_as_text(value) for value in rows[column]]
    for column in months:
        rows[f"raw_{column}"] = rows[column]
        rows[column] = month_starts(pd.Series(pd.to_datetime(rows[column], errors="coerce"),
                                              index=rows.index, dtype="datetime64[ns]"))
    for column in numbers:
        rows[f"raw_{column}"] = rows[column]
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype(float)
    return rows


def _row_numbers(rows: pd.DataFrame) -> pd.Series:
    """The file's data rows: staged source_row_number or raw _row_number, else 1..n."""
    for column in ("source_row_number", "_row_number"):
        if column in rows.columns and rows[column].notna().all():
            return rows[column].astype(int)
    return pd.Series(np.arange(1, len(rows) + 1), index=rows.index)


def _lower(values: pd.Series) -> pd.Series:
    """Text lower-cased, None kept."""
    return values.map(lambda value: value.lower() if isinstance(value, str) else None)


def _as_text(value: object) -> str | None:
    """A cell as trimmed text (dates as YYYY-MM-DD, whole floats without '.0'); None if empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _missing(frame: pd.DataFrame, file: str, columns: list[str]) -> list[str]:
    """Rows without a value in a column that needs one."""
    return [problem for column in columns
            for problem in _problem(frame, file, column, frame[f"raw_{column}"].isna()
                                    if f"raw_{column}" in frame else frame[column].isna(),
                                    "without a value")]


def _unparsable(frame: pd.DataFrame, file: str, columns: list[str]) -> list[str]:
    """Rows whose date or number was given but does not parse."""
    return [problem for column in columns
            for problem in _problem(frame, file, column,
                                    frame[f"raw_{column}"].notna() & frame[column].isna(),
                                    "not a number" if column == "value" else "not a date")]


def _duplicates(frame: pd.DataFrame, file: str, key: list[str]) -> list[str]:
    """Rows whose key appears more than once."""
    return _problem(frame, file, "+".join(key), frame.duplicated(key, keep=False),
                    "with a duplicate key")


def _problem(frame: pd.DataFrame, file: str, column: str, bad: pd.Series | np.ndarray,
             what: str) -> list[str]:
    """"file, column 'c': N row(s) what, e.g. row 3 (a=x, b=y); ..." when any row is bad."""
    bad = np.asarray(bad, dtype=bool)
    count = int(bad.sum())
    if not count:
        return []
    shown = [c for c in frame.columns if c.startswith("raw_")]
    texts = [c for c in frame.columns if c in LEVER_TEXT or c in DECISION_TEXT]
    sample = "; ".join(
        f"row {row['source_row_number']} ("
        + ", ".join(f"{name.removeprefix('raw_')}={row[name]}" for name in [*texts, *shown]
                    if row[name] is not None and name not in ("description", "rationale"))
        + ")"
        for row in frame.loc[bad].head(SAMPLE_ROWS).to_dict("records")
    )
    return [f"{file}, column '{column}': {count} row(s) {what}, e.g. {sample}"]
