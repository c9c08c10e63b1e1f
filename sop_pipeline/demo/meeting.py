"""What the demo company's S&OP meetings weigh and decide: three what-if scenarios in
plan/scenarios and a few decisions across cycles in plan/decisions.

The scenarios: a promotion (+15 % demand on the family selling most, for the three months
after the latest cycle's), an extra shift on the work centre the coming year's expected
demand loads most (+25 % hours; a manufacturer only) and a late supplier (30 days' delay of
the supplier with the most open purchase quantity; where purchase orders are open). The
decisions, by cycle (the latest cycle is the month after end_month): the extra shift
adopted one cycle before the latest and restated open at it (the plan of both), a second
supplier due two cycles before the latest and still open (decision_overdue fires: high at
the latest cycle), a stock review done, and the promotion adopted, then dropped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sop_pipeline.demo.arrow import contract_table
from sop_pipeline.demo.company import Company

PROMOTION, EXTRA_SHIFT, LATE_SUPPLIER = "promotion", "extra_shift", "late_supplier"


def scenarios(company: Company, tables: dict[str, pa.Table]) -> pa.Table:
    """The three scenarios, one lever each, on the company's own family, centre, supplier."""
    T, start = company.T, company.month_start
    family = _top_family(company)
    rows = [(PROMOTION, f"Promotion on {family}: +15 % demand for three months",
             "demand_pct", family, None, None, start[T + 1], start[T + 3], 0.15)]
    centre = _most_loaded_centre(company, tables)
    if centre is not None:
        rows.append((EXTRA_SHIFT, f"A second shift on {centre}: +25 % hours", "capacity_pct",
                     None, centre, None, None, None, 0.25))
    supplier = _main_open_supplier(tables)
    if supplier is not None:
        rows.append((LATE_SUPPLIER, f"{supplier} delivers 30 days late", "supplier_delay_days",
                     None, None, supplier, None, None, 30.0))
    (names, descriptions, levers, families, centres, suppliers, firsts, lasts,
     values) = zip(*rows, strict=True)
    return contract_table("plan/scenarios", {
        "scenario": names, "description": descriptions, "lever": levers, "family": families,
        "sku": [None] * len(rows), "work_center_id": centres, "supplier_id": suppliers,
        "start_month": _dates(firsts), "end_month": _dates(lasts),
        "value": values,
    })


def decisions(company: Company, scenario_table: pa.Table) -> pa.Table:
    """Four decisions over the last cycles, one of them restated and one dropped."""
    T, start = company.T, company.month_start
    names = set(scenario_table["scenario"].to_pylist())
    shift = EXTRA_SHIFT if EXTRA_SHIFT in names else PROMOTION
    family, sku = _top_family(company), str(company.sku_codes[0])
    # (cycle index, id, title, adopted scenario, owner, due index, status, rationale)
    rows = [
        (T - 4, "D-01", f"Review the stock of {sku} against its safety stock", None,
         "supply.planner", T - 1, "open", "Stock above target for two quarters"),
        (T - 3, "D-02", f"Qualify a second supplier for {family}", None, "purchasing.lead",
         T - 2, "open", "One supplier carries the family"),
        (T - 2, "D-03", f"Run the {family} promotion", PROMOTION, "sales.director", T + 1,
         "open", "Regain share before the season"),
        (T - 1, "D-01", f"Review the stock of {sku} against its safety stock", None,
         "supply.planner", T - 1, "done", "Reorder points lowered"),
        (T - 1, "D-03", f"Run the {family} promotion", PROMOTION, "sales.director", T + 1,
         "dropped", "Capacity cannot serve it this season"),
        (T - 1, "D-04", "Adopt the extra shift plan", shift, "ops.director", T + 2, "open",
         "Peak-season overload costs more in lost sales than the shift"),
        (T, "D-04", "Adopt the extra shift plan", shift, "ops.director", T + 2, "open",
         "Shift staffed from next month"),
    ]
    cycle, ids, titles, adopted, owners, due, status, rationale = zip(*rows, strict=True)
    return contract_table("plan/decisions", {
        "cycle_month": start[list(cycle)], "decision_id": ids, "title": titles,
        "adopted_scenario": adopted, "owner": owners, "due_month": start[list(due)],
        "status": status, "rationale": rationale,
    })


def _dates(months: tuple) -> pa.Array:
    """Month starts (numpy) or None as an Arrow date column."""
    return pa.array([None if m is None else m.item() for m in months], pa.date32())


def _top_family(company: Company) -> str:
    """The family with the most sales value over the last twelve months."""
    value = np.zeros(len(company.families))
    np.add.at(value, company.fam[company.s_sku], company.actual_amount[:, -12:].sum(axis=1))
    return company.families[int(np.argmax(value))].name


def _most_loaded_centre(company: Company, tables: dict[str, pa.Table]) -> str | None:
    """The work centre the expected demand of the coming year loads most in its peak month
    (required hours over its normal hours)."""
    if "erp/work_centers" not in tables or tables["erp/routings"].num_rows == 0:
        return None
    T = company.T
    sku_demand = np.zeros((company.n_skus, 12))
    np.add.at(sku_demand, company.s_sku, company.mu[:, T:T + 12])
    routings, centres = tables["erp/routings"], tables["erp/work_centers"]
    ids = centres["work_center_id"].to_pylist()
    sku_index = {str(code): i for i, code in enumerate(company.sku_codes)}
    hours = np.zeros((len(ids), 12))
    for sku, centre, per_unit in zip(*(routings[c].to_pylist() for c in (
            "sku", "work_center_id", "hours_per_unit")), strict=True):
        hours[ids.index(centre)] += per_unit * sku_demand[sku_index[sku]]
    available = np.maximum(centres["available_hours_per_month"].to_numpy(), 1e-9)
    return ids[int(np.argmax(hours.max(axis=1) / available))]


def _main_open_supplier(tables: dict[str, pa.Table]) -> str | None:
    """The supplier with the most open purchase quantity."""
    orders = tables["erp/purchase_orders"]
    open_lines = orders.filter(pc.equal(orders["status"], "open"))
    if open_lines.num_rows == 0:
        return None
    totals = open_lines.group_by("supplier_id").aggregate([("quantity", "sum")])
    ranked = sorted(zip(totals["supplier_id"].to_pylist(), totals["quantity_sum"].to_pylist(),
                        strict=True), key=lambda pair: (-pair[1], pair[0]))
    return str(ranked[0][0])
