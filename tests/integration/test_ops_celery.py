"""Past one machine (issue 5): the same DAGs under Airflow's CeleryExecutor — Redis as the broker,
PostgreSQL as the metadata DB and Celery result backend — with a real api-server (Execution API),
scheduler, dag-processor and Celery worker, each its own process. A ledger dropped in a county
folder is loaded by xiezuo_intake, whose Asset triggers xiezuo_transform, and the marts are published.

Needs the machine's PostgreSQL server and Redis (XIEZUO_TEST_CELERY_PG, XIEZUO_TEST_REDIS override
the defaults); skipped, saying which, when either is unreachable. The warehouse is the usual
`xz_env` database. The metadata DB (`xz_celery_<random>`) is created here and dropped afterwards;
the Celery queue has a random name, so a parallel run or another Airflow on the same Redis never
takes these tasks.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, receipt, write_xlsx

pytestmark = [pytest.mark.integration, pytest.mark.once]
REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
PG_SERVER = os.environ.get("XIEZUO_TEST_CELERY_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("XIEZUO_TEST_REDIS", "redis://127.0.0.1:6379/11")
LEDGER = "奈曼旗2025年3月产业合作项目台账.xlsx"
DEADLINE_S = 360  # from the DAGs unpaused to the published marts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def metadata_db():
    """A fresh Airflow metadata database on the PostgreSQL server; dropped afterwards."""
    import redis  # pinned in requirements.txt: missing is an error, not a skip

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis unreachable at {re.sub(r'//[^@/]*@', '//***@', REDIS_URL)}: {exc}")
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as c:
            c.exec_driver_sql("select 1")
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        pytest.skip(f"PostgreSQL server unreachable at {sa.engine.make_url(PG_SERVER).render_as_string()}: {exc}")
    name = "xz_celery_" + uuid.uuid4().hex[:10]
    with admin.connect() as c:
        c.exec_driver_sql(f'create database "{name}"')
    try:
        yield sa.engine.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


class Components:
    """Airflow components as subprocesses, each in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def run(self, name: str, *args: str, timeout: float = 300) -> None:
        with open(self.logs / f"{name}.log", "wb") as log:
            res = subprocess.run([AIRFLOW, *args], env=self.env, cwd=REPO, stdout=log,
                                 stderr=subprocess.STDOUT, timeout=timeout)
        assert res.returncode == 0, f"airflow {' '.join(args)} failed:\n{self.tail(name)}"

    def start(self, name: str, *args: str) -> None:
        log = open(self.logs / f"{name}.log", "wb")
        self.procs[name] = subprocess.Popen([AIRFLOW, *args], env=self.env, cwd=REPO, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()  # the child has its own descriptor

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        assert not dead, f"components exited: {dead}\n{self.tails()}"

    def stop(self) -> None:
        """SIGTERM to every group (the worker finishes warm), SIGKILL to what is left after 45 s."""
        for p in self.procs.values():
            _signal_group(p, signal.SIGTERM)
        deadline = time.time() + 45
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs.values():
            _signal_group(p, signal.SIGKILL)  # children that outlived their parent, too
            p.wait(timeout=10)

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return f"----- {name} -----\n{text[-chars:]}"

    def tails(self) -> str:
        return "\n".join(self.tail(p.stem) for p in sorted(self.logs.glob("*.log")))


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def _environment(xz_env, meta_url: str, queue: str, port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    home = xz_env["tmp"] / "airflow"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "XIEZUO_AIRFLOW_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
        # Airflow 3 also opens the metadata DB asynchronously; derived from the URL above it would
        # be asyncpg (not installed). psycopg 3 is async too: the same URL serves both.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta_url,
        "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,  # what tasks are sent to and the worker serves
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),  # the worker's task tokens
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Only the two DAGs under test are unpaused (the due-dates DAG would write reminders).
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_ANALYTICS": "false",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "XIEZUO_SETTLE_SECONDS": "0",
    })
    return env


def _rows(url: str, sql: str, **kw) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(sa.text(sql), kw).all()
    finally:
        engine.dispose()


def _published_value(warehouse: str):
    try:
        rows = _rows(warehouse, "select value from marts.indicator_monthly where indicator_code = 'industry_investment'"
                                " and area_code = '150525' and period_month = date '2025-03-01'")
    except sa.exc.ProgrammingError:  # marts not published yet
        return None
    return rows[0][0] if rows else None


def _clear_queue(queue: str) -> None:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.delete(queue, f"_kombu.binding.{queue}")
    finally:
        r.close()


def test_dags_publish_the_marts_under_celery_executor(metadata_db, xz_env):
    t0 = time.time()
    queue = "xz_celery_" + uuid.uuid4().hex[:10]
    port = _free_port()
    env = _environment(xz_env, metadata_db, queue, port)
    logs = xz_env["tmp"] / "logs"
    logs.mkdir()
    airflow = Components(env, logs)
    write_xlsx(xz_env["inbox"] / "奈曼旗" / LEDGER, investment_ledger())
    timings: dict[str, float] = {}
    ok = False
    try:
        airflow.run("db-migrate", "db", "migrate")
        airflow.run("pools", "pools", "set", "xiezuo_publish", "1", "xiezuo: one dbt build / mart gate / publish at a time")
        timings["metadata DB ready"] = time.time() - t0
        airflow.start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1")
        airflow.start("dag-processor", "dag-processor")
        airflow.start("scheduler", "scheduler")
        airflow.start("worker", "celery", "worker", "--queues", queue, "--concurrency", "4",
                      "--celery-hostname", f"{queue}@%h", "--skip-serve-logs", "--without-mingle", "--without-gossip")

        deadline = time.time() + 180
        parsed: set[str] = set()
        while time.time() < deadline and not {"xiezuo_intake", "xiezuo_transform"} <= parsed:
            airflow.check_alive()
            parsed = {r[0] for r in _rows(metadata_db, "select dag_id from dag where not is_stale")}
            time.sleep(2)
        assert {"xiezuo_intake", "xiezuo_transform"} <= parsed, "the dag-processor did not parse the DAGs"
        airflow.run("unpause", "dags", "unpause", "--treat-dag-id-as-regex", "--yes", "^xiezuo_(intake|transform)$")
        timings["DAGs parsed and unpaused"] = time.time() - t0

        deadline = time.time() + DEADLINE_S
        value, transform_runs = None, []
        while time.time() < deadline and (value is None or ("asset_triggered", "success") not in transform_runs):
            airflow.check_alive()
            time.sleep(3)
            value = _published_value(xz_env["url"])
            transform_runs = [(str(t), str(s)) for t, s in _rows(
                metadata_db, "select run_type, state from dag_run where dag_id = 'xiezuo_transform'")]
        timings["marts published"] = time.time() - t0
        assert value is not None, f"marts.indicator_monthly not published within {DEADLINE_S}s"
        assert value == Decimal("1950.5")
        # The transform ran because the intake's Asset event said so, not on a clock or by hand.
        assert ("asset_triggered", "success") in transform_runs, transform_runs

        r = receipt(xz_env["inbox"], "奈曼旗", LEDGER)
        assert (r["status"], r["county_code"], r["period"], r["rows"]) == ("accepted", "150525", "2025-03", 3)

        # Every task instance went to this test's Celery queue ...
        tis = _rows(metadata_db, "select dag_id, task_id, queue, state from task_instance"
                                 " where dag_id in ('xiezuo_intake', 'xiezuo_transform')")
        assert {q for _, _, q, _ in tis} == {queue}, tis
        done = {(d, t) for d, t, _, s in tis if s == "success"}
        assert {("xiezuo_intake", "process_batch"), ("xiezuo_intake", "announce"),
                ("xiezuo_transform", "publish_marts")} <= done, tis
        # ... and was executed by the Celery worker (its log names each one); results went to the
        # Celery result backend in the metadata DB.
        executed = [line for line in (logs / "worker.log").read_text(errors="replace").splitlines()
                    if "Executing workload in Celery" in line]
        not_in_worker = [(d, t) for d, t in done if not any(f"task_id='{t}', dag_id='{d}'" in line for line in executed)]
        assert not not_in_worker, f"tasks not executed by the Celery worker: {not_in_worker}\n{airflow.tail('worker')}"
        assert _rows(metadata_db, "select count(*) from celery_taskmeta where status = 'SUCCESS'")[0][0] > 0
        ok = True
    finally:
        airflow.stop()
        _clear_queue(queue)
        print(f"\nCelery test timings (s): { {k: round(v, 1) for k, v in timings.items()} }")
        if not ok:
            print(airflow.tails())
