"""Where the extracts come from, where the warehouse lives, and the planning settings."""


import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

from assets.project import DBT_EXECUTABLE, dbt_project
from sop_pipeline import demo, warehouse
from sop_pipeline.demand.candidates import Backtest
from sop_pipeline.demand.forecast import ForecastSettings
from sop_pipeline.supply.plan import SupplySettings

# DuckDB allows one writing process per file: every asset that writes takes a slot of this
# pool, and dagster.yaml limits pools to one slot, so runs never write at the same time.
WAREHOUSE_POOL = "sop_warehouse"


class SopSettings(ConfigurableResource):
    """Set by `sop run` flags, or by SOP_EXTRACTS_DIR / SOP_WAREHOUSE_DIR for `dagster dev`."""

    extracts_dir: str = ""
    warehouse_dir: str = ""
    horizon_months: int = 18
    backtest_windows: int = 3
    prophet_max_series: int = 300
    forecast_workers: int = max(1, (os.cpu_count() or 1))
    service_level: float = 0.95  # of the safety stock
    holding_cost_rate: float = SupplySettings.holding_cost_rate
    lost_sales_penalty: float = SupplySettings.lost_sales_penalty
    overtime_share: float = SupplySettings.overtime_share
    overtime_cost_per_hour: float = SupplySettings.overtime_cost_per_hour
    currency: str = SupplySettings.currency  # of the items' prices and costs

    def extracts_path(self) -> Path:
        return Path(self.extracts_dir) if self.extracts_dir else demo.default_extracts_dir()

    def warehouse_path(self) -> Path:
        return Path(self.warehouse_dir) if self.warehouse_dir else warehouse.default_warehouse_dir()

    def forecast_settings(self) -> ForecastSettings:
        return ForecastSettings(
            horizon=self.horizon_months, backtest=Backtest(windows=self.backtest_windows),
            prophet_max_series=self.prophet_max_series, workers=self.forecast_workers,
        )

    def supply_settings(self) -> SupplySettings:
        return SupplySettings(
            holding_cost_rate=self.holding_cost_rate, lost_sales_penalty=self.lost_sales_penalty,
            overtime_share=self.overtime_share, overtime_cost_per_hour=self.overtime_cost_per_hour,
            currency=self.currency,
        )

    def connect(self) -> duckdb.DuckDBPyConnection:
        return warehouse.connect(self.warehouse_path())


def build_resources(extracts_dir: str = "", warehouse_dir: str = "") -> dict[str, object]:
    settings = SopSettings(
        extracts_dir=extracts_dir or os.environ.get("SOP_EXTRACTS_DIR", ""),
        warehouse_dir=warehouse_dir or os.environ.get("SOP_WAREHOUSE_DIR", ""),
    )
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    return {"sop": settings, "dbt": dbt}
