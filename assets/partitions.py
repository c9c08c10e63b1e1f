"""One partition per monthly S&OP cycle, keyed `YYYY-MM`."""

import os

from dagster import MonthlyPartitionsDefinition

# end_offset=1: the cycle of the current month exists as soon as the month starts, because
# cycle 2026-11 plans with the actuals up to the end of 2026-10.
cycle_partitions = MonthlyPartitionsDefinition(
    start_date=os.environ.get("SOP_FIRST_CYCLE", "2022-01"), fmt="%Y-%m", end_offset=1
)
