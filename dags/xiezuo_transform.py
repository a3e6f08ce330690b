"""Transform: dbt builds the facts and marts aside → GX mart gate → atomic publish.

Scheduled on the raw-layer Asset the intake (and reprocessing) emits (data-aware), not on a clock,
and on the daily calendar Asset of the due-dates DAG (submission_status depends on the day).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from xiezuo.ops.alerts import on_failure

PUBLISH_POOL = "xiezuo_publish"  # 1 slot (xiezuo.ops.locks.ensure_pools): one build/publish at a time
RAW_LAYER = Asset(name="xiezuo_raw", uri="xiezuo://warehouse/raw")
CALENDAR = Asset(name="xiezuo_calendar", uri="xiezuo://calendar/day")  # daily: submission_status
MARTS = Asset(name="xiezuo_marts", uri="xiezuo://warehouse/marts")


DEFAULT_ARGS = {
    "owner": "xiezuo-data",
    "retries": 2,
    "retry_delay": timedelta(seconds=15),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(minutes=60),
    "pool": PUBLISH_POOL,
    "on_failure_callback": on_failure,  # webhook / e-mail alert, incl. the mart gate refusing
}


@dag(
    dag_id="xiezuo_transform",
    description="dbt facts and indicator marts, built aside, gated by GX, published atomically",
    schedule=(RAW_LAYER | CALENDAR),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["xiezuo", "transform", "dbt"],
)
def xiezuo_transform():
    @task
    def dbt_build_aside() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        from xiezuo.warehouse.transform import DataTestFailed, build_aside

        try:
            build_aside()
        except DataTestFailed as exc:  # wrong data, not a flaky server: fail now, no retries
            raise AirflowFailException(str(exc)) from exc

    @task(retries=0)
    def mart_quality_gate() -> None:
        from xiezuo.pipeline import gate_marts

        gate_marts()

    @task(outlets=[MARTS])
    def publish_marts() -> None:
        from xiezuo.warehouse.transform import publish

        publish()

    # XIEZUO_DBT_TASKS=cosmos: one task per dbt model with its tests (astronomer-cosmos, from the
    # manifest); otherwise one dbt build (xiezuo.ops.dbt_tasks says why).
    from xiezuo.ops.dbt_tasks import models_group

    models = models_group(DEFAULT_ARGS)
    if models is None:
        dbt_build_aside() >> mart_quality_gate() >> publish_marts()
    else:
        @task
        def clear_build_schema() -> None:
            from xiezuo.ops.dbt_tasks import clear_build

            clear_build()

        clear_build_schema() >> models >> mart_quality_gate() >> publish_marts()


xiezuo_transform()
