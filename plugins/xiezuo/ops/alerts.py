"""Alerts: a failed task (or the mart gate refusing to publish) POSTs a JSON notification to
XIEZUO_ALERT_WEBHOOK and, when XIEZUO_ALERT_SMTP_HOST and XIEZUO_ALERT_EMAIL_TO are set, sends an
e-mail. Used as on_failure_callback of every xiezuo DAG (default_args), so it runs after the
task's last retry, in the task's own process.

Settings (environment):
  XIEZUO_ALERT_WEBHOOK        URL receiving a POST with a JSON body (unset: no webhook)
  XIEZUO_ALERT_SMTP_HOST      SMTP server (unset: no e-mail); XIEZUO_ALERT_SMTP_PORT (25)
  XIEZUO_ALERT_SMTP_USER / XIEZUO_ALERT_SMTP_PASSWORD   optional login (STARTTLS when set)
  XIEZUO_ALERT_EMAIL_FROM     sender (xiezuo@localhost); XIEZUO_ALERT_EMAIL_TO  comma-separated
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)
GATE_REFUSED = "mart_gate_refused"
TASK_FAILED = "task_failed"


def _files_of(task, error: str) -> list[dict]:
    """The files a failed task was working on: its mapped `batch` argument, or inbox paths named
    in the error (the intake's verdict lists them)."""
    paths: list[tuple[str, str | None]] = []
    batch = (getattr(task, "op_kwargs", None) or {}).get("batch")
    if isinstance(batch, list):
        paths += [(str(i.get("path")), i.get("county_code")) for i in batch if isinstance(i, dict)]
    try:
        from ..config import settings

        inbox = str(settings().inbox)
        for m in re.finditer(re.escape(inbox) + r"/[^'\",\]\n]+", error or ""):
            if all(m.group(0) != p for p, _ in paths):
                paths.append((m.group(0), None))
    except Exception:  # noqa: BLE001 - an alert must not fail on its decorations
        pass
    out = []
    for path, code in paths:
        county = None
        try:
            from ..reference import programme

            area = programme().by_code(code) if code else programme().county(Path(path).parent.name)
            code, county = (area.code, area.name) if area else (code, None)
        except Exception:  # noqa: BLE001
            pass
        out.append({"file": path, "county_code": code, "county_name": county})
    return out


def log_file(ti) -> str | None:
    """Where the task's log is on disk (Airflow's default log_filename_template)."""
    try:
        from airflow.configuration import conf

        base = Path(conf.get("logging", "base_log_folder"))
        parts = [f"dag_id={ti.dag_id}", f"run_id={ti.run_id}", f"task_id={ti.task_id}"]
        if ti.map_index is not None and ti.map_index >= 0:
            parts.append(f"map_index={ti.map_index}")
        return str(base.joinpath(*parts, f"attempt={ti.try_number}.log"))
    except Exception:  # noqa: BLE001
        return None


def build_payload(context) -> dict:
    ti = context.get("ti") or context.get("task_instance")
    task = context.get("task")
    exc = context.get("exception")
    error = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error (see the task log)"
    gate = type(exc).__name__ == "MartGateRefused" if exc is not None else False
    event = GATE_REFUSED if gate else TASK_FAILED
    files = _files_of(task, error)
    counties = sorted({f["county_code"] for f in files if f["county_code"]})
    try:
        log_url = ti.log_url
    except Exception:  # noqa: BLE001
        log_url = None
    summary = (f"[xiezuo] mart gate refused to publish ({ti.dag_id}); the published marts are unchanged"
               if gate else f"[xiezuo] task {ti.dag_id}.{ti.task_id} failed")
    if counties:
        summary += f" — county {', '.join(counties)}"
    return {
        "event": event, "summary": summary, "dag_id": ti.dag_id, "task_id": ti.task_id,
        "map_index": ti.map_index, "run_id": ti.run_id, "try_number": ti.try_number,
        "error": error[:4000], "files": files, "county_codes": counties,
        "log_file": log_file(ti), "log_url": log_url,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def post_webhook(url: str, payload: dict, attempts: int = 3, timeout: float = 10.0) -> bool:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    for i in range(attempts):
        try:
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - operator-set URL
                if 200 <= resp.status < 300:
                    return True
                log.warning("alert webhook answered %s", resp.status)
        except Exception as exc:  # noqa: BLE001 - retried, then logged
            log.warning("alert webhook %s failed (attempt %d): %s", url, i + 1, exc)
        time.sleep(min(2 ** i, 5))
    return False


def send_email(payload: dict) -> bool:
    host, to = os.environ.get("XIEZUO_ALERT_SMTP_HOST"), os.environ.get("XIEZUO_ALERT_EMAIL_TO")
    if not host or not to:
        return False
    import smtplib
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = payload["summary"]
    msg["From"] = os.environ.get("XIEZUO_ALERT_EMAIL_FROM", "xiezuo@localhost")
    msg["To"] = to
    msg.set_content(json.dumps(payload, ensure_ascii=False, indent=2))
    try:
        with smtplib.SMTP(host, int(os.environ.get("XIEZUO_ALERT_SMTP_PORT", "25")), timeout=15) as s:
            user = os.environ.get("XIEZUO_ALERT_SMTP_USER")
            if user:
                s.starttls()
                s.login(user, os.environ.get("XIEZUO_ALERT_SMTP_PASSWORD", ""))
            s.send_message(msg)
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("alert e-mail via %s failed: %s", host, exc)
        return False


def notify(payload: dict) -> dict:
    sent = {"webhook": False, "email": False}
    url = os.environ.get("XIEZUO_ALERT_WEBHOOK")
    if url:
        sent["webhook"] = post_webhook(url, payload)
    sent["email"] = send_email(payload)
    if not any(sent.values()):
        log.warning("alert not delivered (set XIEZUO_ALERT_WEBHOOK): %s", payload["summary"])
    return sent


def on_failure(context) -> None:
    """on_failure_callback of every xiezuo task. Never raises: a broken alert must not hide the
    task's own failure."""
    try:
        payload = build_payload(context)
        log.error("%s: %s (log: %s)", payload["summary"], payload["error"], payload["log_file"])
        notify(payload)
    except Exception:  # noqa: BLE001
        log.exception("could not send the failure alert")
