"""`generate_company`: a deterministic demo company (bike maker or distributor) written as a
landing folder, one CSV or Parquet file per contract extract."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sop_pipeline.demo import commercial, demand, master, meeting, supply
from sop_pipeline.demo.company import Company
from sop_pipeline.ingest.contract import ENTITIES

FORMATS = ("csv", "parquet")


def generate_company(
    out_dir: Path | str,
    skus: int = 40,
    locations: int = 2,
    years: int = 4,
    seed: int = 7,
    end_month: str | None = None,
    fmt: str = "csv",
    work_centers: bool = True,
) -> dict[str, int]:
    """Write the demo company's extracts; return rows written per entity ('erp/items': 40, ...).

    `end_month` ("YYYY-MM", default: the month before today's) is the last complete month of
    history, which covers `years * 12` months. `work_centers=False` writes a distributor (all
    items bought; no work centres, routings or production orders). Contract files this call
    does not write (the other format, the manufacturing files of a distributor) are removed
    from `out_dir`, so the folder always holds exactly one company. Everything is drawn
    vectorised (no loop per order line) from `seed`: the same arguments give byte-identical
    files.
    """
    if skus < 1 or locations < 1 or years < 1:
        raise ValueError("skus, locations and years must each be at least 1.")
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: expected one of {', '.join(FORMATS)}.")
    company = Company(skus, locations, years, seed, _parse_end_month(end_month), work_centers)
    built = _build(company)
    tables = {e.name: built[e.name] for e in ENTITIES if e.name in built}  # contract order
    out = Path(out_dir)
    for entity in ENTITIES:
        for ext in FORMATS:
            path = out / f"{entity.name}.{ext}"
            if path.exists() and (entity.name not in tables or ext != fmt):
                path.unlink()
    for name, table in tables.items():
        _write(table, out / f"{name}.{fmt}", fmt)
    return {name: table.num_rows for name, table in tables.items()}


def _build(company: Company) -> dict[str, pa.Table]:
    """Every extract by entity name. A stage reads what earlier stages drew, and some share a
    random stream (stock outliers then inventory, overrides then events): keep this order."""
    tables = {
        "erp/items": master.items(company),
        "erp/locations": master.locations(company),
        "crm/accounts": master.accounts(company),
    }
    demand.series(company)
    demand.model(company)
    tables["erp/sales_orders"] = demand.sales_orders(company)
    if company.manufacturer:
        tables["erp/work_centers"], tables["erp/routings"] = master.capacity(company)
        tables["erp/work_center_calendar"] = master.calendar(company, tables["erp/work_centers"])
    supply.pick_stock_outliers(company)
    tables["erp/purchase_orders"] = supply.purchase_orders(company)
    if company.manufacturer:
        tables["erp/production_orders"] = supply.production_orders(company)
    tables["erp/budget"] = commercial.budget(company)
    tables["crm/deals"] = commercial.deals(company)
    tables["stock/inventory"] = supply.inventory(company)
    tables["plan/overrides"] = commercial.overrides(company)
    tables["plan/events"] = commercial.events(company)
    tables["plan/scenarios"] = meeting.scenarios(company, tables)
    tables["plan/decisions"] = meeting.decisions(company, tables["plan/scenarios"])
    return tables


def _parse_end_month(text: str | None) -> np.datetime64:
    """'YYYY-MM' → numpy month; None → the month before today's."""
    if text is None:
        return np.datetime64(dt.date.today(), "M") - 1
    try:
        return np.datetime64(dt.datetime.strptime(text, "%Y-%m").date(), "M")
    except ValueError as exc:
        raise ValueError(f"Not a month: {text!r} (expected YYYY-MM).") from exc


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    """CSV: unquoted, empty for null, ISO dates; Parquet: typed columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
        return
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False,
                                                          quoting_style="none"))
