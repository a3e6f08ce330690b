"""The drop-folder protocol (submissions.md) through the real DAGs, in two runs over one inbox:
folders and which files are picked up, refusals before parsing, receipts and their renaming,
the archive and the registrations, duplicates, corrections, and finishing an interrupted drop."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import INVESTMENT_HEADER, investment_ledger, investment_rows, settle, write_csv, write_xlsx

pytestmark = pytest.mark.integration
NM = "奈曼旗"          # a county folder named by the county's name
KQ = "150502"          # one named by its code (科尔沁区)
MARCH = "奈曼旗2025年3月产业合作项目台账.xlsx"


def _q(sql: str, **kw):
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), kw).all()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _receipt(folder: Path, name: str) -> dict:
    return json.loads((folder / "回执" / f"{name}.回执.json").read_text(encoding="utf-8"))


def _text(folder: Path, name: str) -> str:
    return (folder / "回执" / f"{name}.回执.txt").read_text(encoding="utf-8")


def _receipt_files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "回执").iterdir()) if (folder / "回执").is_dir() else []


def _refused(r: dict, rule: str, county: str | None) -> None:
    assert (r["status"], r["county_code"], r["submission_type"], r["period"], r["rows"], r["replaces"],
            r["warnings"]) == ("rejected", county, None, None, 0, None, []), r
    assert [(e["row"], e["column"], e["rule"]) for e in r["errors"]] == [(None, None, rule)], r


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (3 * 1024 * 1024))
    return settle(path)


def _investment_csv(path: Path, n: int, kind_value=lambda i: "新能源") -> Path:
    rows = [INVESTMENT_HEADER[1:]]
    for i in range(n):
        rows.append([f"NM-{i:04d}", f"项目{i}", kind_value(i), "京能集团", "否", "", "", 100, 10, "", 1, 1, "在建"])
    return write_csv(path, rows)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_drop_folder_protocol(xz_env, monkeypatch, tmp_path):
    from xiezuo.intake import process as P
    from xiezuo.runner import run_pipeline

    monkeypatch.setenv("XIEZUO_SETTLE_SECONDS", "600")
    monkeypatch.setenv("XIEZUO_MAX_FILE_MB", "0.1")
    inbox, home = xz_env["inbox"], xz_env["home"]
    nm, kq, un = inbox / NM, inbox / KQ, inbox / "_unassigned"

    # --- run 1 -----------------------------------------------------------------------------
    a = write_xlsx(nm / MARCH, investment_ledger())
    a_bytes = a.read_bytes()
    ignored = {}
    for name in (".hidden.xlsx", "~$奈曼旗2025年3月产业合作项目台账.xlsx", "导出.tmp", "下载.part",
                 "下载.crdownload", "大写.TMP"):
        (nm / name).write_bytes(b"not for us " + name.encode())
        ignored[name] = (settle(nm / name).read_bytes(), (nm / name).stat().st_mtime_ns)
    sub = write_xlsx(nm / "旧版" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    (nm / "宏.xlsm").write_bytes(a_bytes + b"macro")
    settle(nm / "宏.xlsm")
    (nm / "说明.txt").write_text("本月无变化", encoding="utf-8")
    settle(nm / "说明.txt")
    bomb = _zip_bomb(nm / "奈曼旗2025年3月文旅协作台账.xlsx")
    big = _investment_csv(nm / "奈曼旗2025年3月产业合作项目台账-大.csv", 2000)
    assert big.stat().st_size > 0.1 * 1024 * 1024
    outside = write_xlsx(tmp_path / "outside" / "真文件.xlsx", investment_ledger())
    outside_bytes = outside.read_bytes()
    os.symlink(outside, nm / "链接.xlsx")
    settle(nm / "链接.xlsx")
    os.mkfifo(nm / "管道.csv")
    settle(nm / "管道.csv")
    unsettled = write_xlsx(nm / "奈曼旗2025年4月产业合作项目台账.xlsx", investment_ledger("奈曼旗2025年4月产业合作项目台账"))
    os.utime(unsettled, None)  # being copied right now
    many = _investment_csv(kq / "科尔沁区2025年2月产业合作项目台账.csv", 250,
                           lambda i: "=1+2" if i % 2 == 0 else "@SUM(A1)")
    crash_before = write_xlsx(nm / "奈曼旗2025年1月产业合作项目台账.xlsx", investment_ledger("奈曼旗2025年1月产业合作项目台账"))
    crash_after = write_xlsx(nm / "奈曼旗2025年2月产业合作项目台账.xlsx", investment_ledger("奈曼旗2025年2月产业合作项目台账"))
    root = write_xlsx(inbox / "奈曼旗2025年5月产业合作项目台账.xlsx", investment_ledger("奈曼旗2025年5月产业合作项目台账"))
    stray = write_csv(inbox / "某某旗" / "同名.csv", [["a"], ["1"]])
    stray_root = write_csv(inbox / "同名.csv", [["b"], ["2"]])
    root_bytes, stray_bytes, stray_root_bytes = root.read_bytes(), stray.read_bytes(), stray_root.read_bytes()
    os.utime(stray_root, (time.time() - 7200,) * 2)  # processed first: it keeps the plain name

    # A run that dies after its commit: before the receipts (crash_before) and after them (crash_after).
    real_write, real_leave = P.write_receipts, P._leave_folder
    crashing = {"on": True}
    monkeypatch.setattr(P, "write_receipts", lambda folder, name, *x: None
                        if crashing["on"] and name == crash_before.name else real_write(folder, name, *x))
    monkeypatch.setattr(P, "_leave_folder", lambda path, folder: None
                        if crashing["on"] and path.name in (crash_before.name, crash_after.name)
                        else real_leave(path, folder))
    records = _Records()
    logging.getLogger("xiezuo.intake.discover").addHandler(records)
    try:
        first = run_pipeline()
    finally:
        logging.getLogger("xiezuo.intake.discover").removeHandler(records)
    assert first.ok, first.text()
    crashing["on"] = False

    # Picked up: exactly these, each with one receipt pair; the rest left alone.
    assert sorted(Path(o["file"]).name for o in first.outcomes) == sorted([
        MARCH, "宏.xlsm", "说明.txt", bomb.name, big.name, "链接.xlsx", "管道.csv", many.name,
        crash_before.name, crash_after.name, root.name, "同名.csv", "同名.csv"])
    for name, (content, mtime) in ignored.items():
        assert (nm / name).read_bytes() == content and (nm / name).stat().st_mtime_ns == mtime, name
    assert sub.exists() and not (nm / "旧版" / "回执").exists()
    assert [m for m in records.messages if "旧版" in m and "sub-folder" in m], records.messages
    assert unsettled.exists()
    assert _receipt_files(nm) == sorted(f"{n}.回执.{e}" for e in ("txt", "json") for n in (
        MARCH, "宏.xlsm", "说明.txt", bomb.name, big.name, "链接.xlsx", "管道.csv", crash_after.name))
    assert _receipt_files(kq) == [f"{many.name}.回执.json", f"{many.name}.回执.txt"]

    r = _receipt(nm, MARCH)
    assert (r["status"], r["county_code"], r["submission_type"], r["period"], r["rows"], r["replaces"],
            r["errors"], r["warnings"], r["sha256"]) == (
        "accepted", "150525", "investment", "2025-03", 3, None, [], [], _sha(a_bytes))
    assert not a.exists(), "the original leaves the county folder after its receipt"
    _refused(_receipt(nm, "宏.xlsm"), "macro", "150525")
    _refused(_receipt(nm, "说明.txt"), "unsupported_type", "150525")
    _refused(_receipt(nm, bomb.name), "zip_bomb", "150525")
    _refused(_receipt(nm, big.name), "too_large", "150525")
    for name in ("链接.xlsx", "管道.csv"):
        rr = _receipt(nm, name)
        _refused(rr, "not_regular_file", "150525")
        assert rr["sha256"] is None and not (nm / name).exists() and not (nm / name).is_symlink()
    assert outside.read_bytes() == outside_bytes, "a link is never followed"
    for name in ("宏.xlsm", "说明.txt", bomb.name, big.name):
        assert not (nm / name).exists()
        assert _text(nm, name).endswith("本文件未导入任何数据。请按上面的说明改正后，把改好的文件直接重新放入本文件夹即可。\n")

    # More than 200 errors: 200 listed, then a count; text from the file is never a formula.
    m = _receipt(kq, many.name)
    assert (m["status"], m["county_code"], m["submission_type"], m["period"], m["rows"]) == (
        "rejected", "150502", "investment", "2025-02", 250)
    assert len(m["errors"]) == 201
    assert [(e["row"], e["column"], e["rule"], e["value"]) for e in m["errors"][:200]] == [
        (line, "项目类型", "enum", "'=1+2" if line % 2 == 0 else "'@SUM(A1)") for line in range(2, 202)]
    assert (m["errors"][200]["rule"], m["errors"][200]["value"], m["errors"][200]["row"]) == ("not_listed", "50", None)
    mt = _text(kq, many.name)
    assert "错误（必须改正）：共 250 处" in mt and "另有 50 处错误未列出" in mt
    assert "填写的是“'=1+2”" in mt and "填写的是“'@SUM(A1)”" in mt
    assert "填写的是“=" not in mt and "填写的是“@" not in mt
    assert all(not line.startswith(("=", "+", "-", "@")) for line in mt.splitlines())
    assert all(not str(v).startswith(("=", "+", "-", "@")) for e in m["errors"] for v in e.values() if v is not None)
    assert _q("select count(*) from raw.investment_rows r join raw.submissions s using (submission_id) "
              "where s.sha256 = :s", s=m["sha256"]) == [(0,)]

    # Unassigned: moved to _unassigned/, receipts in _unassigned/回执/, same-named files both kept.
    assert not root.exists() and not stray.exists() and not stray_root.exists()
    assert (un / root.name).read_bytes() == root_bytes
    assert (un / "同名.csv").read_bytes() == stray_root_bytes and (un / "同名.1.csv").read_bytes() == stray_bytes
    for name in (root.name, "同名.csv"):
        _refused(_receipt(un, name), "unassigned", None)
    renamed = [n for n in _receipt_files(un) if n.startswith("同名.csv.") and n.count(".") == 4]
    assert len(renamed) == 2 and len(_receipt_files(un)) == 6, _receipt_files(un)
    assert _receipt(un, "同名.csv")["sha256"] == _sha(stray_bytes)

    # The interrupted drops: committed, original still there; one without its receipts yet.
    assert crash_before.exists() and crash_after.exists()
    assert not (nm / "回执" / f"{crash_before.name}.回执.json").exists()
    crash_after_receipt = _receipt(nm, crash_after.name)

    # --- run 2 -----------------------------------------------------------------------------
    settle(unsettled)
    again = write_xlsx(nm / MARCH, investment_ledger())
    again.write_bytes(a_bytes)
    os.utime(again, (time.time() - 3600,) * 2)
    bad_fix = write_xlsx(nm / "奈曼旗2025年3月产业合作项目台账（错）.xlsx", investment_ledger(arrived=(-5, 250.5, 1200)))
    os.utime(bad_fix, (time.time() - 3500,) * 2)
    fix = write_xlsx(nm / "奈曼旗2025年3月产业合作项目台账（更正）.xlsx", investment_ledger(arrived=(600, 250.5, 1200)))
    os.utime(fix, (time.time() - 3400,) * 2)
    fix_bytes = fix.read_bytes()
    second = run_pipeline()
    assert second.ok, second.text()
    assert sorted((Path(o["file"]).name, o["status"]) for o in second.outcomes) == sorted([
        (unsettled.name, "accepted"), (MARCH, "duplicate"), (bad_fix.name, "rejected"), (fix.name, "accepted"),
        (crash_before.name, "accepted"), (crash_after.name, "accepted")])

    # The same bytes again: a duplicate receipt, the older pair renamed with its processed time.
    d = _receipt(nm, MARCH)
    assert (d["status"], d["sha256"], d["county_code"], d["submission_type"], d["period"], d["rows"],
            d["replaces"], d["errors"], d["warnings"]) == (
        "duplicate", _sha(a_bytes), "150525", "investment", "2025-03", 0, None, [], [])
    stamp = r["processed_at"][:19].replace("-", "").replace(":", "").replace("T", "-")
    assert json.loads((nm / "回执" / f"{MARCH}.{stamp}.回执.json").read_text(encoding="utf-8")) == r
    assert (nm / "回执" / f"{MARCH}.{stamp}.回执.txt").exists()
    assert "完全相同（当时的结论：已接收）" in _text(nm, MARCH) and not again.exists()

    # A rejected file replaces nothing; the accepted correction replaces the first version.
    b = _receipt(nm, bad_fix.name)
    assert (b["status"], b["replaces"], b["period"]) == ("rejected", None, "2025-03")
    f = _receipt(nm, fix.name)
    assert (f["status"], f["replaces"], f["period"], f["rows"]) == ("accepted", _sha(a_bytes), "2025-03", 3)
    assert "本文件替换了此前接收的同月同类台账" in _text(nm, fix.name)
    assert _q("select s.sha256, count(r.*) from raw.submissions s left join raw.investment_rows r using (submission_id) "
              "where s.period_month = '2025-03-01' and s.county_code = '150525' and s.submission_type = 'investment' "
              "group by s.submission_id, s.sha256 order by s.submission_id") == [
        (_sha(a_bytes), 3), (b["sha256"], 0), (_sha(fix_bytes), 3)], "the replaced version stays in raw"
    assert _q("select distinct file_sha256 from marts.fct_investment where area_code = '150525' "
              "and period_month = '2025-03-01'") == [(_sha(fix_bytes),)], "the marts show the latest only"

    # The interrupted drops are finished with their real verdict, never as duplicates.
    cb = _receipt(nm, crash_before.name)
    assert (cb["status"], cb["period"], cb["rows"]) == ("accepted", "2025-01", 3)
    assert _receipt(nm, crash_after.name) == crash_after_receipt
    assert not crash_before.exists() and not crash_after.exists()
    assert not [n for n in _receipt_files(nm) if n.startswith(crash_after.name) and n.count(".") > 3]
    assert _receipt(nm, unsettled.name)["status"] == "accepted" and not unsettled.exists()
    assert sub.exists() and all((nm / n).exists() for n in ignored)

    # Registrations: one per file (none for the duplicate drop), with verdict, receipt and times;
    # every original with bytes is in the archive (0700) under its SHA-256.
    regs = _q("select sha256, original_name, county_code, submission_type, period_month, status, receipt, "
              "archive_path, received_at, processed_at from raw.submissions order by submission_id")
    assert len(regs) == 16  # 13 files in run 1, 3 new ones in run 2
    shas = [x.sha256 for x in regs if x.sha256]
    assert len(shas) == len(set(shas)) == 14  # all but the link and the pipe
    by_name = {}
    for x in regs:
        by_name.setdefault(x.original_name, []).append(x)
        assert x.received_at <= x.processed_at and x.receipt["status"] == x.status
        if x.sha256:
            assert Path(x.archive_path).read_bytes() and _sha(Path(x.archive_path).read_bytes()) == x.sha256
            assert Path(x.archive_path).parent.parent == home / "archive"
    assert [x.status for x in by_name[MARCH]] == ["accepted"]
    assert (by_name["宏.xlsm"][0].county_code, by_name["宏.xlsm"][0].status) == ("150525", "rejected")
    assert Path(by_name[fix.name][0].archive_path).read_bytes() == fix_bytes
    assert Path(by_name[MARCH][0].archive_path).read_bytes() == a_bytes
    assert stat.S_IMODE((home / "archive").stat().st_mode) == 0o700
    for d_ in (home / "archive").iterdir():
        assert stat.S_IMODE(d_.stat().st_mode) == 0o700
