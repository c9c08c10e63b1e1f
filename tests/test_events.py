"""Known events expanded to sku x month, and what each series may learn from."""

import pandas as pd
import pytest

from sop_pipeline.demand.events import event_calendar, learned_skus, series_regressor

ITEMS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["Bikes", "Bikes", "Parts"]})


def _events(*rows):
    columns = ["name", "start_month", "end_month", "sku", "family", "uplift_pct"]
    return pd.DataFrame(rows, columns=columns)


def test_family_event_covers_every_sku_and_month_and_overlaps_compound():
    calendar = event_calendar(_events(
        ("Promo", "2026-03-01", "2026-04-01", None, "Bikes", 0.2),
        ("Launch", "2026-04-01", "2026-04-01", "A", None, 0.5),
    ), ITEMS)
    cells = {(r.sku, r.month.strftime("%Y-%m")): r for r in calendar.itertuples(index=False)}
    assert set(cells) == {("A", "2026-03"), ("A", "2026-04"), ("B", "2026-03"),
                          ("B", "2026-04")}
    assert cells["B", "2026-03"].uplift_pct == pytest.approx(0.2)
    assert cells["A", "2026-04"].uplift_pct == pytest.approx(1.2 * 1.5 - 1)  # 0.8
    assert cells["A", "2026-04"].event_names == "Launch; Promo"


def test_regressor_per_series_and_learned_skus():
    calendar = event_calendar(_events(
        ("Past promo", "2025-03-01", "2025-03-01", None, "Bikes", 0.2),
        ("Launch", "2026-12-01", "2026-12-01", "C", None, 0.5),
    ), ITEMS)
    regressor = series_regressor(calendar, pd.Series(["A|DC1", "A|DC2", "C|DC1", "D|DC1"]))
    assert sorted(regressor["unique_id"]) == ["A|DC1", "A|DC2", "C|DC1"]
    assert learned_skus(calendar, pd.Timestamp("2026-10-01")) == {"A", "B"}
    assert learned_skus(calendar, pd.Timestamp("2025-03-01")) == set()  # not before the cut-off


def test_no_events_gives_an_empty_calendar():
    calendar = event_calendar(_events(), ITEMS)
    assert calendar.empty and list(calendar.columns) == ["sku", "month", "uplift_pct",
                                                         "event_names"]
