"""One partition per monthly S&OP cycle, keyed `YYYY-MM`, from the first cycle the data
supports (cycle.first_supported_cycle: a year after the first sales order of the extracts in
SOP_EXTRACTS_DIR, else of the bundled demo company), or SOP_FIRST_CYCLE when set; FALLBACK when
neither is there to read (a fresh checkout before the demo company is generated)."""

import os

from dagster import MonthlyPartitionsDefinition

from sop_pipeline import demo
from sop_pipeline.cycle import month_label
from sop_pipeline.ingest.landing import first_cycle_supported

FALLBACK_FIRST_CYCLE = "2022-01"


def first_cycle() -> str:
    """The first cycle partition, `YYYY-MM` (module docstring)."""
    if os.environ.get("SOP_FIRST_CYCLE"):
        return os.environ["SOP_FIRST_CYCLE"]
    first = first_cycle_supported(demo.default_extracts_dir())
    return month_label(first) if first is not None else FALLBACK_FIRST_CYCLE


# end_offset=1: the cycle of the current month exists as soon as the month starts, because
# cycle 2026-11 plans with the actuals up to the end of 2026-10.
cycle_partitions = MonthlyPartitionsDefinition(start_date=first_cycle(), fmt="%Y-%m",
                                               end_offset=1)
