"""A tiny hand-written extracts folder in the contract, for tests that need exact rows."""

from __future__ import annotations

import csv
from pathlib import Path

MINIMAL: dict[str, list[dict[str, str]]] = {
    "erp/items": [
        dict(sku="A", description="Item A", family="F1", uom="EA", unit_cost="2",
             unit_price="5", make_or_buy="make", lead_time_days="10"),
        dict(sku="B", description="Item B", family="F2", uom="EA", unit_cost="3",
             unit_price="7", make_or_buy="buy", lead_time_days="30"),
    ],
    "erp/locations": [
        dict(location_id="PLT1", name="Plant", kind="plant"),
        dict(location_id="DC1", name="DC", kind="dc"),
    ],
    "erp/sales_orders": [
        dict(order_id=f"SO{i}", line_no="1", order_date=f"2026-0{m}-1{i % 9}",
             requested_date="", account_id="", sku=sku, location_id=loc, quantity=str(q),
             net_amount=str(q * 5), status="invoiced")
        for i, (m, sku, loc, q) in enumerate(
            [(1, "A", "PLT1", 10), (2, "A", "PLT1", 12), (3, "A", "PLT1", 8),
             (1, "B", "DC1", 4), (3, "B", "DC1", 6)]
        )
    ],
    "stock/inventory": [
        dict(snapshot_date="2026-03-31", sku="A", location_id="PLT1", on_hand_qty="20"),
        dict(snapshot_date="2026-03-31", sku="B", location_id="DC1", on_hand_qty="5"),
    ],
}


def write_extracts(root: Path, tables: dict[str, list[dict[str, str]]] | None = None) -> Path:
    """Write `tables` (default: MINIMAL) as CSV files under `root`; return `root`."""
    for name, rows in (tables or MINIMAL).items():
        path = root / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return root
