"""Receipts (回执): a Chinese text for the clerk and a JSON for machines, per processed file.

The JSON has exactly the keys of submissions.md ("Receipts"). At most MAX_LISTED errors and
MAX_LISTED warnings are listed; when there are more, one file-level entry (rule `not_listed`,
`value` = how many more) closes the list, so the JSON alone says how many there were.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime
from pathlib import Path

from .problems import Problem

RECEIPT_DIR = "回执"
MAX_LISTED = 200
NOT_LISTED = "not_listed"
RECEIPT_KEYS = ("file", "sha256", "county_code", "submission_type", "period", "status", "rows",
                "replaces", "errors", "warnings", "received_at", "processed_at")
STATUS_ZH = {
    "accepted": "已接收",
    "accepted_with_warnings": "已接收（有提示）",
    "rejected": "未通过",
    "duplicate": "重复提交（与已处理过的文件完全相同，未做任何改动）",
}
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> str:
    """Text from a file, made inert: nothing that starts with = + - @ can become a formula
    (a plain number such as -5 is left as it is: it cannot be one)."""
    s = str(value)
    s = s.replace("\r", " ").replace("\n", " ")
    if s[:1] in _FORMULA_START and not _PLAIN_NUMBER.match(s):
        return "'" + s
    return s


def listed(problems: list[Problem], what: str) -> list[dict]:
    """The receipt's list of problems: the first MAX_LISTED, then one entry counting the rest."""
    out = [p.as_json() for p in problems[:MAX_LISTED]]
    rest = len(problems) - MAX_LISTED
    if rest > 0:
        out.append({"row": None, "column": None, "value": str(rest), "rule": NOT_LISTED,
                    "message": f"另有 {rest} 处{what}未列出；请先改正以上各处，重新提交后回执会列出其余的"})
    return out


def total(items: list[dict]) -> int:
    """How many problems a receipt list stands for (the listed ones plus the counted rest)."""
    if items and items[-1]["rule"] == NOT_LISTED:
        return len(items) - 1 + int(items[-1]["value"])
    return len(items)


def receipt_json(*, file: str, sha256: str | None, county_code: str | None, submission_type: str | None,
                 period: str | None, status: str, rows: int, replaces: str | None,
                 errors: list[Problem], warnings: list[Problem], received_at: datetime,
                 processed_at: datetime, extra: dict | None = None) -> dict:
    r = {
        "file": safe_text(file),
        "sha256": sha256,
        "county_code": county_code,
        "submission_type": submission_type,
        "period": period,
        "status": status,
        "rows": rows,
        "replaces": replaces,
        "errors": listed(errors, "错误"),
        "warnings": listed(warnings, "提示"),
        "received_at": received_at.isoformat(timespec="seconds"),
        "processed_at": processed_at.isoformat(timespec="seconds"),
    }
    assert tuple(r) == RECEIPT_KEYS
    return {**r, **(extra or {})}


def _problem_line(i: int, p: dict) -> str:
    where = []
    if p["row"] is not None:
        where.append(f"第 {p['row']} 行")
    if p["column"] is not None:
        where.append(f"“{safe_text(p['column'])}”列")
    if p["value"] not in (None, ""):
        where.append(f"填写的是“{safe_text(p['value'])}”")
    prefix = "，".join(where)
    return f"{i}. {prefix + '：' if prefix else ''}{safe_text(p['message'])}"


def _when(iso: str) -> str:
    return iso.replace("T", " ")[:19]


def receipt_text(r: dict, *, county_name: str | None, kind_title: str | None,
                 previous: dict | None = None) -> str:
    """The clerk's receipt. `previous` (duplicates): the earlier processing of the same bytes,
    {original_name, status, processed_at}."""
    lines = [f"回执：{safe_text(r['file'])}"]
    lines.append(f"旗县：{county_name}（{r['county_code']}）" if r["county_code"] else "旗县：无法确定")
    lines.append(f"台账类型：{kind_title}" if kind_title else "台账类型：无法确定")
    if r["period"]:
        y, m = r["period"].split("-")
        lines.append(f"报告月份：{y}年{int(m)}月")
    else:
        lines.append("报告月份：无法确定")
    lines.append(f"结论：{STATUS_ZH[r['status']]}")
    lines.append(f"数据行数：{r['rows']}")
    lines.append(f"处理时间：{_when(r['processed_at'])}")
    if r.get("replaces"):
        lines.append(f"本文件替换了此前接收的同月同类台账（SHA-256 {r['replaces'][:12]}…），以本文件为准。")
    for key, title in (("errors", "错误（必须改正）"), ("warnings", "提示（请核对，不影响接收）")):
        items = r[key]
        if not items:
            continue
        lines.append("")
        lines.append(f"{title}：共 {total(items)} 处")
        shown = [p for p in items if p["rule"] != NOT_LISTED]
        lines += [_problem_line(i, p) for i, p in enumerate(shown, 1)]
        if len(shown) < len(items):
            lines.append(f"……{safe_text(items[-1]['message'])}。")
    lines.append("")
    if r["status"] == "rejected":
        lines.append("本文件未导入任何数据。请按上面的说明改正后，把改好的文件直接重新放入本文件夹即可。")
    elif r["status"] == "duplicate":
        if previous:
            lines.append(f"这个文件与 {_when(str(previous['processed_at']))} 处理过的“{safe_text(previous['original_name'])}”"
                         f"完全相同（当时的结论：{STATUS_ZH.get(previous['status'], previous['status'])}），"
                         "本次没有做任何改动。")
        else:
            lines.append("这个文件此前已经处理过，本次没有做任何改动。")
        lines.append("如需更正，请修改内容后再放入本文件夹。")
    else:
        lines.append("数据已导入。如需更正，修改后重新放入本文件夹即可，新文件将替换本月的这份台账。")
    return "\n".join(lines) + "\n"


NAME_MAX = 255  # bytes in one file name (ext4, xfs, NTFS via SMB)
# The longest name a receipt of a file gets: renamed with a time stamp and a counter, and the
# temporary name it is written under first (".<name>.tmp").
_LONGEST_SUFFIX = len(".20250101-000000-99.回执.json".encode()) + len("..tmp")


def receipt_stem(original_name: str) -> str:
    """The receipts are named after the original — as far as a file name can hold it: a name so
    long that "<name>.回执.json" would not fit is cut (on a character boundary) and given a short
    hash of the full name, so two long names that share a beginning keep apart. The full name
    is inside the receipt either way."""
    raw = os.fsencode(original_name)
    room = NAME_MAX - _LONGEST_SUFFIX
    if len(raw) <= room:
        return original_name
    digest = hashlib.sha256(raw).hexdigest()[:8]
    cut = raw[:room - len(digest) - 1]
    for drop in range(4):  # a UTF-8 character is at most 4 bytes: back off to its start
        try:
            head = cut[:len(cut) - drop].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    else:
        head = os.fsdecode(cut)  # not UTF-8 at all: the bytes as they were
    return f"{head}~{digest}"


def receipt_paths(folder: Path, original_name: str) -> tuple[Path, Path]:
    """The (text, JSON) receipt of that original in the folder's 回执/."""
    stem = receipt_stem(original_name)
    return folder / RECEIPT_DIR / f"{stem}.回执.txt", folder / RECEIPT_DIR / f"{stem}.回执.json"


def write_receipts(folder: Path, original_name: str, receipt: dict, text: str) -> tuple[Path, Path]:
    """Write the pair; an older pair of the same name is first renamed with its processed time."""
    out = folder / RECEIPT_DIR
    out.mkdir(parents=True, exist_ok=True)
    txt, js = receipt_paths(folder, original_name)
    original_name = receipt_stem(original_name)
    if txt.exists() or js.exists():
        try:
            stamp = datetime.fromisoformat(json.loads(js.read_text(encoding="utf-8"))["processed_at"])
        except Exception:  # noqa: BLE001 - an unreadable old receipt: fall back to its file time
            stamp = datetime.fromtimestamp((txt if txt.exists() else js).stat().st_mtime)
        tag = stamp.strftime("%Y%m%d-%H%M%S")
        n = 0
        while True:  # the same second twice: -1, -2 … so no older receipt is ever overwritten
            t = tag if n == 0 else f"{tag}-{n}"
            targets = (out / f"{original_name}.{t}.回执.txt", out / f"{original_name}.{t}.回执.json")
            if not any(p.exists() for p in targets):
                break
            n += 1
        for p, target in zip((txt, js), targets):
            if p.exists():
                p.rename(target)
    _atomic_write(js, json.dumps(receipt, ensure_ascii=False, indent=2))
    _atomic_write(txt, text)
    return txt, js


def current_receipt(folder: Path, original_name: str) -> dict | None:
    """The latest JSON receipt of that name in the folder's 回执/, if readable."""
    try:
        return json.loads(receipt_paths(folder, original_name)[1].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
