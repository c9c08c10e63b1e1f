"""Watching the landing folder: a new month's extracts (or a file whose content changed)
request that cycle's run, once per content. Off by default: turn it on in the UI (Automation)
where extracts land unattended; the monthly schedule covers a fixed close calendar."""

import hashlib

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from assets.jobs import monthly_cycle_job
from assets.resources import SopSettings
from sop_pipeline.cycle import month_label, next_cycle
from sop_pipeline.ingest.landing import ContractError, extract_hashes, order_dates


def content_key(hashes: dict[str, str]) -> str:
    """One key for the folder's content: the sha256 of the files' hashes, by entity."""
    text = "\n".join(f"{name}={digest}" for name, digest in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


@sensor(
    job=monthly_cycle_job, minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.STOPPED,
    description="Requests the monthly cycle when the extracts folder's content changes (a new "
                "month landed, or a file was corrected): the cycle after the latest complete "
                "month of erp/sales_orders, once per content (the run key is the files' "
                "hashes). Off by default.",
)
def extracts_landed(context: SensorEvaluationContext, sop: SopSettings):
    folder = sop.extracts_path()
    hashes = extract_hashes(folder) if folder.is_dir() else {}
    if not hashes:
        return SkipReason(f"No extract files in {folder}.")
    key = content_key(hashes)
    if key == context.cursor:
        return SkipReason(f"The extracts in {folder} are those of the last request.")
    try:
        _, last = order_dates(folder)
    except ContractError as error:
        return SkipReason(f"Extracts in {folder} cannot be planned yet: {error}")
    cycle = month_label(next_cycle(last))
    context.update_cursor(key)
    return RunRequest(run_key=key, partition_key=cycle,
                      tags={"sop/trigger": "extracts_landed", "sop/cycle": cycle})
