"""The templates clerks get (`xiezuo templates`) are accepted by the real pipeline: each of the six,
filled with a few valid rows and saved under a name with the month, goes through the intake and
transform DAGs and is accepted, with no warning; its rows reach the facts."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

pytestmark = pytest.mark.integration


def test_filled_templates_are_accepted_by_the_pipeline(xz_env, tmp_path):
    from xiezuo import contracts as C
    from xiezuo import sample
    from xiezuo import templates as T
    from xiezuo.cli import main
    from xiezuo.reference import programme
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    out = tmp_path / "templates"
    assert main(["templates", "--out", str(out)]) == 0
    period = date(2025, 3, 1)
    expected = {}
    for i, contract in enumerate(C.all_contracts()):
        area = programme().counties[i % len(programme().counties)]
        records = sample.sample_records(contract.kind, area, period)[:4]
        name = f"{area.name}2025年3月{contract.title}.xlsx"
        path = xz_env["inbox"] / area.name / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(out / T.file_name(contract), path)
        wb = load_workbook(path)
        ws = wb[T.SHEET_LEDGER]
        for r, rec in enumerate(records, start=T.FIRST_DATA_ROW):
            for c, col in enumerate(contract.columns, start=1):
                ws.cell(r, c, rec.get(col.name))
        wb.save(path)
        expected[contract.kind] = (area, name, len(records))
    report = run_pipeline()
    assert report.ok, report.text()
    with engine().connect() as conn:
        for kind, (area, name, n) in expected.items():
            r = json.loads((xz_env["inbox"] / area.name / "回执" / f"{name}.回执.json").read_text(encoding="utf-8"))
            assert (r["status"], r["submission_type"], r["period"], r["rows"], r["county_code"]) == (
                "accepted", kind, "2025-03", n, area.code), (r["errors"], r["warnings"])
            got = conn.execute(sa.text(f"select count(*) from marts.fct_{kind} where area_code = :a"),
                               {"a": area.code}).scalar()
            assert got == n
