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


# Every column of raw.submissions (warehouse/raw.py SUBMISSIONS_DDL); a test checks they match.
SUBMISSION_COLUMNS = {
    "submission_id": "提交编号（递增）；各 *_rows 表以此关联",
    "sha256": "原件的 SHA-256；同一内容只登记一次（重复提交不再登记）",
    "original_name": "原件文件名（如报送时）",
    "county_code": "旗县代码（由所在文件夹确定）；无法确定归属时为空",
    "submission_type": "台账类型（investment、employment、tourism、livelihood、consumer、exchange）",
    "period_month": "所属月份（当月 1 日）",
    "status": "结论：accepted、accepted_with_warnings、rejected、duplicate",
    "rows": "数据行数（不含合计行、空行）",
    "replaces": "被本次提交替换的同旗县、同类型、同月份上一份已接收提交的 SHA-256",
    "error_count": "错误条数（有错误即拒收）",
    "warning_count": "提醒条数",
    "receipt": "回执 JSON（与旗县文件夹中的 .回执.json 相同）",
    "archive_path": "原件在归档中的位置",
    "received_at": "收到时间（文件放入文件夹的时间）",
    "processed_at": "处理完成时间",
    "dropped_as": "放入时相对收件箱的路径",
    "drop_identity": "放入时的文件系统标识（设备:inode:ctime），用于中断后续办同一次放入",
    "loaded_by": "写入这条登记的数据库角色（intake 为 xiezuo_intake）",
}
SUBMISSION_TESTS = {
    "submission_id": {"data_tests": ["unique", "not_null"]},
    "status": {"data_tests": [{"accepted_values": {"arguments": {"values": [
        "accepted", "accepted_with_warnings", "rejected", "duplicate"]}}}]},
}


def render() -> str:
    tables = [{
        "name": "submissions",
        "description": "每个处理过的文件一行：旗县、台账类型、月份、结论、回执、SHA-256 与收到/处理时间。",
        "loaded_at_field": "processed_at",
        "freshness": {"warn_after": {"count": 35, "period": "day"}, "error_after": {"count": 70, "period": "day"}},
        "columns": [{"name": name, "description": text, **SUBMISSION_TESTS.get(name, {})}
                    for name, text in SUBMISSION_COLUMNS.items()],
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
