"""Due dates, daily: what is missing or late (submissions.md "Due dates"), a Chinese reminder
(催报提醒) in each late county's folder, and — through the calendar Asset — a transform run, so
marts.submission_status is current even on days nothing arrives."""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from xiezuo.ops.alerts import on_failure

CALENDAR = Asset(name="xiezuo_calendar", uri="xiezuo://calendar/day")


@dag(
    dag_id="xiezuo_due_dates",
    description="Missing and late ledgers per county; reminders into the county folders",
    schedule="0 9 * * *",  # 09:00 city time, after the night's intake
    start_date=pendulum.datetime(2023, 1, 1, tz="Asia/Shanghai"),  # before the programme start: past days can be re-run
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "xiezuo-data",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=15),
        "on_failure_callback": on_failure,
    },
    tags=["xiezuo", "due-dates"],
)
def xiezuo_due_dates():
    @task(outlets=[CALENDAR])
    def remind_late_counties(data_interval_end=None) -> dict:
        """The day is the run's (city time), so a re-run of a past day writes that day's reminders."""
        from xiezuo.ops.late import local_timezone, write_reminders

        day = pendulum.instance(data_interval_end).in_timezone(local_timezone()).date() if data_interval_end else None
        written = write_reminders(day)
        return {"day": str(day), "reminders": written}

    remind_late_counties()


xiezuo_due_dates()
