"""dbt visible in Airflow (issue 5): with XIEZUO_DBT_TASKS=cosmos the transform DAG renders one
task per dbt model (with its tests) from the manifest, parses fast, and still ends in the GX mart
gate and the atomic publish."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = [pytest.mark.integration, pytest.mark.once]


def test_cosmos_transform_renders_models_and_publishes(xz_env, monkeypatch):
    from xiezuo.config import DAGS_DIR
    from xiezuo.orchestration import ensure_metadata_db, load_dag
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    write_xlsx(xz_env["inbox"] / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    assert run_pipeline().ok  # the single-task transform; it leaves the dbt manifest behind
    assert (xz_env["home"] / "dbt" / "target" / "manifest.json").exists()
    with engine().begin() as c:
        c.exec_driver_sql("drop schema marts cascade")

    monkeypatch.setenv("XIEZUO_DBT_TASKS", "cosmos")
    from airflow.dag_processing.dagbag import DagBag

    start = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS_DIR / "xiezuo_transform.py"))
    took = time.perf_counter() - start
    assert bag.import_errors == {}
    assert took < 1.0, f"the cosmos-rendered transform took {took:.2f}s to parse"
    dag = bag.dags["xiezuo_transform"]
    ids = {t.task_id for t in dag.tasks}
    assert {"dbt.indicator_monthly.run", "dbt.indicator_monthly.test",
            "clear_build_schema", "mart_quality_gate", "publish_marts"} <= ids
    # a fact has no dbt tests of its own (its keys are table constraints): one task
    assert any(t.startswith("dbt.fct_investment") for t in ids), sorted(ids)
    assert "dbt_build_aside" not in ids
    gate = dag.get_task("mart_quality_gate")
    assert any(u.startswith("dbt.") for u in gate.upstream_task_ids), "the gate follows the dbt models"

    ensure_metadata_db()
    dr = load_dag("xiezuo_transform").test()
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
    assert str(getattr(dr.state, "value", dr.state)) == "success", {k: v for k, v in states.items() if v != "success"}
    with engine().connect() as c:
        assert c.execute(sa.text("select count(*) from marts.fct_investment")).scalar() == 3
        assert not c.execute(sa.text("select 1 from pg_namespace where nspname = 'marts__next'")).first()
    # cosmos cached the rendered project under Airflow's home, not in the shared /tmp/cosmos
    import cosmos.settings

    cache = Path(cosmos.settings.cache_dir)
    assert cache == Path(os.environ["AIRFLOW_HOME"]) / "cosmos", cache
    assert any(cache.rglob("manifest.json")), sorted(cache.rglob("*"))[:5]
