"""Intake: settled files in the county folders → GX gate → raw layer, receipts, archive.

Thin on purpose: the work is in plugins/xiezuo (pipeline.py); this file only wires it.
Emits the raw-layer Asset when anything was loaded, which schedules the transform DAG.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from xiezuo.ops.alerts import on_failure

RAW_LAYER = Asset(name="xiezuo_raw", uri="xiezuo://warehouse/raw")

DEFAULT_ARGS = {
    "owner": "xiezuo-data",
    "retries": 3,
    "retry_delay": timedelta(seconds=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": on_failure,  # webhook / e-mail alert after the last retry
}


def _all(results) -> list:
    """The mapped results in one slice request: iterating Airflow's lazy sequence asks for one
    item past the end, which Airflow logs as an error ("XCom not found") in every run's output."""
    return list(results[:]) if results else []


@dag(
    dag_id="xiezuo_intake",
    description="County ledgers from the drop folders into the raw layer, through the GX gate",
    schedule=timedelta(minutes=1),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["xiezuo", "intake"],
)
def xiezuo_intake():
    @task
    def prepare_warehouse() -> None:
        from xiezuo.pipeline import prepare_warehouse as run

        run()

    @task
    def find_settled_files() -> list[list[dict]]:
        from xiezuo.pipeline import find_batches

        return find_batches()

    @task(max_active_tis_per_dagrun=2)
    def process_batch(batch: list[dict]) -> list[dict]:
        # Each file under a PostgreSQL advisory lock: two runs never load the same file.
        from xiezuo.ops.locks import process_batch_exclusive

        return process_batch_exclusive(batch)

    @task(outlets=[RAW_LAYER], trigger_rule="all_done")
    def announce(results: list[list[dict]]) -> dict:
        """Emit the raw-layer Asset only when something was loaded (skipped tasks emit nothing)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from xiezuo.pipeline import finish_intake

        summary = finish_intake(_all(results))
        if not summary["loaded"]:
            raise AirflowSkipException(f"nothing loaded: {summary['counts'] or 'no settled files'}")
        return summary

    @task(trigger_rule="all_done", retries=0)
    def verdict(results: list[list[dict]]) -> None:
        """Fail the run (alerting the engineers) when any file could not be processed; those
        files stay in the inbox and are tried again on the next run. Not retried: it only
        reads the results, so a retry would say the same thing, minutes later."""
        from xiezuo.pipeline import failed_files

        failed = failed_files(_all(results))
        if failed:
            raise RuntimeError(f"{len(failed)} file(s) could not be processed and stay in the inbox: {failed}")

    batches = find_settled_files()
    prepare_warehouse() >> batches
    results = process_batch.expand(batch=batches)
    announce(results)
    verdict(results)


xiezuo_intake()
