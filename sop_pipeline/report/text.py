"""A short text summary of the warehouse: where the tables are and what the latest cycle says."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sop_pipeline.report.pack import pack_path
from sop_pipeline.report.publish import read_manifest
from sop_pipeline.review.variance import ALL_FAMILIES
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import adopted_scenario


def cycle_report(con: duckdb.DuckDBPyConnection, database: Path) -> str:
    """Rows and cycles per output table, then the headline figures of the latest cycle."""
    lines = [f"Output tables in {database} (schema main):"]
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    for name in OUTPUT_TABLES:
        if name not in present:
            lines.append(f"  {name:30} (not built yet)")
            continue
        rows, cycles = con.execute(
            f"SELECT count(*), count(DISTINCT cycle_month) FROM main.{name}").fetchone()
        lines.append(f"  {name:30} {rows:>10,} rows  {cycles:>3} cycles")
    if "demand_forecast" not in present:
        return "\n".join(lines)
    latest = con.execute("SELECT max(cycle_month) FROM main.demand_forecast").fetchone()[0]
    if latest is None:
        return "\n".join(lines)
    lines.append(f"Latest cycle {latest:%Y-%m}:")
    lines.extend(f"  {text}" for text in _headlines(con, latest, present))
    pack = pack_path(database.parent, latest)
    if pack.exists():
        lines.append(f"S&OP pack: {pack}")
    manifest = read_manifest(database.parent)
    if manifest is not None:
        lines.append(f"For BI tools (read-only, never locked by a run): {database.parent}/"
                     f"published/sop_serving.duckdb and published/parquet/current/*.parquet "
                     f"(version {manifest['version']})")
    else:
        lines.append(f"Query them with: duckdb -readonly {database}")
    return "\n".join(lines)


def load_summary(con: duckdb.DuckDBPyConnection) -> str:
    """What the latest extract load took in: files, rows quarantined, optional inputs absent,
    and where the CRM came from (the extracts folder, or the Pipedrive pull)."""
    latest = "(SELECT arg_max(load_id, loaded_at) FROM raw.load_log)"
    rows = con.execute(
        f"""SELECT entity, status, rows, quarantined, source_file FROM raw.load_log
            WHERE load_id = {latest}"""
    ).fetchall()
    loaded = [r for r in rows if r[1] == "loaded"]
    absent = [r[0] for r in rows if r[1] == "absent"]
    text = (f"extracts: {len(loaded)} files, {sum(r[2] for r in loaded):,} rows, "
            f"{sum(r[3] for r in loaded):,} quarantined (see raw.quarantine)")
    by_rule = con.execute(  # each rule named, so a line held back is seen (implausible_quantity)
        f"""SELECT rule, entity, count(DISTINCT row_number) FROM raw.quarantine
            WHERE load_id = {latest} GROUP BY ALL ORDER BY 3 DESC, 1, 2"""
    ).fetchall()
    if by_rule:
        text += ": " + ", ".join(f"{n:,} {rule} in {entity}" for rule, entity, n in by_rule)
    text += f"; absent optional inputs: {', '.join(absent)}" if absent else ""
    deals = next((r for r in loaded if r[0] == "crm/deals"), None)
    if deals is not None:
        source = (deals[4] if str(deals[4]).startswith("pipedrive")
                  else "extracts folder (crm/deals file)")
        text += f"\nCRM: {deals[2]:,} deal rows from the {source}"
    return text


def _headlines(con: duckdb.DuckDBPyConnection, cycle, present: set[str]) -> list[str]:
    def one(sql: str, *params: object):
        return con.execute(sql, [cycle, *params]).fetchone()

    series, models = one(
        """SELECT sum(n), string_agg(model || '=' || n, ', ' ORDER BY n DESC) FROM (
             SELECT model, count(*) AS n FROM main.forecast_accuracy
             WHERE is_selected AND cycle_month = ? GROUP BY model)""")
    next3 = one(
        """SELECT sum(forecast_qty) FROM main.demand_forecast WHERE is_selected
           AND cycle_month = $1 AND month < $1 + INTERVAL 3 MONTH""")[0]
    lines = [f"series forecast: {series:,} (selected models: {models})",
             f"forecast units, next 3 months: {next3 or 0:,.0f}"]
    plan = adopted_scenario(con, cycle)
    if "capacity_plan" in present:
        peak = one("""SELECT work_center_id, month, utilisation FROM main.capacity_plan
                      WHERE cycle_month = $1 AND scenario = $2
                      ORDER BY utilisation DESC NULLS LAST LIMIT 1""", plan)
        if peak:
            lines.append(f"peak utilisation ({plan} plan): {peak[2]:.0%} at {peak[0]} in "
                         f"{peak[1]:%Y-%m}")
    if "inventory_projection" in present:
        at_risk = one("""SELECT count(DISTINCT sku || '@' || location_id)
                         FROM main.inventory_projection WHERE cycle_month = $1
                         AND scenario = $2 AND status = 'stockout'""", plan)[0]
        lines.append(f"sku-locations projected to stock out ({plan} plan): {at_risk:,}")
    if "variance_forecast_by_family" in present:
        wape = one(f"""SELECT wape FROM main.variance_forecast_by_family
                       WHERE cycle_month = ? AND lag = 1 AND family = '{ALL_FAMILIES}'""")
        if wape and wape[0] is not None:
            lines.append(f"forecast WAPE at lag 1 for the month just closed: {wape[0]:.1%}")
    if "alerts" in present:
        counts = one("""SELECT string_agg(kind || '=' || n, ', ' ORDER BY kind) FROM (
                          SELECT kind, count(*) AS n FROM main.alerts
                          WHERE cycle_month = ? GROUP BY kind)""")[0]
        lines.append(f"alerts: {counts or 'none'}")
    if "scenario_kpis" in present:
        what_ifs = con.execute(f"""SELECT scenario, margin_vs_baseline, currency
                                   FROM main.scenario_kpis WHERE cycle_month = ?
                                   AND scenario <> '{BASELINE}' ORDER BY scenario""",
                               [cycle]).fetchall()
        if what_ifs:
            lines.append("scenarios, margin against the baseline: " + ", ".join(
                f"{name} {margin:+,.0f} {currency}" for name, margin, currency in what_ifs))
    if "plan_version" in present:
        adopted = one("SELECT scenario, decision_id, decided_by FROM main.plan_version "
                      "WHERE cycle_month = ?")
        if adopted:
            by = f" ({adopted[1]}, {adopted[2]})" if adopted[1] else ""
            lines.append(f"adopted plan: {adopted[0]}{by}")
    return lines
