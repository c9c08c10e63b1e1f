"""The S&OP meetings' decisions followed across cycles (decision_log), the plan each cycle
adopted (plan_version), and the alert on decisions past their due month (decision_overdue).

Decisions are check_decisions rows (sop_pipeline.review.scenario_inputs): a row when a
decision is taken, a later row for the same decision_id restating it at a later meeting.
A cycle sees only the rows of its meeting and earlier ones, as that meeting did.

- decision_log at a cycle: each decision with a row at or before the cycle, as its latest
  such row states it (title, adopted scenario, owner, due month, status, rationale);
  decided_in = the cycle of its first row; is_overdue = open and due_month before the
  cycle; months_overdue = months from due_month to the cycle while overdue, else 0.
- plan_version at a cycle: the scenario a decision of that cycle's meeting adopts (a row with
  cycle_month = the cycle, adopted_scenario set, status not dropped; check_decisions allows
  one scenario a cycle; of several decisions adopting it, the first in the file), with the
  decision's id, owner (decided_by) and decided_in; else 'baseline' and no decision.
- decision_overdue: one alert per overdue decision, at its due month; medium, high from
  OVERDUE_HIGH_MONTHS months overdue; value = months overdue, threshold 0; value_at_risk
  empty (a decision carries no money).
"""

from __future__ import annotations

import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES

LOG_COLUMNS = OUTPUT_TABLES["decision_log"].stage_columns
VERSION_COLUMNS = ["scenario", "decision_id", "decided_by", "decided_in"]
OVERDUE_HIGH_MONTHS = 2


def decision_log(decisions: pd.DataFrame, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Every decision taken by the cycle, as it stands at the cycle (module docstring)."""
    cycle = month_start(cycle_month)
    seen = _in_file_order(decisions)
    seen = seen[seen["cycle_month"] <= cycle]
    if seen.empty:
        return _empty(LOG_COLUMNS, {"decided_in": "datetime64[ns]", "due_month": "datetime64[ns]",
                                    "is_overdue": bool, "months_overdue": "int64"})
    ordered = seen.sort_values(["decision_id", "cycle_month"], kind="stable")
    first = ordered.groupby("decision_id")["cycle_month"].first().rename("decided_in")
    log = ordered.drop_duplicates("decision_id", keep="last").merge(
        first, left_on="decision_id", right_index=True)
    due = pd.to_datetime(log["due_month"])
    overdue = (log["status"] == "open") & (due < cycle)
    months_late = (cycle.year - due.dt.year) * 12 + (cycle.month - due.dt.month)
    log = log.assign(due_month=due, is_overdue=overdue.astype(bool),
                     months_overdue=months_late.where(overdue, 0).astype("int64"))
    return log[LOG_COLUMNS].reset_index(drop=True)


def plan_version(decisions: pd.DataFrame, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """The cycle's adopted plan, one row (module docstring)."""
    cycle = month_start(cycle_month)
    rows = _in_file_order(decisions)
    adopting = rows[(rows["cycle_month"] == cycle) & rows["adopted_scenario"].notna()
                    & (rows["status"] != "dropped")]
    if adopting.empty:
        return pd.DataFrame({"scenario": [BASELINE], "decision_id": [None],
                             "decided_by": [None],
                             "decided_in": pd.Series([pd.NaT], dtype="datetime64[ns]")})
    chosen = adopting.iloc[0]
    decided_in = rows.loc[rows["decision_id"] == chosen["decision_id"], "cycle_month"].min()
    return pd.DataFrame({"scenario": [chosen["adopted_scenario"]],
                         "decision_id": [chosen["decision_id"]],
                         "decided_by": [chosen["owner"]],
                         "decided_in": pd.Series([decided_in], dtype="datetime64[ns]")})


def decision_overdue_alerts(log: pd.DataFrame | None) -> list[dict[str, object]]:
    """One alert per open decision of the decision_log past its due month."""
    if log is None or log.empty:
        return []
    return [
        {
            "kind": "decision_overdue",
            "severity": "high" if row.months_overdue >= OVERDUE_HIGH_MONTHS else "medium",
            "entity": row.decision_id,
            "month": pd.Timestamp(row.due_month),
            "message": (
                f"Decision {row.decision_id} \"{row.title}\" (owner {row.owner}) was due in "
                f"{pd.Timestamp(row.due_month):%b %Y} and is still open: {row.months_overdue} "
                f"month{'s' if row.months_overdue != 1 else ''} overdue."
            ),
            "value": float(row.months_overdue),
            "threshold": 0.0,
            "value_at_risk": float("nan"),
        }
        for row in log[log["is_overdue"].fillna(False).astype(bool)].itertuples(index=False)
    ]


def _in_file_order(decisions: pd.DataFrame) -> pd.DataFrame:
    """The decisions by file row, months as Timestamps."""
    rows = decisions.assign(cycle_month=pd.to_datetime(decisions["cycle_month"]))
    if "source_row_number" in rows.columns:
        rows = rows.sort_values("source_row_number", kind="stable")
    return rows.reset_index(drop=True)


def _empty(columns: list[str], dtypes: dict[str, object]) -> pd.DataFrame:
    """The columns with no rows (text as object)."""
    return pd.DataFrame({column: pd.Series(dtype=dtypes.get(column, object))
                         for column in columns})
