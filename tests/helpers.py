"""Building clerk-like files for tests (no real personal data: IDs are generated)."""
from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa


def admin_url_of(url: str) -> str:
    u = sa.engine.make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.set(database="postgres").render_as_string(hide_password=False)


def settle(path: Path) -> Path:
    past = time.time() - 3600
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return settle(path)


def write_xlsx(path: Path, rows: list[list[object]], merges: list[str] = ()) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(list(r))
    for m in merges:
        ws.merge_cells(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return settle(path)


def receipt(inbox: Path, county_folder: str, name: str) -> dict:
    return json.loads((inbox / county_folder / "回执" / f"{name}.回执.json").read_text(encoding="utf-8"))


def receipt_text(inbox: Path, county_folder: str, name: str) -> str:
    return (inbox / county_folder / "回执" / f"{name}.回执.txt").read_text(encoding="utf-8")


INVESTMENT_HEADER = ["序号", "项目编号", "项目名称", "项目类型", "合作企业", "是否新引进", "共建园区", "园区级别",
                     "计划总投资（万元）", "本月到位投资（万元）", "装机规模（万千瓦）", "带动农户", "带动就业", "项目状态"]


def investment_rows(arrived=(500, 250.5, 1200)) -> list[list[object]]:
    rows = [
        [1, "NM-001", "风电储能一体化", "新能源", "京能集团", "是", "京蒙协作产业园", "自治区级", 12000, arrived[0], 10, 120, 35, "在建"],
        [2, "NM-002", "肉牛屠宰加工", "农畜产品加工", "北京首农", "否", "", "", 3000, arrived[1], "", 300, 60, "投产"],
        [3, "NM-003", "智能装备基地", "装备制造", "北京精雕", "是", "京蒙协作产业园", "自治区级", 8000, arrived[2], "", "—", 80, "签约"],
    ]
    return rows


def investment_ledger(title: str = "奈曼旗2025年3月产业合作项目台账", arrived=(500, 250.5, 1200)) -> list[list[object]]:
    return [[title], ["填报单位：奈曼旗发改委", "", "", "填报日期：2025年4月3日"], INVESTMENT_HEADER,
            *investment_rows(arrived)]


@contextmanager
def module_warehouse(tmp_path_factory, pg_server: str, prefix: str) -> Iterator[dict]:
    """For a module-scoped fixture: a fresh warehouse database, XIEZUO_HOME and inbox, set in the
    environment for the block and dropped after it. Yields {"inbox", "home", "tmp", "url", "mp"}."""
    import pytest

    from xiezuo.warehouse.database import _engine

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url_of(pg_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'create database "{name}"')
    url = sa.engine.make_url(admin_url_of(pg_server)).set(database=name).render_as_string(hide_password=False)
    tmp = tmp_path_factory.mktemp(prefix)
    inbox = tmp / "inbox"
    inbox.mkdir()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("XIEZUO_HOME", str(tmp / "home"))
            mp.setenv("XIEZUO_INBOX", str(inbox))
            mp.setenv("XIEZUO_DATABASE_URL", url)
            _engine.cache_clear()
            try:
                yield {"inbox": inbox, "home": tmp / "home", "tmp": tmp, "url": url, "mp": mp}
            finally:
                _engine.cache_clear()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()
