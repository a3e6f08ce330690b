"""Receipts (回执): a Chinese text for the clerk and a JSON for machines, per processed file."""
from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

from .problems import Problem

RECEIPT_DIR = "回执"
MAX_LISTED = 200
STATUS_ZH = {
    "accepted": "已接收",
    "accepted_with_warnings": "已接收（有提示）",
    "rejected": "未通过",
    "duplicate": "重复提交（与已处理过的文件完全相同，未做任何改动）",
}
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_text(value: object) -> str:
    """Text from a file, made inert: nothing that starts with = + - @ can become a formula."""
    s = str(value)
    s = s.replace("\r", " ").replace("\n", " ")
    if s[:1] in ("=", "+", "-", "@", "\t") and not _PLAIN_NUMBER.match(s):
        return "'" + s
    return s


def receipt_json(*, file: str, sha256: str | None, county_code: str | None, submission_type: str | None,
                 period: str | None, status: str, rows: int, replaces: str | None,
                 errors: list[Problem], warnings: list[Problem], received_at: datetime,
                 processed_at: datetime, extra: dict | None = None) -> dict:
    return {
        "file": safe_text(file),
        "sha256": sha256,
        "county_code": county_code,
        "submission_type": submission_type,
        "period": period,
        "status": status,
        "rows": rows,
        "replaces": replaces,
        "errors": [p.as_json() for p in errors[:MAX_LISTED]],
        "warnings": [p.as_json() for p in warnings[:MAX_LISTED]],
        "error_count": len(errors),
        "warning_count": len(warnings),
        "received_at": received_at.isoformat(timespec="seconds"),
        "processed_at": processed_at.isoformat(timespec="seconds"),
        **(extra or {}),
    }


def _problem_line(i: int, p: Problem) -> str:
    where = []
    if p.row is not None:
        where.append(f"第 {p.row} 行")
    if p.column is not None:
        where.append(f"“{safe_text(p.column)}”列")
    if p.value not in (None, ""):
        where.append(f"填写的是“{safe_text(p.value)}”")
    prefix = "，".join(where)
    return f"{i}. {prefix + '：' if prefix else ''}{safe_text(p.message)}"


def receipt_text(r: dict, *, county_name: str | None, kind_title: str | None) -> str:
    lines = [f"回执：{r['file']}"]
    lines.append(f"旗县：{county_name}（{r['county_code']}）" if r["county_code"] else "旗县：无法确定")
    lines.append(f"台账类型：{kind_title}" if kind_title else "台账类型：无法确定")
    if r["period"]:
        y, m = r["period"].split("-")
        lines.append(f"报告月份：{y}年{int(m)}月")
    else:
        lines.append("报告月份：无法确定")
    lines.append(f"结论：{STATUS_ZH[r['status']]}")
    lines.append(f"数据行数：{r['rows']}")
    lines.append(f"处理时间：{r['processed_at'].replace('T', ' ')[:19]}")
    if r.get("replaces"):
        lines.append(f"本文件替换了此前接收的同月同类台账（SHA-256 {r['replaces'][:12]}…），以本文件为准。")
    for key, title in (("errors", "错误（必须改正）"), ("warnings", "提示（请核对，不影响接收）")):
        items = [Problem(**{k: v for k, v in d.items()}) for d in r[key]]
        count = r[f"{key[:-1]}_count"]
        if not count:
            continue
        lines.append("")
        lines.append(f"{title}：共 {count} 处")
        lines += [_problem_line(i, p) for i, p in enumerate(items, 1)]
        if count > len(items):
            lines.append(f"……另有 {count - len(items)} 处未列出，请改正以上问题后重新提交查看。")
    lines.append("")
    if r["status"] == "rejected":
        lines.append("本文件未导入任何数据。请按上面的说明改正后，把文件直接重新放入本文件夹即可。")
    elif r["status"] == "duplicate":
        lines.append("这个文件此前已经处理过，本次没有做任何改动。如需更正，请修改内容后再提交。")
    else:
        lines.append("数据已导入。如需更正，修改后重新放入本文件夹即可，新文件将替换本月的这份台账。")
    return "\n".join(lines) + "\n"


def write_receipts(folder: Path, original_name: str, receipt: dict, text: str) -> tuple[Path, Path]:
    """Write the pair; an older pair of the same name is first renamed with its processed time."""
    out = folder / RECEIPT_DIR
    out.mkdir(exist_ok=True)
    txt = out / f"{original_name}.回执.txt"
    js = out / f"{original_name}.回执.json"
    if txt.exists() or js.exists():
        stamp = None
        try:
            stamp = datetime.fromisoformat(json.loads(js.read_text(encoding="utf-8"))["processed_at"])
        except Exception:  # an unreadable old receipt: fall back to its file time
            stamp = datetime.fromtimestamp((txt if txt.exists() else js).stat().st_mtime)
        tag = stamp.strftime("%Y%m%d-%H%M%S")
        for p, suffix in ((txt, "回执.txt"), (js, "回执.json")):
            if p.exists():
                target = out / f"{original_name}.{tag}.{suffix}"
                n = 1
                while target.exists():
                    target = out / f"{original_name}.{tag}-{n}.{suffix}"
                    n += 1
                p.rename(target)
    _atomic_write(js, json.dumps(receipt, ensure_ascii=False, indent=2))
    _atomic_write(txt, text)
    return txt, js


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
