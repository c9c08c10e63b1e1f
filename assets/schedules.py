"""Run the new cycle once a month, after month-end close."""

from dagster import build_schedule_from_partitioned_job

from assets.jobs import monthly_cycle_job

# The 2nd at 06:00: the ERP has closed the month overnight, planners start the day with it.
monthly_cycle_schedule = build_schedule_from_partitioned_job(
    monthly_cycle_job, day_of_month=2, hour_of_day=6, minute_of_hour=0
)
# The cycle is due by the 5th at noon, before the S&OP meeting: the freshness policy of its
# pack and publication (definitions.py).
CYCLE_DUE_CRON = "0 12 5 * *"
