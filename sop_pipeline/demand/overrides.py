"""Planner overrides (plan/overrides) of the consensus: checked, then applied without guessing.

An absolute `quantity` replaces the consensus of its cells (statistical + event + pipeline),
a `pct_change` scales it by (1 + pct_change); consensus is never negative, and override_qty =
consensus - statistical - event - pipeline (0 where no override applies). Overrides are
split, never guessed:

- sku + location: that cell (created with statistical and pipeline 0 if the forecast lacks it).
- sku without location: a quantity is split across the sku's forecast locations of that month
  in proportion to their statistical qty in that month (equally when it is all zero); a pct
  applies to each of them.
- family (with or without location): the same, over every forecast cell of the family's skus
  (at that location) in that month; a family quantity becomes per-sku x location quantities.
- An override row that breaks a rule (see validate_overrides), or one whose sku or family has
  no forecast cell to spread over, raises OverrideError naming the file rows; nothing applies.
  Override row numbers are data rows counted from 1, as in the load's quarantine.
  apply_overrides (and so consensus_demand) checks every rule except the horizon and the
  location master, which it is not given: the caller runs validate_overrides with both first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from sop_pipeline.cycle import distinct_months, month_starts
from sop_pipeline.tables import SERIES_MONTH_KEY, nullable_text

OVERRIDE_TEXT = ["sku", "family", "location_id", "reason", "author"]
OVERRIDE_NUMBERS = ["quantity", "pct_change"]
SHOWN_COLUMNS = ["month", "sku", "family", "location_id", "quantity", "pct_change"]
SAMPLE_ROWS = 5


class OverrideError(ValueError):
    """Planner overrides that cannot be applied without guessing; names the offending rows."""


def apply_overrides(
    base: pd.DataFrame, overrides: pd.DataFrame | None, items: pd.DataFrame
) -> pd.DataFrame:
    """base (sku, location_id, month, statistical_qty, crm_pipeline_qty) with overrides applied.

    Adds override_qty, consensus_qty, override_reason, override_author; rows are added for
    sku x location overrides the base lacks. Raises OverrideError rather than guess.
    """
    plan = base.copy()
    if "event_qty" not in plan:
        plan["event_qty"] = 0.0
    plan["month"] = month_starts(plan["month"])
    plan = plan.reset_index(drop=True)
    if overrides is None or overrides.empty:
        return _with_consensus(plan, _no_effects(plan))

    validate_overrides(overrides, items, months=None, locations=None)
    rules = _normalised(overrides)
    plan = pd.concat([plan, _missing_cells(rules, plan)], ignore_index=True)
    effects = _effects(rules, plan, items)
    return _with_consensus(plan, effects)


def overrides_in_horizon(overrides: pd.DataFrame, months: list[pd.Timestamp]
                         ) -> tuple[pd.DataFrame, int]:
    """(the overrides of months in this cycle's horizon, how many were left out).

    Overrides for other months are not errors (the file serves many cycles): they are left
    out and counted.
    """
    in_horizon = pd.to_datetime(overrides["month"]).isin(months)
    return overrides[in_horizon], int((~in_horizon).sum())


def validate_overrides(
    overrides: pd.DataFrame,
    items: pd.DataFrame,
    months: Iterable[pd.Timestamp] | None,
    locations: Iterable[str] | None,
) -> None:
    """Raise OverrideError naming every override row that breaks a rule; None when all pass.

    months is the planning horizon and locations the location master; None skips that check.
    """
    rules = _normalised(overrides)
    problems = _row_problems(rules, items, months, locations)
    for position, problem in _conflicts(rules, items, problems):
        problems.setdefault(position, []).append(problem)
    if problems:
        raise OverrideError(_override_message(rules, problems, len(rules)))


# --- helpers -------------------------------------------------------------------------------------


def _normalised(overrides: pd.DataFrame) -> pd.DataFrame:
    """Overrides with every column present, text trimmed (empty → None), month at month start.

    Keeps the raw text of month and the numbers so unparsable values can be reported.
    """
    rules = overrides.reset_index(drop=True).copy()
    for column in [*OVERRIDE_TEXT, *OVERRIDE_NUMBERS, "month"]:
        if column not in rules.columns:
            rules[column] = None
    rules["row_number"] = _row_numbers(rules)
    for column in [*OVERRIDE_NUMBERS, "month"]:
        rules[f"raw_{column}"] = [_as_written(value) for value in rules[column]]
    for column in OVERRIDE_TEXT:
        rules[column] = [_as_written(value) for value in rules[column]]
    for column in OVERRIDE_NUMBERS:
        rules[column] = pd.to_numeric(rules[f"raw_{column}"], errors="coerce").astype(float)
    rules["month"] = month_starts(pd.to_datetime(rules["raw_month"], errors="coerce"))
    return rules


def _as_written(value: object) -> str | None:
    """A cell as text, trimmed; None when empty. Dates print as YYYY-MM-DD."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    text = str(value).strip()
    return text or None


def _row_numbers(rules: pd.DataFrame) -> pd.Series:
    """The file's data row numbers (staged source_row_number or raw _row_number), else 1..n."""
    for column in ("source_row_number", "_row_number"):
        if column in rules.columns and rules[column].notna().all():
            return rules[column].astype(int)
    return pd.Series(range(1, len(rules) + 1), index=rules.index)


def _row_problems(
    rules: pd.DataFrame,
    items: pd.DataFrame,
    months: Iterable[pd.Timestamp] | None,
    locations: Iterable[str] | None,
) -> dict[int, list[str]]:
    """Rule breaches of each row on its own, by row position."""
    known_skus = set(items["sku"].astype(str))
    known_families = set(items["family"].dropna().astype(str))
    horizon = distinct_months(months) if months is not None else None
    known_locations = {str(location) for location in locations} if locations is not None else None
    problems: dict[int, list[str]] = {}
    for position, rule in enumerate(rules.itertuples(index=False)):
        found = _target_problems(rule, known_skus, known_families)
        found += _amount_problems(rule)
        found += _month_problems(rule, horizon)
        if known_locations is not None and rule.location_id is not None and (
            rule.location_id not in known_locations
        ):
            found.append(f"unknown location {rule.location_id!r}")
        if found:
            problems[position] = found
    return problems


def _target_problems(rule: Any, skus: set[str], families: set[str]) -> list[str]:
    """Exactly one of sku and family, and it must be known."""
    if rule.sku is None and rule.family is None:
        return ["neither sku nor family given (give one)"]
    if rule.sku is not None and rule.family is not None:
        return ["both sku and family given (give one)"]
    if rule.sku is not None and rule.sku not in skus:
        return [f"unknown sku {rule.sku!r}"]
    if rule.family is not None and rule.family not in families:
        return [f"unknown family {rule.family!r}"]
    return []


def _amount_problems(rule: Any) -> list[str]:
    """Exactly one of quantity and pct_change, a number, quantity >= 0, pct_change >= -1."""
    found = [
        f"{column} {raw!r} is not a number"
        for column in OVERRIDE_NUMBERS
        if (raw := getattr(rule, f"raw_{column}")) is not None and pd.isna(getattr(rule, column))
    ]
    if found:
        return found
    has_quantity, has_pct = pd.notna(rule.quantity), pd.notna(rule.pct_change)
    if not has_quantity and not has_pct:
        return ["neither quantity nor pct_change given (give one)"]
    if has_quantity and has_pct:
        return ["both quantity and pct_change given (give one)"]
    if has_quantity and rule.quantity < 0:
        return [f"negative quantity {_number(rule.quantity)}"]
    if has_pct and rule.pct_change < -1:
        return [f"pct_change {_number(rule.pct_change)} is below -1 (a cut of more than 100 %)"]
    return []


def _month_problems(rule: Any, horizon: list[pd.Timestamp] | None) -> list[str]:
    """A parsable month, inside the planning horizon when one is given."""
    if pd.isna(rule.month):
        return [f"month {rule.raw_month!r} is not a date" if rule.raw_month else "no month"]
    if horizon is not None and rule.month not in horizon:
        window = f"{horizon[0]:%Y-%m} to {horizon[-1]:%Y-%m}" if horizon else "(empty)"
        return [f"month {rule.month:%Y-%m} is outside the planning horizon {window}"]
    return []


def _conflicts(
    rules: pd.DataFrame, items: pd.DataFrame, problems: dict[int, list[str]]
) -> list[tuple[int, str]]:
    """Pairs of otherwise valid rows that hit one sku x location x month, reported on both."""
    targets = _targets(rules.drop(index=list(problems)), items)
    pairs = targets.merge(targets, on=["sku", "month"], suffixes=("_a", "_b"))
    overlap = (
        (pairs["position_a"] < pairs["position_b"])
        & (
            pairs["location_id_a"].isna()
            | pairs["location_id_b"].isna()
            | (pairs["location_id_a"] == pairs["location_id_b"])
        )
    )
    pairs = pairs[overlap].drop_duplicates(["position_a", "position_b"])
    row_number = rules["row_number"]
    found = []
    for pair in pairs.itertuples(index=False):
        location = pair.location_id_a if pd.notna(pair.location_id_a) else pair.location_id_b
        cell = f"{pair.sku} x {location if pd.notna(location) else 'all locations'} x " + (
            f"{pair.month:%Y-%m}"
        )
        first, second = row_number[pair.position_a], row_number[pair.position_b]
        found.append((pair.position_a, f"conflicts with row {second}: both override {cell}"))
        found.append((pair.position_b, f"conflicts with row {first}: both override {cell}"))
    return found


def _targets(rules: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """One row per override row position x sku it reaches (a family reaches all its skus)."""
    positioned = rules.rename_axis("position").reset_index()
    by_sku = positioned.loc[positioned["sku"].notna(), ["position", "sku", "location_id", "month"]]
    by_family = positioned.loc[
        positioned["sku"].isna(), ["position", "family", "location_id", "month"]
    ].merge(items[["sku", "family"]].drop_duplicates(), on="family")
    return pd.concat([by_sku, by_family.drop(columns="family")], ignore_index=True)


def _missing_cells(rules: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """sku x location overrides the forecast has no row for, as new zero rows."""
    located = rules["sku"].notna() & rules["location_id"].notna()
    cells = rules.loc[located, SERIES_MONTH_KEY].drop_duplicates()
    merged = cells.merge(plan[SERIES_MONTH_KEY], on=SERIES_MONTH_KEY, how="left", indicator=True)
    present = merged["_merge"] == "both"
    missing = cells[~present.to_numpy()]
    return missing.assign(statistical_qty=0.0, event_qty=0.0, crm_pipeline_qty=0.0)


def _effects(rules: pd.DataFrame, plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Per plan row index: the quantity set or pct applied, and the override's reason/author."""
    skus_of = items.groupby("family")["sku"].apply(set).to_dict()
    effects = _no_effects(plan)
    unplaced: dict[int, list[str]] = {}
    for position, rule in enumerate(rules.itertuples(index=False)):
        skus = {rule.sku} if rule.sku is not None else skus_of.get(rule.family, set())
        hit = plan["sku"].isin(skus) & (plan["month"] == rule.month)
        if rule.location_id is not None:
            hit &= plan["location_id"] == rule.location_id
        cells = plan.index[hit]
        if cells.empty:
            unplaced[position] = [
                "no forecast sku x location in that month to spread it over "
                "(give a sku and a location_id)"
            ]
            continue
        if pd.notna(rule.quantity):
            share = _shares(plan.loc[cells, "statistical_qty"])
            effects.loc[cells, "set_qty"] = rule.quantity * share
        else:
            effects.loc[cells, "pct_change"] = rule.pct_change
        effects.loc[cells, "override_reason"] = rule.reason
        effects.loc[cells, "override_author"] = rule.author
    if unplaced:
        raise OverrideError(_override_message(rules, unplaced, len(rules)))
    return effects


def _shares(statistical_qty: pd.Series) -> pd.Series:
    """Split weights in proportion to the statistical qty; equal when it sums to zero."""
    weights = statistical_qty.astype(float).clip(lower=0.0)
    if weights.sum() > 0:
        return weights / weights.sum()
    return pd.Series(1.0 / len(weights), index=weights.index)


def _no_effects(plan: pd.DataFrame) -> pd.DataFrame:
    """An effects frame for `plan` with no override anywhere."""
    return pd.DataFrame(
        {
            "set_qty": np.nan,
            "pct_change": np.nan,
            "override_reason": pd.Series(None, index=plan.index, dtype=object),
            "override_author": pd.Series(None, index=plan.index, dtype=object),
        },
        index=plan.index,
    )


def _with_consensus(plan: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """plan plus consensus_qty and override_qty from the effects on each row."""
    plan = plan.assign(
        statistical_qty=plan["statistical_qty"].astype(float),
        event_qty=plan["event_qty"].astype(float),
        crm_pipeline_qty=plan["crm_pipeline_qty"].astype(float),
    )
    before = plan["statistical_qty"] + plan["event_qty"] + plan["crm_pipeline_qty"]
    scaled = before * (1.0 + effects["pct_change"])
    consensus = effects["set_qty"].fillna(scaled).fillna(before).clip(lower=0.0)
    overridden = effects["set_qty"].notna() | effects["pct_change"].notna()
    plan["override_qty"] = (consensus - before).where(overridden, 0.0)
    plan["consensus_qty"] = consensus
    plan["override_reason"] = nullable_text(effects["override_reason"])
    plan["override_author"] = nullable_text(effects["override_author"])
    return plan


def _override_message(rules: pd.DataFrame, problems: dict[int, list[str]], total: int) -> str:
    """'plan/overrides: 2 of 9 rows cannot be applied ...' with up to SAMPLE_ROWS sample rows."""
    positions = sorted(problems, key=lambda position: rules["row_number"][position])
    lines = [
        f"    row {rules['row_number'][position]} ({_shown(rules.iloc[position])}): "
        + "; ".join(problems[position])
        for position in positions[:SAMPLE_ROWS]
    ]
    if len(positions) > SAMPLE_ROWS:
        lines.append(f"    ... and {len(positions) - SAMPLE_ROWS} more")
    return (
        f"plan/overrides: {len(positions)} of {total} rows cannot be applied, "
        "nothing was overridden:\n" + "\n".join(lines)
    )


def _shown(rule: pd.Series) -> str:
    """"month='2026-12-01', sku='A', family=<empty>, ..." as the planner wrote the row."""
    raw = {"month": "raw_month", "quantity": "raw_quantity", "pct_change": "raw_pct_change"}
    values = {column: rule[raw.get(column, column)] for column in SHOWN_COLUMNS}
    return ", ".join(
        f"{column}={'<empty>' if value is None else repr(str(value))}"
        for column, value in values.items()
    )


def _number(value: float) -> str:
    """A number for a sentence, decimals only when there are any."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


# --- shared with sop_pipeline.demand.consensus ---------------------------------------------------
