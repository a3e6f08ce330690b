"""Generate dbt_project/models/staging/_src.yml from the contracts (the dbt source docs).

Run `python -m xiezuo.contracts.dbt_sources` after changing a contract; a test fails when the
committed file is out of date, so the docs can never drift from the contract.
"""
from __future__ import annotations

import sys

import yaml

from ..config import DBT_PROJECT_DIR
from . import all_contracts
from ..warehouse.raw import stored_columns

TARGET = DBT_PROJECT_DIR / "models" / "staging" / "_src.yml"


def _describe(contract, name: str) -> str:
    for col in contract.columns:
        if col.name == name:
            unit = f"（单位：{col.unit}）" if col.unit else ""
            extra = f" 可选值：{'、'.join(col.values)}。" if col.values else ""
            return f"{col.header}{unit}：{col.description}{extra}".strip()
    base = name.rsplit("_", 1)[0]
    what = {"key": "身份证号码的 HMAC-SHA256（XIEZUO_PII_KEY），不含明文",
            "birth_year": "由身份证号码得出的出生年份", "gender": "由身份证号码得出的性别",
            "region": "身份证号码前 6 位（地区码）"}
    return what.get(name.removeprefix(base + "_"), name)


def render() -> str:
    tables = [{
        "name": "submissions",
        "description": "每个处理过的文件一行：旗县、台账类型、月份、结论、回执、SHA-256 与收到/处理时间。",
        "loaded_at_field": "processed_at",
        "freshness": {"warn_after": {"count": 35, "period": "day"}, "error_after": {"count": 70, "period": "day"}},
        "columns": [{"name": "submission_id", "data_tests": ["unique", "not_null"]},
                    {"name": "status", "data_tests": [{"accepted_values": {"arguments": {"values": [
                        "accepted", "accepted_with_warnings", "rejected", "duplicate"]}}}]}],
    }]
    for contract in all_contracts():
        cols = [{"name": "submission_id", "description": "所属提交（raw.submissions）"},
                {"name": "source_row", "description": "文件中的行号（Excel 行号或 CSV 行号）"}]
        cols += [{"name": n, "description": _describe(contract, n), "data_type": t}
                 for n, t in stored_columns(contract)]
        tables.append({"name": f"{contract.kind}_rows",
                       "description": f"{contract.title}（{contract.kind}）：{contract.grain}。由 plugins/xiezuo/contracts/{contract.kind}.yaml 生成。",
                       "columns": cols})
    doc = {"version": 2, "sources": [{"name": "raw", "schema": "raw",
                                       "description": "Intake 写入的原始层：每个接收文件的行，附血缘（提交 id、行号）。",
                                       "tables": tables}]}
    header = "# GENERATED from plugins/xiezuo/contracts/*.yaml by `python -m xiezuo.contracts.dbt_sources`; do not edit.\n"
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")
