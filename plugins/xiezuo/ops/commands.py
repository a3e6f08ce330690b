"""The operations subcommands of `xiezuo`: status, reprocess, airflow (the local UI)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def add(sub) -> None:
    p = sub.add_parser("status", help="which counties submitted what; what is missing or late")
    p.add_argument("--remind", action="store_true", help="also write the reminders (催报提醒) into the county folders")
    p.set_defaults(fn=cmd_status)
    p = sub.add_parser("reprocess", help="rebuild raw and the marts from the archived originals")
    p.add_argument("--county", help="county code or name")
    p.add_argument("--kind", help="ledger kind (investment, employment, tourism, livelihood, consumer, exchange)")
    p.add_argument("--month", help="reporting month YYYY-MM")
    p.add_argument("--all", action="store_true", help="every archived submission")
    p.set_defaults(fn=cmd_reprocess)
    p = sub.add_parser("airflow", help="Airflow for operators: `xiezuo airflow standalone` starts the UI locally")
    p.add_argument("action", choices=["standalone"], help="standalone: api-server (UI), scheduler, dag-processor, triggerer")
    p.add_argument("--port", type=int, default=int(os.environ.get("XIEZUO_AIRFLOW_PORT", "8080")))
    p.set_defaults(fn=cmd_airflow)


def cmd_status(args) -> int:
    from .late import status_text, write_reminders

    print(status_text())
    if args.remind:
        for code, path in write_reminders().items():
            print(f"催报提醒 {code}: {path}")
    return 0


def cmd_reprocess(args) -> int:
    from ..orchestration import run_dag
    from .reprocess import Selection

    sel = Selection(county=args.county, kind=args.kind, month=args.month, all=args.all)
    try:
        sel.validate()
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    conf = {"county": sel.county, "kind": sel.kind, "month": sel.month, "all": sel.all}
    first = run_dag("xiezuo_reprocess", conf=conf)
    print(f"reprocess: {first.state}")
    report = _xcom("xiezuo_reprocess", "reprocess_from_archive")
    if report:
        print(f"  {report['selected']} submission(s): {report['unchanged']} unchanged, "
              f"{len(report['changed'])} changed, {len(report['kept'])} kept as they were")
        for c in report["changed"]:
            print(f"  changed {c['original_name']}: {c['was']} → {c['now']}")
        for k in report["kept"]:
            print(f"  KEPT {k['original_name']}: {k['reason']}")
    if not first.ok:
        return 1
    second = run_dag("xiezuo_transform")
    print(f"transform: {second.state}")
    return 0 if second.ok else 1


def _xcom(dag_id: str, task_id: str):
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        dr = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        if dr is None:
            return None
        row = session.query(XComModel).filter(
            XComModel.dag_id == dag_id, XComModel.run_id == dr.run_id, XComModel.task_id == task_id,
            XComModel.key == "return_value").first()
        if row is None:
            return None
        value = row.value
        return json.loads(value) if isinstance(value, (str, bytes)) else value


def standalone_environment(port: int) -> dict[str, str]:
    from ..orchestration import airflow_environment, ensure_metadata_db

    airflow_environment()
    ensure_metadata_db()
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in [here, env.get("PYTHONPATH", "")] if p)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])  # it runs `airflow ...`
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__API__BASE_URL"] = f"http://localhost:{port}"
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://localhost:{port}/execution/"
    return env


def cmd_airflow(args) -> int:
    """`airflow standalone` with xiezuo's home, DAGs and metadata DB; Ctrl-C stops every
    component (the whole process group) and returns."""
    env = standalone_environment(args.port)
    home = env["AIRFLOW_HOME"]
    print(f"Airflow UI: http://localhost:{args.port}  (user admin; password in {home}/passwords.json or "
          f"simple_auth_manager_passwords.json.generated). Ctrl-C stops it.", flush=True)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    # Handle Ctrl-C / SIGTERM even when started with them ignored (a background job in a script).
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "airflow"), "standalone"],
                            env=env, start_new_session=True, preexec_fn=_default_signals)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return stop(proc)


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _descendant_groups(root: int) -> set[int]:
    """Process groups of root's descendants other than root's own (a component may start a
    session of its own); from /proc, empty where there is none."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    children.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    groups = set()
    for pid in found:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    return groups - {root}


def _wait_groups_gone(groups: set[int], timeout: float) -> None:
    """SIGTERM to the groups' processes that outlived the standalone, SIGKILL to what is left
    after `timeout`; returns when none is left."""
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for group in groups:
        while True:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            if time.monotonic() > deadline:
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    break
                if time.monotonic() > deadline + 5.0:
                    break  # SIGKILLed and still listed: a zombie its parent has not reaped yet
            time.sleep(0.1)


def stop(proc: subprocess.Popen, grace: float = 60.0) -> int:
    """SIGINT to the standalone's process group, SIGTERM after `grace`, SIGKILL as a last resort;
    returns once every component is gone (also those in process groups of their own). The
    descendants' groups are looked up again while the standalone shuts down: a component may
    start a process in a session of its own after the first look (found as a flaky test), and
    once the standalone has exited its orphans can no longer be traced to it."""
    others = _descendant_groups(proc.pid)
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while proc.poll() is None and time.monotonic() < deadline:
            others |= _descendant_groups(proc.pid)
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is not None:
            break
    _wait_groups_gone(others | {proc.pid}, timeout=15.0)  # the standalone's own group: children that outlived it
    print("Airflow stopped", file=sys.stderr)
    return 0
