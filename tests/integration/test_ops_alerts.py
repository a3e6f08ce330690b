"""Alerts (issue 5): a task that really fails POSTs a JSON alert to a real local HTTP receiver,
naming the task, the county and file when known, and the Airflow log."""
from __future__ import annotations

import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver(monkeypatch):
    """An HTTP server on 127.0.0.1 (random port) recording every POSTed JSON body."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append({"path": self.path, "type": self.headers["Content-Type"],
                        "body": json.loads(body.decode("utf-8"))})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("XIEZUO_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hooks/xiezuo")
    yield got
    server.shutdown()
    server.server_close()


def test_failed_mapped_task_alerts_with_county_file_and_log(xz_env, receiver, tmp_path):
    """A real DAG (same callback as the xiezuo DAGs) whose mapped task fails on a county's file."""
    from xiezuo.orchestration import airflow_environment, ensure_metadata_db

    airflow_environment()
    ensure_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "xz_alert_probe.py").write_text(textwrap.dedent('''
        from datetime import datetime
        from airflow.sdk import dag, task
        from xiezuo.ops.alerts import on_failure

        @dag(dag_id="xz_alert_probe", schedule=None, start_date=datetime(2025, 1, 1), catchup=False,
             default_args={"owner": "xiezuo-data", "retries": 0, "on_failure_callback": on_failure})
        def probe():
            @task
            def batches():
                return [[{"path": "%s", "county_code": "150525"}]]

            @task
            def process(batch):
                raise RuntimeError("disk on fire while reading " + batch[0]["path"])

            process.expand(batch=batches())

        probe()
    ''' % (xz_env["inbox"] / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx")), encoding="utf-8")
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()

    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)  # dag.test() runs serialized DAGs only
    dag = bag.get_dag("xz_alert_probe")
    dr = dag.test()
    assert str(dr.state) in ("failed", "DagRunState.FAILED")
    assert len(receiver) == 1, receiver
    post = receiver[0]
    assert post["path"] == "/hooks/xiezuo" and post["type"].startswith("application/json")
    a = post["body"]
    assert (a["event"], a["dag_id"], a["task_id"], a["map_index"]) == ("task_failed", "xz_alert_probe", "process", 0)
    assert "disk on fire" in a["error"]
    assert a["files"] == [{"file": str(xz_env["inbox"] / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx"),
                           "county_code": "150525", "county_name": "奈曼旗"}]
    assert a["log_file"].endswith("task_id=process/map_index=0/attempt=1.log")
    assert "/dags/xz_alert_probe/runs/" in a["log_url"]


def test_mart_gate_refusal_alerts(xz_env, receiver):
    """The real transform DAG: the marts are built aside, then the raw layer claims a row the
    marts do not have → the mart gate refuses → an alert says so, and the published marts stay.
    (dbt's own tests would catch the same tampering, so dbt_build_aside is marked done in this
    run: the marts it built just before are what the gate sees.)"""
    from xiezuo.orchestration import ensure_metadata_db, load_dag
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine
    from xiezuo.warehouse.transform import build_aside

    write_xlsx(xz_env["inbox"] / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    assert run_pipeline().ok
    assert receiver == []
    build_aside()
    with engine().begin() as c:
        c.execute(sa.text("update raw.submissions set rows = rows + 1"))
    ensure_metadata_db()
    dr = load_dag("xiezuo_transform").test(mark_success_pattern="^dbt_build_aside$")
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dr.get_task_instances()}
    assert states["mart_quality_gate"] == "failed" and states["publish_marts"] == "upstream_failed", states
    assert [p["body"]["event"] for p in receiver] == ["mart_gate_refused"]
    a = receiver[0]["body"]
    assert a["task_id"] == "mart_quality_gate" and a["dag_id"] == "xiezuo_transform"
    assert "fct_investment" in a["error"] and "MartGateRefused" in a["error"]
    assert "published marts are unchanged" in a["summary"]
    assert "task_id=mart_quality_gate" in a["log_file"]
    with engine().connect() as c:
        assert c.execute(sa.text("select count(*) from marts.fct_investment")).scalar() == 3
