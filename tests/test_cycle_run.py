"""Whole cycles through the real Dagster jobs, dbt build and DuckDB file, in process."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sop_pipeline.cli import main, run_cycles
from sop_pipeline.demo import generate_company
from sop_pipeline.report.pack import pack_path, pack_problems
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import database_path
from tests.conftest import COMPANY_CYCLES as CYCLES
from tests.extracts import write_extracts


def _read(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql).df()


def _counts(warehouse) -> dict[str, int]:
    return {name: int(_read(warehouse, f"SELECT count(*) AS n FROM main.{name}")["n"][0])
            for name in OUTPUT_TABLES}


def test_every_output_table_has_rows_for_each_cycle(company):
    _, warehouse = company
    for name in OUTPUT_TABLES:
        cycles = set(_read(warehouse, f"SELECT DISTINCT cycle_month FROM main.{name}")
                     ["cycle_month"].astype(str))
        # variance needs an earlier cycle's forecast: none exists in the first cycle
        expected = {str(c.date()) for c in (CYCLES[1:] if name.startswith("variance") else CYCLES)}
        assert expected <= cycles, name


def test_values_are_consistent(company):
    _, warehouse = company
    capacity = _read(warehouse, "SELECT * FROM main.capacity_plan")
    assert (capacity["utilisation"] - capacity["required_hours"] / capacity["available_hours"]
            ).abs().max() < 1e-9
    assert (capacity["overload_hours"] >= 0).all()
    forecast = _read(warehouse, "SELECT * FROM main.demand_forecast")
    assert (forecast["forecast_qty"] >= 0).all()
    assert (forecast["lower_95"] <= forecast["lower_80"] + 1e-9).all()
    assert (forecast["lower_80"] <= forecast["forecast_qty"] + 1e-9).all()
    assert (forecast["forecast_qty"] <= forecast["upper_80"] + 1e-9).all()
    selected = forecast[forecast["is_selected"]].groupby(["cycle_month", "sku", "location_id"])
    assert (selected["model"].nunique() == 1).all() and (selected.size() == 18).all()
    inventory = _read(warehouse, "SELECT * FROM main.inventory_projection")
    balance = (inventory["opening_qty"] + inventory["receipts_qty"]
               - (inventory["demand_qty"] - inventory["unmet_qty"]) - inventory["closing_qty"])
    assert balance.abs().max() < 1e-6
    # the lag-1 variance of the last cycle compares the first cycle's forecast of 2026-09
    variance = _read(warehouse, "SELECT * FROM main.variance_forecast_vs_actual "
                                "WHERE cycle_month = DATE '2026-10-01'")
    assert set(variance["lag"]) == {0, 1}
    assert (variance["target_month"].astype(str) == "2026-09-01").all()
    actual = _read(warehouse, "SELECT sum(order_qty) AS q FROM marts.fct_monthly_demand "
                              "WHERE month = DATE '2026-09-01'")["q"][0]
    for _, lag in variance.groupby("lag"):
        assert lag["actual_qty"].sum() == pytest.approx(actual)


def test_consensus_adds_pipeline_and_overrides_and_rolls_up(company):
    _, warehouse = company
    consensus = _read(warehouse, "SELECT * FROM main.consensus_demand")
    parts = (consensus["statistical_qty"] + consensus["event_qty"]
             + consensus["crm_pipeline_qty"] + consensus["override_qty"]).clip(lower=0)
    assert (consensus["consensus_qty"] - parts).abs().max() < 1e-9
    assert (consensus["crm_pipeline_qty"] > 0).any()
    # the demo's family promotion is planned, so some cells carry its stated uplift
    evented = consensus[consensus["event_names"].notna()]
    assert len(evented) and (evented["event_qty"] >= 0).all()
    assert (consensus.loc[consensus["event_names"].isna(), "event_qty"] == 0).all()
    assert consensus["override_author"].notna().any()  # the demo company has overrides
    value = consensus["consensus_qty"] * consensus["unit_price"]
    assert (consensus["consensus_value"] - value).abs().max() < 1e-6
    hierarchy = _read(warehouse, "SELECT * FROM main.demand_hierarchy")
    skus = hierarchy[(hierarchy["level"] == "sku") & (hierarchy["location_id"] == "all")]
    families = hierarchy[(hierarchy["level"] == "family") & (hierarchy["location_id"] == "all")]
    by_family = skus.groupby(["cycle_month", "family", "month"])["consensus_qty"].sum()
    joined = families.set_index(["cycle_month", "family", "month"])["consensus_qty"]
    assert (joined - by_family.reindex(joined.index)).abs().max() < 1e-6
    # supply plans against the consensus: required hours = consensus x routing hours
    required = _read(warehouse, """
        SELECT sum(c.consensus_qty * r.hours_per_unit) AS hours FROM main.consensus_demand c
        JOIN marts.dim_routings r USING (sku) WHERE c.cycle_month = DATE '2026-10-01'""")
    planned = _read(warehouse, "SELECT sum(required_hours) AS hours FROM main.capacity_plan "
                               "WHERE cycle_month = DATE '2026-10-01' AND scenario = 'baseline'")
    assert planned["hours"][0] == pytest.approx(required["hours"][0])


def test_conflicting_overrides_fail_the_cycle_with_the_rows_named(company, tmp_path, capsys):
    extracts, warehouse = company
    broken = tmp_path / "extracts"
    shutil.copytree(extracts, broken)
    warehouse = _copy_warehouse(warehouse, tmp_path)
    first = next(csv.DictReader((broken / "plan/overrides.csv").open()))
    family = next(r["family"] for r in csv.DictReader((broken / "erp/items.csv").open())
                  if r["sku"] == first["sku"])
    # a family override over the same cell as the sku override in row 1
    _append_csv(broken / "plan/overrides.csv", [
        {**first, "sku": "", "family": family, "quantity": "", "pct_change": "0.05",
         "reason": "second opinion"}])
    published = _publication(warehouse)
    assert main(["run", "--extracts", str(broken), "--warehouse", str(warehouse),
                 "--cycle", "2026-10"]) == 1
    err = capsys.readouterr().err
    assert "plan/overrides" in err and "conflicts with row 1" in err
    # the run failed mid-way (after the forecast): the last publication stays as it was
    assert _publication(warehouse) == published


def test_alerts_name_what_they_are_about(company):
    _, warehouse = company
    alerts = _read(warehouse, "SELECT * FROM main.alerts")
    assert {"projected_stockout", "capacity_overload", "late_purchase_order"} <= set(alerts["kind"])
    for row in alerts.itertuples():
        # sku@location, work centre, or purchase order/line: the message names it
        assert re.split("[@/]", row.entity)[0] in row.message


def test_rerunning_a_cycle_replaces_exactly_its_rows(company):
    extracts, warehouse = company
    before = _counts(warehouse)
    other = _read(warehouse, "SELECT * FROM main.demand_forecast WHERE cycle_month <> "
                             "DATE '2026-09-01' ORDER BY ALL")
    assert run_cycles([CYCLES[1]], extracts, warehouse)
    assert _counts(warehouse) == before
    after = _read(warehouse, "SELECT * FROM main.demand_forecast WHERE cycle_month <> "
                             "DATE '2026-09-01' ORDER BY ALL")
    pd.testing.assert_frame_equal(other, after)


def test_a_failed_run_leaves_the_outputs_as_they_were(company, tmp_path, capsys):
    _, warehouse = company
    before = {name: _read(warehouse, f"SELECT * FROM main.{name} ORDER BY ALL")
              for name in OUTPUT_TABLES}
    published = _publication(warehouse)
    broken = tmp_path / "broken"
    generate_company(broken, skus=6, locations=2, years=3, seed=3, end_month="2026-09")
    path = broken / "erp/items.csv"
    rows = list(csv.DictReader(path.open()))
    with path.open("w", newline="") as fh:  # drop a required column
        writer = csv.DictWriter(fh, [c for c in rows[0] if c != "unit_cost"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    code = main(["run", "--extracts", str(broken), "--warehouse", str(warehouse),
                 "--cycle", "2026-10"])
    assert code == 1
    err = capsys.readouterr().err
    assert "erp/items.csv" in err and "'unit_cost'" in err and "6 rows" in err
    for name, frame in before.items():
        pd.testing.assert_frame_equal(
            frame, _read(warehouse, f"SELECT * FROM main.{name} ORDER BY ALL"), obj=name)
    assert _publication(warehouse) == published


def test_a_distributor_without_work_centres_gets_a_plan(tmp_path, capsys):
    extracts, warehouse = tmp_path / "extracts", tmp_path / "warehouse"
    generate_company(extracts, skus=5, locations=3, years=2, seed=11, end_month="2026-06",
                     fmt="parquet", work_centers=False)
    assert main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr().out
    assert "Latest cycle 2026-07" in out
    counts = _counts(warehouse)
    assert counts["capacity_plan"] == 0
    assert all(counts[n] > 0 for n in ("demand_forecast", "inventory_projection", "alerts"))


def _copy_warehouse(warehouse, tmp_path):
    """The working file and the last publication, copied."""
    copy = tmp_path / "warehouse"
    copy.mkdir()
    shutil.copy(database_path(warehouse), database_path(copy))
    shutil.copytree(warehouse / "published", copy / "published", symlinks=True)
    return copy


def _publication(warehouse) -> tuple[bytes, str, str]:
    """The serving file's bytes, the manifest, and where parquet/current points."""
    published = warehouse / "published"
    return ((published / "sop_serving.duckdb").read_bytes(),
            (published / "manifest.json").read_text(),
            os.readlink(published / "parquet" / "current"))


READER = """
import json, pathlib, sys, time
import duckdb
serving, stop = sys.argv[1], pathlib.Path(sys.argv[2])
reads, errors = 0, []
while not stop.exists() or reads == 0:
    try:
        with duckdb.connect(serving, read_only=True) as con:
            consensus = con.execute("SELECT sum(consensus_qty) FROM consensus_demand "
                                    "WHERE location_id IS NOT NULL").fetchone()[0]
            total = con.execute("SELECT sum(consensus_qty) FROM demand_hierarchy "
                                "WHERE level = 'total' AND location_id = 'all'").fetchone()[0]
            cycles = con.execute("SELECT count(*) FROM cycle_summary").fetchone()[0]
        if abs(consensus - total) > 1e-6 * max(1.0, abs(total)) or cycles < 3:
            errors.append(f"inconsistent: {consensus} vs {total}, {cycles} cycles")
        reads += 1
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.2)
print(json.dumps({"reads": reads, "errors": errors[:5]}))
"""


def test_bi_readers_read_a_consistent_publication_while_a_cycle_runs(company, tmp_path):
    extracts, warehouse = company
    serving = warehouse / "published" / "sop_serving.duckdb"
    version = json.loads((warehouse / "published" / "manifest.json").read_text())["version"]
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(serving), str(stop)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert run_cycles([CYCLES[2]], extracts, warehouse)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
    result = json.loads(out)
    assert result["errors"] == [] and result["reads"] >= 5, result
    manifest = json.loads((warehouse / "published" / "manifest.json").read_text())
    assert manifest["version"] == version + 1  # the run published once, at its end


def _cycle_outputs(warehouse, cycle: str) -> dict[str, pd.DataFrame]:
    return {name: _read(warehouse, f"SELECT * FROM main.{name} WHERE cycle_month = "
                                   f"DATE '{cycle}' ORDER BY ALL") for name in OUTPUT_TABLES}


def _append_csv(path, rows: list[dict[str, str]]) -> None:
    with path.open() as fh:
        header = next(csv.reader(fh))
    with path.open("a", newline="") as fh:
        csv.DictWriter(fh, header).writerows(rows)


def test_a_cycle_never_reads_data_dated_after_its_cut_off(company, tmp_path):
    extracts, warehouse = company
    later = tmp_path / "extracts"
    shutil.copytree(extracts, later)
    warehouse = _copy_warehouse(warehouse, tmp_path)
    before = _cycle_outputs(warehouse, "2026-09-01")
    order = next(csv.DictReader((later / "erp/sales_orders.csv").open()))
    po = next(csv.DictReader((later / "erp/purchase_orders.csv").open()))
    # orders, a snapshot and a purchase order dated after the 2026-09-01 cut-off
    _append_csv(later / "erp/sales_orders.csv", [
        {**order, "order_id": f"LATE-{i}", "order_date": f"2026-{m}-15",
         "requested_date": f"2026-{m}-20", "quantity": "500"}
        for i, m in enumerate(["09", "10", "11"])
    ])
    _append_csv(later / "stock/inventory.csv", [
        {"snapshot_date": "2026-10-31", "sku": order["sku"], "location_id": order["location_id"],
         "on_hand_qty": "99999"}])
    _append_csv(later / "erp/purchase_orders.csv", [
        {**po, "po_id": "PO-LATE", "order_date": "2026-09-02", "due_date": "2026-08-15",
         "received_date": "", "status": "open"}])
    assert run_cycles([CYCLES[1]], later, warehouse)
    after = _cycle_outputs(warehouse, "2026-09-01")
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
    # the appended rows did land: the cut-off, not the data, kept them out
    assert _read(warehouse, "SELECT count(*) AS n FROM marts.fct_supply_orders "
                            "WHERE order_id = 'PO-LATE'")["n"][0] == 1


def test_a_failing_dbt_test_stops_the_planning_assets(company, tmp_path):
    from assets.dbt import sop_dbt_models
    from assets.definitions import build_defs

    extracts, warehouse = company
    warehouse = _copy_warehouse(warehouse, tmp_path)
    before = _cycle_outputs(warehouse, "2026-10-01")
    with duckdb.connect(str(database_path(warehouse))) as con:
        # a loader that bypassed the contract: the same sku twice, not quarantined
        con.execute("INSERT INTO raw.erp_items SELECT * FROM raw.erp_items LIMIT 1")
    defs = build_defs(str(extracts), str(warehouse))
    job = defs.resolve_job_def("monthly_cycle")
    downstream = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
                  if k.path[0] != "raw"]
    result = job.execute_in_process(partition_key="2026-10", asset_selection=downstream,
                                    raise_on_error=False)
    assert not result.success
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    assert failed == {sop_dbt_models.op.name}
    ran = {e.step_key for e in result.all_events if e.is_step_success}
    assert "demand_forecast" not in ran and "alerts" not in ran
    after = _cycle_outputs(warehouse, "2026-10-01")
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)


def test_the_dagster_definitions_load(tmp_path):
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)}, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All code locations passed validation" in done.stdout + done.stderr


def test_the_smallest_contract_extracts_from_another_tool_run(tmp_path, capsys):
    # only the four required files, a few hand-written rows, three months of history
    extracts = write_extracts(tmp_path / "extracts")
    warehouse = tmp_path / "warehouse"
    assert main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse),
                 "--cycle", "2026-04"]) == 0
    out = capsys.readouterr().out
    assert "extracts: 4 files, 11 rows, 0 quarantined" in out
    assert ("absent optional inputs: erp/work_centers, erp/work_center_calendar, erp/routings"
            in out)
    forecast = _read(warehouse, "SELECT * FROM main.demand_forecast WHERE is_selected")
    # three months: a recent mean; B sold once, so its window average (of the same 3 months)
    assert forecast.groupby("sku")["model"].first().to_dict() == {"A": "mean",
                                                                  "B": "window_average"}
    by_series = forecast.groupby("sku")["forecast_qty"].first()
    assert by_series["A"] == pytest.approx(10.0) and by_series["B"] == pytest.approx(10 / 3)
    inventory = _read(warehouse, "SELECT * FROM main.inventory_projection "
                                 "WHERE month = DATE '2026-04-01' ORDER BY sku")
    assert inventory["opening_qty"].tolist() == [20.0, 5.0]
    assert _counts(warehouse)["capacity_plan"] == 0


def test_every_cycle_has_a_complete_sop_pack(company):
    _, warehouse = company
    for cycle in CYCLES:
        path = pack_path(warehouse, cycle)
        assert pack_problems(path.read_text(encoding="utf-8")) == [], path
