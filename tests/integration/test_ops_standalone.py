"""Monitoring (issue 5): `xiezuo airflow standalone` serves the Airflow UI with the xiezuo DAGs,
runs them, and stops cleanly — every component — on SIGINT."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.once]
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())
    except Exception:  # noqa: BLE001 - not up yet
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_standalone_serves_the_dags_and_stops_on_sigint(xz_env, tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}{os.pathsep}{REPO}",
           "XIEZUO_AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    for k in [k for k in env if k.startswith("AIRFLOW__")]:
        del env[k]
    log = open(tmp_path / "standalone.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "xiezuo", "airflow", "standalone", "--port", str(port)],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        health = None
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            health = _get(f"http://127.0.0.1:{port}/api/v2/monitor/health")
            if health and all(health.get(k, {}).get("status") == "healthy"
                              for k in ("metadatabase", "scheduler", "dag_processor", "triggerer")):
                break
            time.sleep(2)
        assert health and health["scheduler"]["status"] == "healthy", (tmp_path / "standalone.log").read_text()[-3000:]
        import sqlite3

        deadline = time.time() + 120
        dags: set[str] = set()
        while time.time() < deadline and not {"xiezuo_intake", "xiezuo_transform"} <= dags:
            with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
                dags = {r[0] for r in db.execute("select dag_id from dag where is_stale = 0")}
            time.sleep(2)
        assert {"xiezuo_intake", "xiezuo_transform", "xiezuo_due_dates", "xiezuo_reprocess"} <= dags
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200 and b"<html" in r.read().lower()

        children = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
        airflow_pgids = {os.getpgid(int(p)) for p in subprocess.run(
            ["pgrep", "-f", f"airflow (standalone|scheduler|dag-processor|triggerer|api-server)"],
            capture_output=True, text=True).stdout.split() if p.strip() and _ppid_chain_has(int(p), proc.pid)}
        assert children and airflow_pgids, "the standalone's processes were not found"
        start = time.time()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        stopped_in = time.time() - start
        time.sleep(1)
        assert not any(_group_alive(g) for g in airflow_pgids), "Airflow components outlived the command"
        assert stopped_in < 90
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _ppid_chain_has(pid: int, ancestor: int) -> bool:
    try:
        while pid > 1:
            if pid == ancestor:
                return True
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ValueError, IndexError):
        return False
    return False
