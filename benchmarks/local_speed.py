"""The local engine before and after a change: the forecast (one worker) and the supply plan
of one company, timed in one process, printing which sop_pipeline it ran.

Run the same script with two checkouts side by side, so both share the machine's load, e.g.
a `git worktree` of the commit before with its own venv (a copy of .venv whose editable
finder points at the worktree):

    .venv/bin/python benchmarks/local_speed.py --series 300 --nodes 3000 --label after
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forecast_speed import company_history
from supply_speed import synthetic_company

import sop_pipeline
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand
from sop_pipeline.supply.plan import SupplySettings, plan_supply


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=3000)
    parser.add_argument("--label", default="this checkout")
    args = parser.parse_args(argv)
    history = company_history(args.series)
    started = time.perf_counter()
    forecast, _ = forecast_demand(history, ForecastSettings(workers=1))
    forecast_seconds = time.perf_counter() - started
    company = synthetic_company(args.nodes, 18, 5)
    started = time.perf_counter()
    plan = plan_supply(company, SupplySettings())
    plan_seconds = time.perf_counter() - started
    print(f"{args.label} ({Path(sop_pipeline.__file__).parent}): forecast "
          f"{history['unique_id'].nunique()} series {forecast_seconds:.1f} s (qty sum "
          f"{forecast['qty'].sum():.6g}); plan_supply {args.nodes} nodes {plan_seconds:.1f} s "
          f"(LP solve {plan.stats['solve_seconds']:.1f} s, lot sizing "
          f"{plan.stats.get('lot_sizing_seconds', 0.0):.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
