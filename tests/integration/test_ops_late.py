"""Due dates (issue 5): missing and late ledgers per county, Chinese reminders in the county
folders (never read as submissions), `xiezuo status`, and the daily DAG."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

pytestmark = pytest.mark.integration
SH = timezone.utc  # times below are chosen far from midnight, so the city day is the same


def _register(code, kind, month, status, received):
    from xiezuo.warehouse import raw
    from xiezuo.warehouse.database import engine

    with engine().begin() as conn:
        raw.register(conn, raw.Registration(
            sha256=f"{code}{kind}{month}{status}{received:%d}", original_name=f"{kind}-{month}.xlsx",
            county_code=code, submission_type=kind, period_month=date.fromisoformat(month + "-01"),
            status=status, rows=0, error_count=int(status == "rejected"), warning_count=0,
            receipt={}, archive_path=None, received_at=received, processed_at=received))


@pytest.fixture
def history(xz_env):
    from xiezuo.pipeline import prepare_warehouse

    prepare_warehouse()
    _register("150525", "investment", "2023-07", "accepted", datetime(2023, 8, 3, 4, tzinfo=SH))
    _register("150525", "investment", "2023-08", "accepted", datetime(2023, 9, 8, 4, tzinfo=SH))
    _register("150525", "employment", "2023-07", "rejected", datetime(2023, 8, 2, 4, tzinfo=SH))
    (xz_env["inbox"] / "150525").mkdir()
    return xz_env


def test_status_slots_due_and_late(history, monkeypatch):
    from xiezuo.ops.late import due_months, submission_status

    today = date(2023, 9, 10)
    assert due_months(today) == [date(2023, 7, 1), date(2023, 8, 1)]
    monkeypatch.setenv("XIEZUO_DUE_DAY", "12")
    assert due_months(today) == [date(2023, 7, 1)], "August is not due before 12 September"
    monkeypatch.delenv("XIEZUO_DUE_DAY")
    slots = {(s.county_code, s.kind, f"{s.period:%Y-%m}"): s for s in submission_status(today)}
    assert len(slots) == 8 * 6 * 2
    on_time, late = slots[("150525", "investment", "2023-07")], slots[("150525", "investment", "2023-08")]
    assert (on_time.status, on_time.is_late, on_time.due_date) == ("accepted", False, date(2023, 8, 5))
    assert (late.status, late.is_late) == ("accepted", True)
    assert slots[("150525", "employment", "2023-07")].status == "rejected"
    assert (slots[("150502", "tourism", "2023-08")].status, slots[("150502", "tourism", "2023-08")].is_late) == ("missing", True)


def test_reminders_in_county_folders_are_not_submissions(history):
    from xiezuo.intake.discover import discover
    from xiezuo.ops.late import status_text, write_reminders

    inbox = history["inbox"]
    written = write_reminders(date(2023, 9, 10))
    assert len(written) == 8, "every county has something overdue"
    naiman = inbox / "150525" / "回执" / "催报提醒-2023-09.txt"
    assert written["150525"] == str(naiman)
    text = naiman.read_text(encoding="utf-8")
    assert text.startswith("奈曼旗：")
    assert "劳务协作台账：未报送 2023年8月；已报送但未通过校验 2023年7月" in text
    assert "产业合作项目台账" not in text, "both investment months were accepted"
    assert "文旅协作台账：未报送 2023年7月至8月" in text
    assert (inbox / "科尔沁区" / "回执" / "催报提醒-2023-09.txt").exists(), "a county without a folder gets one"
    assert discover(inbox, 0) == [], "reminders are never read as submissions"
    status = status_text(date(2023, 9, 10))
    assert "150525 奈曼旗: 已接收 2（其中逾期报送 1）, 仅有被拒版本 1, 未报送 9" in status
    assert "产业合作项目台账: 已接收 2023年7月至8月；逾期报送 2023年8月" in status


def test_daily_dag_writes_the_days_reminders(history):
    from xiezuo.orchestration import ensure_metadata_db, load_dag

    ensure_metadata_db()
    dr = load_dag("xiezuo_due_dates").test(logical_date=datetime(2023, 9, 10, 2, tzinfo=timezone.utc))
    assert str(getattr(dr.state, "value", dr.state)) == "success"
    assert (history["inbox"] / "150525" / "回执" / "催报提醒-2023-09.txt").exists()


def test_status_command(history, capsys):
    from xiezuo.cli import main

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "150525 奈曼旗: 已接收 2（其中逾期报送 1）" in out
    assert "到期月份：2023-07 至" in out
