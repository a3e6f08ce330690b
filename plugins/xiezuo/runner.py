"""`xiezuo run`: the intake DAG, then — when it loaded anything, or no marts exist yet — the
transform DAG (what the scheduler does on the intake's Asset event)."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .orchestration import DagRunResult, run_dag

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    intake: DagRunResult
    transform: DagRunResult | None
    outcomes: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.intake.ok and (self.transform is None or self.transform.ok) and not self.error

    def text(self) -> str:
        lines = [f"intake: {self.intake.state} ({len(self.outcomes)} file(s))"]
        for o in self.outcomes:
            lines.append(f"  {o['status']:<24} {Path(o['file']).name}")
        if self.transform is None:
            lines.append("transform: not needed (nothing new was loaded; the marts are current)")
        else:
            lines.append(f"transform: {self.transform.state}")
        if self.error:
            lines.append(f"ERROR: {self.error}")
        return "\n".join(lines)


def _failed_reason(result: DagRunResult) -> str:
    from .config import settings

    failed = [t for t, s in result.tasks.items() if s in ("failed", "upstream_failed")]
    return (f"DAG {result.dag_id} failed at {', '.join(failed) or 'an unknown task'}; "
            f"task logs are under {settings().airflow_home / 'logs'}")


def run_pipeline() -> RunReport:
    from .warehouse.transform import published

    with _warehouse_lock(shared=True):  # intakes run side by side; never during a transform
        intake = run_dag("xiezuo_intake")
    outcomes = _outcomes_of_run(intake.run_id)
    error = None if intake.ok else _failed_reason(intake)
    transform = None
    loaded = intake.tasks.get("announce") == "success"
    # What was loaded is published even when another file of the run failed (it stays in the
    # inbox for the next run, and the run still fails loudly) — as the scheduler does on the
    # intake's Asset event: one county's stuck file never holds back the others' ledgers.
    if loaded or (intake.ok and not published()):
        with _warehouse_lock(shared=False):
            if loaded or not published():  # again: the run we waited for may have published
                transform = run_dag("xiezuo_transform")
        if transform is not None and not transform.ok:
            failed = _gate_message() or _failed_reason(transform)
            error = f"{error}; {failed}" if error else failed
    return RunReport(intake=intake, transform=transform, outcomes=outcomes, error=error)


@contextmanager
def _warehouse_lock(shared: bool):
    """Two `xiezuo run` at once (dag.test() knows no pools or max_active_runs): intakes may run
    side by side (each file has its own lock), but build aside → mart gate → publish is one
    piece, alone. Without this, one run's publish renamed the build schema away while the
    other's gate read it; and a run with nothing to load built the marts while the other was
    still loading, so the gate counted rows in raw that the build had not seen, and refused.
    A session advisory lock (shared for the intake, exclusive for the transform), released
    when the process dies."""
    import sqlalchemy as sa

    from .warehouse.database import engine

    suffix = "_shared" if shared else ""
    conn = None
    try:
        conn = engine().connect()
        conn.execute(sa.text(f"select pg_advisory_lock{suffix}(hashtext('xiezuo.transform'))"))
        conn.commit()
    except sa.exc.DBAPIError as exc:
        # The warehouse is not reachable right now: the DAG's tasks retry with backoff, which
        # is the recovery this run should get — not a crash here. (Without the lock, only a
        # second run at this very moment would be unguarded.)
        log.warning("could not take the warehouse run lock (%s); going on without it", exc.__class__.__name__)
        if conn is not None:
            conn.close()
        conn = None
    try:
        yield
    finally:
        if conn is not None:
            try:
                conn.execute(sa.text(f"select pg_advisory_unlock{suffix}(hashtext('xiezuo.transform'))"))
                conn.commit()
            except sa.exc.DBAPIError:
                pass  # the session is gone (e.g. the server restarted), and its lock with it
            finally:
                conn.close()


def _outcomes_of_run(run_id: str | None) -> list[dict]:
    """The per-file outcomes the intake's mapped tasks returned (from XCom) — of this run: with
    two runs at once, "the latest run" may be the other one."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "xiezuo_intake")
        if run_id:
            runs = runs.filter(DagRun.run_id == run_id)
        dr = runs.order_by(DagRun.id.desc()).first()
        if dr is None:
            return []
        rows = session.query(XComModel).filter(
            XComModel.dag_id == "xiezuo_intake", XComModel.run_id == dr.run_id,
            XComModel.task_id == "process_batch", XComModel.key == "return_value").all()
        out = []
        for r in rows:
            value = r.value
            if isinstance(value, (str, bytes)):
                value = json.loads(value)
            out.extend(value or [])
        return out


def _gate_message() -> str | None:
    from .config import settings

    path = settings().home / "last_mart_gate.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("success", True):
            return data.get("message")
    return None
