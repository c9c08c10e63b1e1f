"""Bottom-up roll-up and its coherence check on a hand-computed forecast."""

import pandas as pd
import pytest

from sop_pipeline.demand.hierarchy import ROLLED_COLUMNS, coherence_gap, roll_up

OCT, NOV = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")
ITEMS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["Bikes", "Bikes", "Parts"]})


@pytest.fixture
def rolled() -> pd.DataFrame:
    forecast = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "C", "A"],
            "location_id": ["DC1", "DC2", "DC1", "DC1", "DC1"],
            "month": [OCT, OCT, OCT, OCT, NOV],
            "qty": [1.0, 2.0, 3.0, 4.0, 5.0],
            "lower_80": [0.0] * 5,
            "upper_80": [99.0] * 5,
        }
    )
    return roll_up(forecast, ITEMS)


def _qty(rolled: pd.DataFrame, level: str, key: str, location: str, month: pd.Timestamp):
    row = rolled[
        (rolled["level"] == level)
        & (rolled["key"] == key)
        & (rolled["location_id"] == location)
        & (rolled["month"] == month)
    ]
    assert len(row) == 1, (level, key, location, month)
    return row["qty"].iloc[0]


def test_every_level_sums_its_children(rolled):
    expected = {
        ("sku", "A", "DC1", OCT): 1.0,
        ("sku", "A", "DC2", OCT): 2.0,
        ("family", "Bikes", "DC1", OCT): 4.0,  # A 1 + B 3
        ("family", "Bikes", "DC2", OCT): 2.0,
        ("family", "Parts", "DC1", OCT): 4.0,
        ("total", "total", "DC1", OCT): 8.0,  # Bikes 4 + Parts 4
        ("total", "total", "DC2", OCT): 2.0,
        ("sku", "A", "all", OCT): 3.0,  # DC1 1 + DC2 2
        ("family", "Bikes", "all", OCT): 6.0,
        ("family", "Parts", "all", OCT): 4.0,
        ("total", "total", "all", OCT): 10.0,
        ("family", "Bikes", "DC1", NOV): 5.0,
        ("total", "total", "all", NOV): 5.0,
    }
    for (level, key, location, month), qty in expected.items():
        assert _qty(rolled, level, key, location, month) == qty


def test_one_row_per_level_key_location_month(rolled):
    # Oct: 4 sku + 3 family + 2 total per location, 3 + 2 + 1 for all; Nov: one of each.
    assert len(rolled) == 15 + 6
    assert list(rolled.columns) == ROLLED_COLUMNS
    assert not rolled.duplicated(["level", "key", "location_id", "month"]).any()
    assert "lower_80" not in rolled.columns
    assert rolled.loc[rolled["level"] == "sku"].set_index("key")["family"].to_dict() == {
        "A": "Bikes", "B": "Bikes", "C": "Parts"
    }


def test_coherence_gap_is_zero_bottom_up(rolled):
    assert coherence_gap(rolled) == 0.0


@pytest.mark.parametrize(
    ("level", "key", "location"),
    [("family", "Bikes", "DC1"), ("total", "total", "DC2"), ("sku", "A", "all")],
)
def test_coherence_gap_finds_a_broken_aggregate(rolled, level, key, location):
    broken = rolled.copy()
    row = (
        (broken["level"] == level)
        & (broken["key"] == key)
        & (broken["location_id"] == location)
        & (broken["month"] == OCT)
    )
    broken.loc[row, "qty"] += 1.5
    assert coherence_gap(broken) == 1.5


def test_sku_without_family_is_refused():
    forecast = pd.DataFrame({"sku": ["X"], "location_id": ["DC1"], "month": [OCT], "qty": [1.0]})
    with pytest.raises(ValueError, match="no family in the items: X"):
        roll_up(forecast, ITEMS)
