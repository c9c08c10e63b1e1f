"""CRM pipeline weighting, planner overrides and consensus demand on hand-computed cases."""

import pandas as pd
import pytest

from sop_pipeline.demand.consensus import (
    CONSENSUS_COLUMNS,
    consensus_demand,
    crm_pipeline,
    pipeline_by_deal,
)
from sop_pipeline.demand.overrides import OverrideError, apply_overrides, validate_overrides

CYCLE = pd.Timestamp("2026-10-01")
OCT, NOV, DEC = (pd.Timestamp(m) for m in ("2026-10-01", "2026-11-01", "2026-12-01"))
MONTHS = [OCT, NOV, DEC]
LOCATIONS = ["DC1", "DC2"]
ITEMS = pd.DataFrame(
    {
        "sku": ["A", "B", "C", "D"],
        "family": ["Bikes", "Bikes", "Parts", "Parts"],
        "unit_price": [100.0, 50.0, 2.0, 7.0],
    }
)
# A: 90 at DC1 and 30 at DC2 over the horizon (75 % / 25 %); B only at DC1; C all zero; D none.
STATISTICAL = pd.DataFrame(
    {
        "sku": ["A"] * 6 + ["B", "C", "C"],
        "location_id": ["DC1", "DC2"] * 3 + ["DC1", "DC1", "DC2"],
        "month": [OCT, OCT, NOV, NOV, DEC, DEC, OCT, OCT, OCT],
        "qty": [30.0, 10.0, 30.0, 10.0, 30.0, 10.0, 60.0, 0.0, 0.0],
    }
)


def _deal(deal_id, sku, quantity, probability, close, stage=None, status="open",
          updated="2026-09-20"):
    return {
        "deal_id": deal_id, "account_id": "ACC-1", "sku": sku, "quantity": quantity,
        "amount": None, "stage": stage, "probability": probability,
        "expected_close_date": pd.Timestamp(close), "status": status,
        "updated_at": pd.Timestamp(updated),
    }


DEALS = pd.DataFrame(
    [
        _deal("D1", "A", 100.0, 0.5, "2026-11-15"),  # 50 in Nov
        _deal("D2", "A", 40.0, None, "2026-08-10", stage="Proposal"),  # overdue: 0.5 x 40 in Oct
        _deal("D3", "A", 100.0, 0.9, "2027-03-01"),  # beyond the horizon
        _deal("D4", "A", 100.0, 0.9, "2026-11-01", updated="2026-10-05"),  # after the cut-off
        _deal("D5", "A", 100.0, 1.0, "2026-11-01", status="won"),
        _deal("D6", "A", 100.0, 0.2, "2026-11-01", status="lost"),
        _deal("D7", "C", 8.0, 1.5, "2026-12-31"),  # probability clipped to 1
        _deal("D8", "D", 12.0, None, "2026-10-02", stage="qualification"),  # 0.25, no forecast
        _deal("D9", "B", 10.0, None, "2026-11-03", stage="closed-ish"),  # unknown stage: 0
    ]
)


# --- CRM pipeline ---------------------------------------------------------------------------


def test_pipeline_by_deal_weights_places_and_filters():
    by_deal = pipeline_by_deal(DEALS, CYCLE, MONTHS).set_index("deal_id")
    assert sorted(by_deal.index) == ["D1", "D2", "D7", "D8", "D9"]
    assert by_deal["month"].to_dict() == {"D1": NOV, "D2": OCT, "D7": DEC, "D8": OCT, "D9": NOV}
    assert by_deal["probability"].to_dict() == {
        "D1": 0.5, "D2": 0.5, "D7": 1.0, "D8": 0.25, "D9": 0.0
    }
    assert by_deal["weighted_qty"].to_dict() == {
        "D1": 50.0, "D2": 20.0, "D7": 8.0, "D8": 3.0, "D9": 0.0
    }
    assert by_deal["probability_source"].to_dict() == {
        "D1": "deal", "D2": "stage", "D7": "deal", "D8": "stage", "D9": "none"
    }


def test_stage_probability_can_be_given():
    by_deal = pipeline_by_deal(DEALS, CYCLE, MONTHS, stage_probability={"proposal": 0.2})
    assert by_deal.set_index("deal_id").loc["D2", "weighted_qty"] == 8.0  # 0.2 x 40
    assert "D8" in set(by_deal["deal_id"])  # qualification unknown now: probability 0
    assert by_deal.set_index("deal_id").loc["D8", "weighted_qty"] == 0.0


def test_pipeline_split_across_locations_by_forecast_share():
    pipeline = crm_pipeline(DEALS, CYCLE, MONTHS, STATISTICAL)
    cells = {
        (row.sku, row.location_id, row.month): row.crm_pipeline_qty
        for row in pipeline.itertuples(index=False)
    }
    assert cells == {
        ("A", "DC1", OCT): 15.0,  # D2 20 x 75 %
        ("A", "DC2", OCT): 5.0,
        ("A", "DC1", NOV): 37.5,  # D1 50 x 75 %
        ("A", "DC2", NOV): 12.5,
        ("B", "DC1", NOV): 0.0,
        ("C", "DC1", DEC): 4.0,  # C has a zero forecast: equal split of 8
        ("C", "DC2", DEC): 4.0,
        ("D", None, OCT): 3.0,  # D has no forecast: kept without a location
    }
    assert list(pipeline.columns) == ["sku", "location_id", "month", "crm_pipeline_qty"]


# --- overrides ------------------------------------------------------------------------------


@pytest.fixture
def base() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["A", "A", "B", "C", "C", "A", "A", "B"],
            "location_id": ["DC1", "DC2", "DC1", "DC1", "DC2", "DC1", "DC2", "DC1"],
            "month": [OCT] * 5 + [NOV] * 3,
            "statistical_qty": [30.0, 10.0, 60.0, 0.0, 0.0, 30.0, 10.0, 20.0],
            "crm_pipeline_qty": [15.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        }
    )


def _overrides(*rows: dict) -> pd.DataFrame:
    columns = ["month", "sku", "family", "location_id", "quantity", "pct_change", "reason",
               "author"]
    defaults = {"sku": None, "family": None, "location_id": None, "quantity": None,
                "pct_change": None, "reason": "why", "author": "j.doe"}
    return pd.DataFrame([{**defaults, **row} for row in rows], columns=columns)


def _cell(result: pd.DataFrame, sku: str, location: str, month: pd.Timestamp) -> pd.Series:
    row = result[
        (result["sku"] == sku) & (result["location_id"] == location) & (result["month"] == month)
    ]
    assert len(row) == 1, (sku, location, month)
    return row.iloc[0]


def test_sku_quantity_override_replaces_the_cell(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "sku": "A", "location_id": "DC1", "quantity": 100,
                          "reason": "Tender won", "author": "ann"}), ITEMS
    )
    hit = _cell(result, "A", "DC1", OCT)
    assert (hit.consensus_qty, hit.override_qty) == (100.0, 55.0)  # 100 - 30 - 15
    assert (hit.override_reason, hit.override_author) == ("Tender won", "ann")
    untouched = _cell(result, "A", "DC2", OCT)
    assert (untouched.consensus_qty, untouched.override_qty) == (15.0, 0.0)  # 10 + 5
    assert untouched.override_reason is None and untouched.override_author is None


def test_sku_pct_override_scales_statistical_plus_pipeline(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "sku": "A", "location_id": "DC2", "pct_change": -0.2}),
        ITEMS,
    )
    hit = _cell(result, "A", "DC2", OCT)
    assert (hit.consensus_qty, hit.override_qty) == (12.0, -3.0)  # (10 + 5) x 0.8
    assert _cell(result, "A", "DC1", OCT).consensus_qty == 45.0


def test_sku_quantity_without_location_split_by_statistical_share(base):
    result = apply_overrides(base, _overrides({"month": OCT, "sku": "A", "quantity": 80}), ITEMS)
    assert _cell(result, "A", "DC1", OCT).consensus_qty == 60.0  # 80 x 30 / 40
    assert _cell(result, "A", "DC2", OCT).consensus_qty == 20.0
    assert _cell(result, "A", "DC2", OCT).override_qty == 5.0  # 20 - 10 - 5
    assert _cell(result, "A", "DC1", NOV).consensus_qty == 30.0  # other month untouched


def test_family_quantity_split_to_skus_and_locations_by_share(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "family": "Bikes", "quantity": 200}), ITEMS
    )
    # statistical A@DC1 30, A@DC2 10, B@DC1 60 of 100
    assert _cell(result, "A", "DC1", OCT).consensus_qty == 60.0
    assert _cell(result, "A", "DC2", OCT).consensus_qty == 20.0
    assert _cell(result, "B", "DC1", OCT).consensus_qty == 120.0
    assert _cell(result, "B", "DC1", OCT).override_qty == 60.0
    assert _cell(result, "C", "DC1", OCT).override_qty == 0.0  # Parts untouched


def test_family_pct_applies_to_each_sku(base):
    result = apply_overrides(
        base, _overrides({"month": NOV, "family": "Bikes", "pct_change": 0.1}), ITEMS
    )
    assert _cell(result, "A", "DC1", NOV).consensus_qty == pytest.approx(33.0)
    assert _cell(result, "A", "DC2", NOV).consensus_qty == pytest.approx(11.0)
    assert _cell(result, "B", "DC1", NOV).consensus_qty == pytest.approx(22.0)
    assert _cell(result, "A", "DC1", OCT).consensus_qty == 45.0


def test_family_quantity_at_one_location(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "family": "Bikes", "location_id": "DC1", "quantity": 9}),
        ITEMS,
    )
    assert _cell(result, "A", "DC1", OCT).consensus_qty == 3.0  # 9 x 30 / 90
    assert _cell(result, "B", "DC1", OCT).consensus_qty == 6.0
    assert _cell(result, "A", "DC2", OCT).consensus_qty == 15.0


def test_quantity_split_equally_when_forecast_is_zero(base):
    result = apply_overrides(base, _overrides({"month": OCT, "sku": "C", "quantity": 10}), ITEMS)
    assert _cell(result, "C", "DC1", OCT).consensus_qty == 5.0
    assert _cell(result, "C", "DC2", OCT).consensus_qty == 5.0


def test_override_on_a_cell_without_forecast_adds_it(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "sku": "B", "location_id": "DC2", "quantity": 7}), ITEMS
    )
    added = _cell(result, "B", "DC2", OCT)
    assert (added.statistical_qty, added.crm_pipeline_qty) == (0.0, 0.0)
    assert (added.consensus_qty, added.override_qty) == (7.0, 7.0)
    assert len(result) == len(base) + 1


def test_minus_100_percent_gives_zero(base):
    result = apply_overrides(
        base, _overrides({"month": OCT, "sku": "B", "location_id": "DC1", "pct_change": -1}),
        ITEMS,
    )
    assert (_cell(result, "B", "DC1", OCT).consensus_qty, _cell(result, "B", "DC1", OCT)
            .override_qty) == (0.0, -60.0)


def test_override_with_nothing_to_spread_over_raises(base):
    overrides = _overrides({"month": DEC, "family": "Parts", "quantity": 10})
    with pytest.raises(OverrideError, match=r"row 1 .*no forecast sku x location in that month"):
        apply_overrides(base, overrides, ITEMS)


def test_apply_overrides_refuses_conflicts(base):
    overrides = _overrides(
        {"month": OCT, "sku": "A", "location_id": "DC1", "quantity": 1},
        {"month": OCT, "family": "Bikes", "pct_change": 0.5},
    )
    with pytest.raises(OverrideError, match="conflicts with row 2"):
        apply_overrides(base, overrides, ITEMS)


# --- validation -----------------------------------------------------------------------------

GOOD = {"month": OCT, "sku": "A", "location_id": "DC1", "quantity": 10}


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"month": NOV, "quantity": 5}, "neither sku nor family given"),
        ({"month": NOV, "sku": "A", "family": "Bikes", "quantity": 5},
         "both sku and family given"),
        ({"month": NOV, "sku": "A"}, "neither quantity nor pct_change given"),
        ({"month": NOV, "sku": "A", "quantity": 5, "pct_change": 0.1},
         "both quantity and pct_change given"),
        ({"month": NOV, "sku": "Z", "quantity": 5}, "unknown sku 'Z'"),
        ({"month": NOV, "family": "Toys", "quantity": 5}, "unknown family 'Toys'"),
        ({"month": NOV, "sku": "A", "location_id": "DC9", "quantity": 5},
         "unknown location 'DC9'"),
        ({"month": pd.Timestamp("2027-05-01"), "sku": "A", "quantity": 5},
         "month 2027-05 is outside the planning horizon 2026-10 to 2026-12"),
        ({"month": NOV, "sku": "A", "quantity": -5}, "negative quantity -5"),
        ({"month": NOV, "sku": "A", "pct_change": -1.5}, "pct_change -1.5 is below -1"),
        ({"month": NOV, "sku": "A", "quantity": "lots"}, "quantity 'lots' is not a number"),
        ({"month": "", "sku": "A", "quantity": 5}, "no month"),
    ],
)
def test_invalid_override_names_row_and_problem(bad, problem):
    with pytest.raises(OverrideError) as error:
        validate_overrides(_overrides(GOOD, bad), ITEMS, MONTHS, LOCATIONS)
    message = str(error.value)
    assert "1 of 2 rows cannot be applied" in message
    assert "    row 2 (month=" in message
    assert problem in message
    assert "row 1 " not in message


def test_message_shows_the_row_values():
    bad = {"month": NOV, "sku": "Z", "location_id": "DC2", "pct_change": 0.25}
    with pytest.raises(OverrideError) as error:
        validate_overrides(_overrides(bad), ITEMS, MONTHS, LOCATIONS)
    assert (
        "row 1 (month='2026-11-01', sku='Z', family=<empty>, location_id='DC2', "
        "quantity=<empty>, pct_change='0.25'): unknown sku 'Z'"
    ) in str(error.value)


@pytest.mark.parametrize(
    ("first", "second", "cell"),
    [
        (GOOD, {**GOOD, "quantity": 20}, "A x DC1 x 2026-10"),  # the same cell twice
        (GOOD, {"month": OCT, "family": "Bikes", "pct_change": 0.1}, "A x DC1 x 2026-10"),
        ({"month": OCT, "sku": "A", "pct_change": 0.1}, {**GOOD, "location_id": "DC2"},
         "A x DC2 x 2026-10"),  # an all-locations row overlaps a location row
        ({"month": OCT, "family": "Bikes", "quantity": 1},
         {"month": OCT, "sku": "B", "location_id": "DC1", "quantity": 2}, "B x DC1 x 2026-10"),
    ],
)
def test_conflicting_overrides_name_both_rows(first, second, cell):
    with pytest.raises(OverrideError) as error:
        validate_overrides(_overrides(first, second), ITEMS, MONTHS, LOCATIONS)
    message = str(error.value)
    assert "2 of 2 rows cannot be applied" in message
    assert f"conflicts with row 2: both override {cell}" in message
    assert f"conflicts with row 1: both override {cell}" in message


def test_overrides_on_distinct_cells_pass():
    overrides = _overrides(
        GOOD,
        {**GOOD, "location_id": "DC2"},
        {**GOOD, "month": NOV, "location_id": None},
        {"month": OCT, "family": "Parts", "pct_change": 0.1},
    )
    assert validate_overrides(overrides, ITEMS, MONTHS, LOCATIONS) is None


def test_message_counts_all_and_samples_five():
    bad = [{"month": NOV, "sku": f"Z{n}", "quantity": 1} for n in range(7)]
    with pytest.raises(OverrideError) as error:
        validate_overrides(_overrides(*bad), ITEMS, MONTHS, LOCATIONS)
    message = str(error.value)
    assert "7 of 7 rows cannot be applied" in message
    assert message.count("\n    row ") == 5
    assert "row 5 (" in message and "row 6 (" not in message
    assert "... and 2 more" in message


def test_row_numbers_come_from_the_file():
    overrides = _overrides(GOOD, {"month": NOV, "sku": "Z", "quantity": 1}).assign(
        source_row_number=[41, 42]
    )
    with pytest.raises(OverrideError, match=r"row 42 \(month='2026-11-01', sku='Z'"):
        validate_overrides(overrides, ITEMS, MONTHS, LOCATIONS)


# --- consensus demand -----------------------------------------------------------------------


def test_consensus_demand_joins_pipeline_overrides_and_value():
    statistical = STATISTICAL[STATISTICAL["month"] == OCT]
    crm = pd.DataFrame(
        {
            "sku": ["A", "B", "D"],
            "location_id": ["DC1", "DC2", None],
            "month": [OCT, OCT, OCT],
            "crm_pipeline_qty": [15.0, 4.0, 3.0],
        }
    )
    overrides = _overrides({"month": OCT, "sku": "A", "location_id": "DC1", "pct_change": 0.5})
    consensus = consensus_demand(statistical, crm, overrides, ITEMS)
    assert list(consensus.columns) == CONSENSUS_COLUMNS
    rows = {(row.sku, row.location_id): row for row in consensus.itertuples(index=False)}
    assert set(rows) == {("A", "DC1"), ("A", "DC2"), ("B", "DC1"), ("B", "DC2"), ("C", "DC1"),
                         ("C", "DC2"), ("D", None)}
    a1 = rows["A", "DC1"]
    assert (a1.statistical_qty, a1.crm_pipeline_qty) == (30.0, 15.0)
    assert (a1.consensus_qty, a1.override_qty) == (67.5, 22.5)  # (30 + 15) x 1.5
    assert a1.consensus_value == 6750.0  # 67.5 x 100
    assert a1.family == "Bikes" and a1.override_reason == "why"
    a2 = rows["A", "DC2"]
    assert (a2.crm_pipeline_qty, a2.consensus_qty, a2.consensus_value) == (0.0, 10.0, 1000.0)
    b2 = rows["B", "DC2"]  # pipeline without a statistical row
    assert (b2.statistical_qty, b2.consensus_qty, b2.consensus_value) == (0.0, 4.0, 200.0)
    d = rows["D", None]  # pipeline of a sku with no forecast location
    assert (d.consensus_qty, d.consensus_value, d.family) == (3.0, 21.0, "Parts")


def test_consensus_demand_without_overrides_is_statistical_plus_pipeline():
    crm = crm_pipeline(DEALS, CYCLE, MONTHS, STATISTICAL)
    consensus = consensus_demand(STATISTICAL, crm, None, ITEMS)
    assert (consensus["override_qty"] == 0).all()
    assert consensus["consensus_qty"].sum() == STATISTICAL["qty"].sum() + 81.0  # 20+50+8+3+0
    a1_nov = consensus[(consensus["sku"] == "A") & (consensus["location_id"] == "DC1")
                       & (consensus["month"] == NOV)].iloc[0]
    assert (a1_nov.consensus_qty, a1_nov.consensus_value) == (67.5, 6750.0)  # 30 + 37.5


def test_event_uplift_is_its_own_component_before_overrides():
    statistical = STATISTICAL[STATISTICAL["month"] == OCT]
    events = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [OCT],
                           "uplift_pct": [0.2], "event_names": ["Spring promo"]})
    crm = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [OCT],
                        "crm_pipeline_qty": [15.0]})
    overrides = _overrides({"month": OCT, "sku": "A", "location_id": "DC1", "pct_change": 0.5})
    consensus = consensus_demand(statistical, crm, overrides, ITEMS, events)
    a1 = consensus[(consensus["sku"] == "A") & (consensus["location_id"] == "DC1")].iloc[0]
    assert a1.event_qty == pytest.approx(6.0)  # 30 x 0.2
    assert a1.consensus_qty == pytest.approx((30 + 6 + 15) * 1.5)
    assert a1.override_qty == pytest.approx((30 + 6 + 15) * 0.5)
    assert a1.event_names == "Spring promo"
    others = consensus[consensus["sku"] != "A"]
    assert (others["event_qty"] == 0).all() and others["event_names"].isna().all()
