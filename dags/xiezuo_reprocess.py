"""Reprocessing, on demand: the selected submissions are evaluated again from the archive of
originals (e.g. after a rule changed), the raw layer is replaced in place, and the raw-layer
Asset schedules the transform, which rebuilds and republishes the marts.

Trigger with conf {"county": "150525", "kind": "investment", "month": "2025-03"} or {"all": true}
(or `xiezuo reprocess ...`, which runs this DAG and then the transform)."""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task

from xiezuo.ops.alerts import on_failure

RAW_LAYER = Asset(name="xiezuo_raw", uri="xiezuo://warehouse/raw")


@dag(
    dag_id="xiezuo_reprocess",
    description="Rebuild raw (and, through the Asset, the marts) from the archived originals",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "county": Param(None, type=["null", "string"], description="county code or name"),
        "kind": Param(None, type=["null", "string"], description="ledger kind, e.g. investment"),
        "month": Param(None, type=["null", "string"], description="reporting month YYYY-MM"),
        "all": Param(False, type="boolean", description="every archived submission"),
    },
    default_args={
        "owner": "xiezuo-data",
        "retries": 1,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": on_failure,
    },
    tags=["xiezuo", "reprocess"],
)
def xiezuo_reprocess():
    @task(outlets=[RAW_LAYER])
    def reprocess_from_archive(params=None) -> dict:
        from xiezuo.ops.reprocess import Selection, reprocess

        p = params or {}
        sel = Selection(county=p.get("county"), kind=p.get("kind"), month=p.get("month"), all=bool(p.get("all")))
        return reprocess(sel).as_dict()

    reprocess_from_archive()


xiezuo_reprocess()
