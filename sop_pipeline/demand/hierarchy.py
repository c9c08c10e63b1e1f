"""Bottom-up roll-up of a sku x location forecast to family and total, per location and overall.

Levels: sku, family and total, each per location and for all locations (location_id 'all').
Every aggregate is the plain sum of its children, so the hierarchy is coherent by construction:
family = sum of its skus, total = sum of the families, 'all' = sum of the locations.
Interval columns (lower_80, upper_80, lower_95, upper_95) are not summed: bounds do not add up.
"""

from __future__ import annotations

import pandas as pd

from sop_pipeline.checks import tolerance
from sop_pipeline.tables import nullable_text

ALL_LOCATIONS = "all"
TOTAL = "total"
ROLLED_COLUMNS = ["level", "key", "family", "location_id", "month", "qty"]
GROUP = ["level", "key", "family", "location_id", "month"]
LEVEL_ORDER = {"sku": 0, "family": 1, TOTAL: 2}


def demand_hierarchy(consensus: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The demand_hierarchy rows: statistical_qty and consensus_qty of the located consensus
    rows, each rolled up bottom-up."""
    planned = consensus[consensus["location_id"].notna()]
    return roll_up(planned.rename(columns={"statistical_qty": "qty"}), items).merge(
        roll_up(planned.rename(columns={"consensus_qty": "qty"}), items),
        on=GROUP, suffixes=("_statistical", ""),
    ).rename(columns={"qty_statistical": "statistical_qty", "qty": "consensus_qty"})


def roll_up(forecast: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """qty at sku, family and total level, per location and for all locations, bottom-up.

    forecast: sku, location_id, month, qty; items: sku, family. `family` on each row is the
    family of the sku or family (None on total rows), so coherence can be checked from it.
    """
    families = items[["sku", "family"]].drop_duplicates("sku")
    sku = forecast[["sku", "location_id", "month", "qty"]].merge(families, on="sku", how="left")
    orphans = sorted(sku.loc[sku["family"].isna(), "sku"].astype(str).unique())
    if orphans:
        raise ValueError(
            f"roll_up: {len(orphans)} sku(s) of the forecast have no family in the items: "
            f"{', '.join(orphans[:5])}{' ...' if len(orphans) > 5 else ''}"
        )
    sku_level = _summed(sku.assign(level="sku", key=sku["sku"]))
    family_level = _summed(sku_level.assign(level="family", key=sku_level["family"]))
    total_level = _summed(family_level.assign(level=TOTAL, key=TOTAL, family=None))
    per_location = pd.concat([sku_level, family_level, total_level], ignore_index=True)
    all_locations = _summed(per_location.assign(location_id=ALL_LOCATIONS))
    rolled = pd.concat([per_location, all_locations], ignore_index=True)
    rolled["family"] = nullable_text(rolled["family"])
    order = rolled["level"].map(LEVEL_ORDER)
    rolled = rolled.assign(_order=order).sort_values(["_order", "key", "location_id", "month"])
    return rolled[ROLLED_COLUMNS].reset_index(drop=True)


def coherence_gap(rolled: pd.DataFrame) -> float:
    """Largest |aggregate - sum of its children| beyond float noise in a roll_up result (0
    when coherent).

    Checks family = its skus, total = the families (per location), and 'all' = the locations.
    """
    if rolled.empty:
        return 0.0
    per_location = rolled[rolled["location_id"] != ALL_LOCATIONS]
    overall = rolled[rolled["location_id"] == ALL_LOCATIONS]
    gaps = [
        _gap(
            rolled[rolled["level"] == "family"].assign(parent=lambda frame: frame["key"]),
            rolled[rolled["level"] == "sku"].assign(parent=lambda frame: frame["family"]),
            ["parent", "location_id", "month"],
        ),
        _gap(
            rolled[rolled["level"] == TOTAL],
            rolled[rolled["level"] == "family"],
            ["location_id", "month"],
        ),
        _gap(overall, per_location, ["level", "key", "month"]),
    ]
    return float(max(gaps))


def _summed(frame: pd.DataFrame) -> pd.DataFrame:
    """qty summed per level, key, family, location and month (total rows have no family)."""
    return frame.groupby(GROUP, as_index=False, dropna=False)["qty"].sum()


def _gap(parents: pd.DataFrame, children: pd.DataFrame, on: list[str]) -> float:
    """Largest |parent qty - summed children qty| on `on` beyond float noise (the tolerance of
    sop_pipeline.checks, relative to the quantities summed); a side missing counts as 0."""
    summed = children.groupby(on, as_index=False, dropna=False)["qty"].sum()
    paired = parents[[*on, "qty"]].merge(summed, on=on, how="outer", suffixes=("", "_children"))
    parent, total = paired["qty"].fillna(0.0), paired["qty_children"].fillna(0.0)
    difference = (parent - total).abs()
    difference = difference.where(difference > tolerance(parent, total), 0.0)
    return float(difference.max()) if len(difference) else 0.0
