"""Where the extracts come from, where the warehouse lives, and the planning settings."""


import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, DagsterEventType, InitResourceContext
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource
from pydantic import Field

from assets.project import DBT_EXECUTABLE, dbt_project
from sop_pipeline import demo, warehouse
from sop_pipeline.demand.candidates import Backtest
from sop_pipeline.demand.forecast import ForecastSettings
from sop_pipeline.engine import Engine
from sop_pipeline.runs import guarded_run
from sop_pipeline.supply.plan import SupplySettings

# DuckDB allows one writing process per file: every asset that writes takes a slot of this
# pool, and dagster.yaml limits pools to one slot, so runs never write at the same time.
WAREHOUSE_POOL = "sop_warehouse"


class SopSettings(ConfigurableResource):
    """Set by `sop run` flags, or by SOP_EXTRACTS_DIR / SOP_WAREHOUSE_DIR / SOP_ENGINE (and
    SOP_SPARK_MASTER / SOP_DASK_SCHEDULER) for `dagster dev`."""

    extracts_dir: str = Field(
        default="", description="Folder of the extract files (the contract's layout); empty: "
        "SOP_EXTRACTS_DIR, else the bundled demo company in ./demo_data.")
    warehouse_dir: str = Field(
        default="", description="Folder of the DuckDB working file, the packs and the "
        "publication; empty: SOP_WAREHOUSE_DIR, else ./warehouse.")
    horizon_months: int = Field(
        default=18, description="Months forecast and planned from the cycle month.")
    backtest_windows: int = Field(
        default=3, description="Rolling origins of the forecast backtest that selects the "
        "model per series.")
    prophet_max_series: int = Field(
        default=300, description="Prophet is fitted on at most this many series (the "
        "largest by volume); it is the slowest candidate.")
    forecast_workers: int = Field(
        default=max(1, (os.cpu_count() or 1)),
        description="Processes fitting forecasts (and planning scenarios) side by side; "
        "default: the machine's cores.")
    engine: str = Field(
        default="", description="Where the forecast and the supply LPs run: local (this "
        "machine's process pool), spark or dask; empty: SOP_ENGINE, else local.")
    engine_address: str = Field(
        default="", description="The Spark master (local[*], spark://host:port, or a Spark "
        "Connect sc:// address) or Dask scheduler (tcp://host:port); empty: "
        "SOP_SPARK_MASTER / SOP_DASK_SCHEDULER, else local[*] / a LocalCluster for the run.")
    service_level: float = Field(
        default=0.95, description="Cycle service level of the safety stock, from 0.5 to "
        "under 1 (0.95 = 95 %).")
    holding_cost_rate: float = Field(
        default=SupplySettings.holding_cost_rate,
        description="Cost of holding a unit a month, as a share of its unit cost.")
    lost_sales_penalty: float = Field(
        default=SupplySettings.lost_sales_penalty,
        description="Cost of a lost sale in the supply LP, as a multiple of the unit price.")
    overtime_share: float = Field(
        default=SupplySettings.overtime_share,
        description="Overtime allowed above a work centre's available hours, as a share of "
        "them (0.1 = 10 %).")
    overtime_cost_per_hour: float = Field(
        default=SupplySettings.overtime_cost_per_hour,
        description="Cost of an overtime hour, in the currency.")
    currency: str = Field(
        default=SupplySettings.currency,
        description="Currency of the items' prices and costs, shown on every money figure.")

    def extracts_path(self) -> Path:
        return Path(self.extracts_dir) if self.extracts_dir else demo.default_extracts_dir()

    def warehouse_path(self) -> Path:
        return Path(self.warehouse_dir) if self.warehouse_dir else warehouse.default_warehouse_dir()

    def compute_engine(self) -> Engine:
        return Engine.from_env(self.engine, self.engine_address)

    def forecast_settings(self) -> ForecastSettings:
        return ForecastSettings(
            horizon=self.horizon_months, backtest=Backtest(windows=self.backtest_windows),
            prophet_max_series=self.prophet_max_series, workers=self.forecast_workers,
            engine=self.compute_engine(),
        )

    def supply_settings(self) -> SupplySettings:
        return SupplySettings(
            holding_cost_rate=self.holding_cost_rate, lost_sales_penalty=self.lost_sales_penalty,
            overtime_share=self.overtime_share, overtime_cost_per_hour=self.overtime_cost_per_hour,
            currency=self.currency, engine=self.compute_engine(),
        )

    def connect(self) -> duckdb.DuckDBPyConnection:
        return warehouse.connect(self.warehouse_path())

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator["SopSettings"]:
        """A run holds the warehouse from its start to its end, and keeps its planning rows
        only if no step failed (sop_pipeline.runs); sensors and schedules hold nothing."""
        run = context.dagster_run
        if run is None or context.instance is None:
            yield self
            return
        instance = context.instance
        tags = run.tags
        holder = (f"run {run.run_id} of {run.job_name}"
                  + (f", cycle {tags['dagster/partition']}" if "dagster/partition" in tags
                     else ""))

        def failed() -> bool:
            return bool(instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE))

        with guarded_run(self.warehouse_path(), run.run_id, holder, failed):
            yield self


def build_resources(extracts_dir: str = "", warehouse_dir: str = "", engine: str = "",
                    engine_address: str = "") -> dict[str, object]:
    settings = SopSettings(
        extracts_dir=extracts_dir or os.environ.get("SOP_EXTRACTS_DIR", ""),
        warehouse_dir=warehouse_dir or os.environ.get("SOP_WAREHOUSE_DIR", ""),
        engine=engine, engine_address=engine_address,
    )
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    return {"sop": settings, "dbt": dbt, "dlt": DagsterDltResource()}
