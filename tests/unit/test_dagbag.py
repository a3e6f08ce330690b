"""DAG policy over the whole DagBag: imports cleanly, owner/tags/retries set, catchup off, fast."""
from __future__ import annotations

import time

import pytest

from xiezuo.config import DAGS_DIR
from xiezuo.orchestration import airflow_environment


@pytest.fixture(scope="module")
def bag():
    airflow_environment()
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(bag):
    assert bag.import_errors == {}
    assert {"xiezuo_intake", "xiezuo_transform"} <= set(bag.dag_ids)


def test_policy(bag):
    for dag_id, dag in bag.dags.items():
        assert dag.tags, dag_id
        assert dag.catchup is False, dag_id
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", (dag_id, t.task_id)
            assert t.retries is not None, (dag_id, t.task_id)


def test_each_dag_file_parses_fast():
    airflow_environment()
    from airflow.dag_processing.dagbag import DagBag

    DagBag(dag_folder=str(DAGS_DIR))  # warm imports of airflow itself
    for f in sorted(DAGS_DIR.glob("*.py")):
        start = time.perf_counter()
        b = DagBag(dag_folder=str(f))
        took = time.perf_counter() - start
        assert not b.import_errors
        assert took < 1.0, f"{f.name} took {took:.2f}s to parse"
