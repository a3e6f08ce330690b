"""Issue 6, item 2: the receipts cannot be written (the county's 回执 location is unwritable —
for root too: a plain file sits where the folder should be). The original stays in the inbox,
the registration is the one the next run finishes (never a second one, never "duplicate"), the
engineers get an alert through the webhook, and once the folder is fixed the next run writes the
receipt with the real verdict and archives the original. Other counties' files go through."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx
from tests.integration.test_ops_alerts import receiver  # noqa: F401 - the local webhook receiver

pytestmark = pytest.mark.integration


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def test_unwritable_receipt_folder_keeps_the_original_alerts_and_is_retried(xz_env, receiver):  # noqa: F811
    from xiezuo.runner import run_pipeline

    inbox = xz_env["inbox"]
    stuck = write_xlsx(inbox / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    blocker = inbox / "150525" / "回执"
    blocker.write_text("not a folder", encoding="utf-8")  # mkdir fails for root as for anyone
    other_title = "科尔沁区2025年3月产业合作项目台账"
    other = write_xlsx(inbox / "150502" / f"{other_title}.xlsx", investment_ledger(other_title))

    first = run_pipeline()
    assert not first.ok, "a file that could not be finished fails the run loudly"
    assert first.intake.tasks["verdict"] == "failed", first.intake.tasks
    assert stuck.exists(), "the original stays in the inbox until its receipt is written"
    assert blocker.is_file() and blocker.read_text(encoding="utf-8") == "not a folder"
    # The other county's file went through, receipt and all, and was published.
    assert not other.exists()
    assert json.loads((inbox / "150502" / "回执" / f"{other.name}.回执.json").read_text(encoding="utf-8"))["status"] == "accepted"
    assert _q("select count(*) from marts.fct_investment where area_code = '150502'") == [(3,)]
    # The stuck file: registered once with its rows (one transaction); the next run finishes it.
    regs = _q("select submission_id, status, rows from raw.submissions where original_name = :n", n=stuck.name)
    assert [(r.status, r.rows) for r in regs] == [("accepted", 3)]
    # The alert: the verdict task, naming the file and its county.
    alerts = [a["body"] for a in receiver if a["body"]["task_id"] == "verdict"]
    assert len(alerts) == 1, [a["body"]["task_id"] for a in receiver]
    a = alerts[0]
    assert a["event"] == "task_failed" and a["dag_id"] == "xiezuo_intake"
    assert {"file": str(stuck), "county_code": "150525", "county_name": "奈曼旗"} in a["files"], a["files"]
    assert "stay in the inbox" in a["error"]

    # Fixed: the receipt is written with the real verdict (not "duplicate"), the original archived.
    blocker.unlink()
    receiver.clear()
    again = run_pipeline()
    assert again.ok, again.text()
    assert [(o["status"], o["file"]) for o in again.outcomes] == [("accepted", str(stuck))]
    assert not stuck.exists()
    r = json.loads((inbox / "150525" / "回执" / f"{stuck.name}.回执.json").read_text(encoding="utf-8"))
    assert (r["status"], r["rows"], r["period"]) == ("accepted", 3, "2025-03")
    [reg] = _q("select sha256, status, archive_path, receipt from raw.submissions where original_name = :n", n=stuck.name)
    assert reg.status == "accepted" and reg.receipt == r, "the receipt is the one registered"
    from pathlib import Path

    assert Path(reg.archive_path).exists()
    assert _q("select count(*) from raw.investment_rows") == [(6,)]
    assert _q("select count(*) from marts.fct_investment") == [(6,)]
    assert [a for a in receiver if a["body"]["event"] == "task_failed"] == []
