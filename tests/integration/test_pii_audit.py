"""Personal data never lands anywhere in clear (contracts.md §2 "Personal data"), and a worker
reported by two counties is a warning on the later receipt (indicators.md).

One pipeline run over employment ledgers with generated ID numbers (valid check digits, one
ending in X, one with a wrong check digit), names and phones; then every table of the warehouse
(all schemas), every file under XIEZUO_HOME except the archive, Airflow's home (metadata DB,
logs), the inbox (receipts), the intake's log records and the captured output are searched for
any of them."""
from __future__ import annotations

import logging
import os
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.audit import PiiAudit
from tests.corpus import make_id, mask, wrong_check
from tests.helpers import receipt, settle, write_csv, write_xlsx

pytestmark = pytest.mark.integration

W1 = make_id(date(1990, 5, 1), 11, True)
W2 = make_id(date(1985, 3, 12), 23, False)
W3 = make_id(date(1995, 7, 20), 35, True, region="150502")
W_X = next(i for i in (make_id(date(1993, 2, 14), s, False) for s in range(2, 99, 2)) if i.endswith("X"))
W_BAD = wrong_check(make_id(date(1988, 9, 9), 47, True))
IDS = [W1, W2, W3, W_X, W_BAD]
NAMES = ["欧阳雪琴", "司马青云", "慕容秋水", "上官飞燕", "诸葛明远", "东方未明"]
PHONES = ["13712340001", "13712340002", "13712340003", "13712340004", "13712340005", "13988887777"]
HEADER = ["序号", "身份证号", "姓名", "联系电话", "是否脱贫劳动力", "就业地区", "就业方式", "就业单位", "就业时间", "月收入（元）"]
FILL = "填报单位：人社局　填报人：东方未明　联系电话：13988887777　填报日期：2025年4月3日"


def _rows(people: list[tuple[str, int]]) -> list[list]:
    return [[n, wid, NAMES[who], PHONES[who], "是", "北京市朝阳区", "转移就业", "某公司", "2025-03-02", 5000]
            for n, (wid, who) in enumerate(people, 1)]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


# Secrets of the run itself: the PII key and the database password (the servers here trust local
# connections, so the password is carried everywhere the URL goes, but never checked).
PII_KEY = "pii-key-" + os.urandom(12).hex()  # pragma: allowlist secret
DB_PASSWORD = "db-pw-" + os.urandom(12).hex()  # pragma: allowlist secret


def _audit() -> PiiAudit:
    """tests/audit.py's scanner: findings name where and what, masked, never the value itself."""
    return PiiAudit(ids=set(IDS), names=set(NAMES), phones=set(PHONES), others={PII_KEY, DB_PASSWORD})


def test_personal_data_lands_nowhere_in_clear(xz_env, capfd, monkeypatch):
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import _engine, engine

    monkeypatch.setenv("XIEZUO_PII_KEY", PII_KEY)
    monkeypatch.setenv("XIEZUO_DATABASE_URL", sa.engine.make_url(xz_env["url"]).set(
        password=DB_PASSWORD).render_as_string(hide_password=False))  # pragma: allowlist secret
    _engine.cache_clear()
    assert engine().url.password == DB_PASSWORD  # the run really carries it (the search is not blind)

    inbox, home = xz_env["inbox"], xz_env["home"]
    nm = write_xlsx(inbox / "奈曼旗" / "奈曼旗2025年3月劳务协作台账.xlsx",
                    [["奈曼旗2025年3月劳务协作台账"], [FILL], HEADER, *_rows([(W1, 0), (W2, 1), (W_X, 3)])])
    kq = write_xlsx(inbox / "150502" / "科尔沁区2025年3月劳务协作台账.xlsx",
                    [["科尔沁区2025年3月劳务协作台账"], [FILL], HEADER, *_rows([(W3, 2), (W1, 0), (W_X, 3)])])
    bad = write_csv(inbox / "奈曼旗" / "奈曼旗2025年4月劳务协作台账.csv",
                    [HEADER, *_rows([(W_BAD, 4), (W2, 1)])], encoding="gb18030")
    os.utime(nm, (time.time() - 7200,) * 2)  # 奈曼旗 first: 科尔沁区's receipt is the later one
    settle(kq)
    records = _Records()
    xlog = logging.getLogger("xiezuo")
    old_level = xlog.level
    xlog.setLevel(logging.DEBUG)
    xlog.addHandler(records)
    try:
        report = run_pipeline()
    finally:
        xlog.removeHandler(records)
        xlog.setLevel(old_level)
    out, err = capfd.readouterr()
    assert report.ok, report.text()

    # Two counties report W1 and W_X in March: the later receipt warns on those rows, naming no one.
    first = receipt(inbox, "奈曼旗", nm.name)
    assert (first["status"], first["rows"], first["warnings"], first["errors"]) == ("accepted", 3, [], [])
    later = receipt(inbox, "150502", kq.name)
    assert (later["status"], later["rows"], later["errors"]) == ("accepted_with_warnings", 3, [])
    assert [(w["row"], w["column"], w["value"], w["rule"]) for w in later["warnings"]] == [
        (5, "身份证号", mask(W1), "reported_by_other_county"), (6, "身份证号", mask(W_X), "reported_by_other_county")]
    assert all(w["message"].startswith("此人本月已在奈曼旗的劳务协作台账中报送，全市只计一次") for w in later["warnings"])
    # A bad ID is shown as its first 6 and last 2 characters only.
    rejected = receipt(inbox, "奈曼旗", bad.name)
    assert rejected["status"] == "rejected"
    assert [(e["row"], e["column"], e["value"], e["rule"]) for e in rejected["errors"]] == [
        (2, "身份证号", mask(W_BAD), "id_number")]
    assert mask(W_BAD) == W_BAD[:6] + "*" * 10 + W_BAD[-2:]

    # The warehouse: every table and view of every schema, every column (as JSON text).
    audit = _audit()
    assert all(audit.scan_text(v, "probe") for v in (W1, W_X.lower(), NAMES[0], PHONES[0], PII_KEY, DB_PASSWORD))
    relations, found = audit.scan_database(engine())
    assert {("raw", "employment_rows"), ("raw", "submissions"), ("marts", "fct_employment")} <= set(relations)
    with engine().connect() as c:
        assert c.execute(sa.text("select count(*) from marts.fct_employment")).scalar() == 6
    assert audit.scanned_rows > 100 and not found, [str(f) for f in found]

    # Files: XIEZUO_HOME but the archive (logs, Data Docs, dbt artifacts), Airflow's home, the inbox.
    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    files = [p for p in home.rglob("*") if p.is_file() and (home / "archive") not in p.parents]
    files += [p for p in airflow_home.rglob("*") if p.is_file()]
    files += [p for p in inbox.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in files}
    assert {".html", ".json", ".txt"} <= kinds, kinds
    assert any("dbt" in p.parts for p in files) and any("gx" in p.parts for p in files)
    assert sorted(p.name for p in inbox.rglob("*") if p.is_file()) == sorted(
        f"{f.name}.回执.{e}" for f in (nm, kq, bad) for e in ("txt", "json")), "only receipts stay in the inbox"
    found = audit.scan_files(files)
    assert not found, [str(f) for f in found]

    # The archive is the one place with the originals as dropped (so the search above is not blind).
    archived = b"".join(p.read_bytes() for p in (home / "archive").rglob("*") if p.is_file())
    assert W_BAD.encode() in archived  # the CSV is kept as dropped

    # What the run logged and printed.
    assert any("劳务协作台账" in line for line in records.lines), records.lines[:20]
    for where, text in (("log records", "\n".join(records.lines)), ("stdout", out), ("stderr", err)):
        leaks = audit.scan_text(text, where)
        assert not leaks, [str(f) for f in leaks]
