"""One dropped file, start to end: safety checks → parse → GX gate → load with registration →
receipts → the original leaves the folder. Bad input gets a receipt and loses nothing."""
from __future__ import annotations

import logging
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .. import contracts as C
from ..config import settings
from ..reference import programme
from ..warehouse import raw
from ..warehouse.database import engine
from . import archive
from .discover import UNASSIGNED, Candidate
from .parse import Parsed, parse_file
from .problems import FileRejected, Problem
from .receipts import receipt_json, receipt_text, write_receipts

log = logging.getLogger(__name__)
SUPPORTED = {".xlsx", ".xls", ".csv"}
ZIP_RATIO, ZIP_MAX = 20, 500 * 1024 * 1024


@dataclass
class Outcome:
    file: str
    status: str
    county_code: str | None
    submission_type: str | None
    period: str | None
    rows: int
    sha256: str | None
    receipt: str

    @property
    def loaded(self) -> bool:
        return self.status in ("accepted", "accepted_with_warnings")


def _now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def _safety(path: Path, max_mb: float) -> None:
    """Refusals decided before a byte is parsed (submissions.md "Which files are picked up")."""
    suffix = path.suffix.lower()
    if suffix == ".xlsm":
        raise FileRejected("macro", "不接收带宏的 Excel 文件（.xlsm）",
                           "请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新提交")
    if suffix not in SUPPORTED:
        raise FileRejected("unsupported_type", f"不支持的文件类型“{path.suffix or '无扩展名'}”",
                           "只接收 .xlsx、.xls 或 .csv 文件；请另存为这些格式后重新提交")
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise FileRejected("too_large", f"文件大小 {size / 1048576:.1f} MB，超过 {max_mb:g} MB 的上限",
                           "请按月份或类型拆分成较小的文件后重新提交")
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as z:
                total = sum(i.file_size for i in z.infolist())
        except zipfile.BadZipFile:
            raise FileRejected("unreadable", "文件无法作为 Excel 工作簿打开（文件已损坏，或并非 .xlsx 文件）",
                               "请用 Excel 打开确认无误后，另存为 .xlsx 重新提交") from None
        if total > ZIP_RATIO * max(size, 1) or total > ZIP_MAX:
            raise FileRejected("zip_bomb", "文件解压后的体积异常（超过文件大小的 20 倍或 500 MB），可能是恶意文件，已拒收",
                               "请重新从 Excel 另存后提交；如确属正常文件，请联系市里数据管理员")


def process(candidate: Candidate, today: date | None = None) -> Outcome:
    s = settings()
    path = Path(candidate.path)
    received_at = _now()
    county = programme().by_code(candidate.county_code) if candidate.county_code else None
    folder = path.parent if county else s.inbox / UNASSIGNED

    # Links and non-regular files are refused, never followed.
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        problem = Problem("not_regular_file", "这是一个快捷方式（符号链接）或特殊文件，不是普通文件，已拒收。"
                          "请把文件本身（而不是快捷方式）放入文件夹")
        return _finish(path, folder, None, county, None, None, "rejected", [problem], [], 0,
                       received_at, parsed=None, move=True)

    sha = archive.sha256_of(path)
    stored = archive.store(s.archive_dir, path, sha)
    eng = engine()
    with eng.begin() as conn:
        prior = raw.seen_before(conn, sha)
    if prior is not None:
        return _finish(path, folder, sha, county, None, None, "duplicate", [], [], 0, received_at,
                       parsed=None, archive_path=stored)
    parsed: Parsed | None = None
    errors: list[Problem] = []
    warnings: list[Problem] = []
    try:
        _safety(path, s.max_file_mb)
        if county is None:
            raise FileRejected("unassigned", "文件不在任何旗县的文件夹中（或文件夹名称不是已知旗县），无法确定归属",
                               "请把文件放入本旗县的文件夹后重新提交")
        parsed = parse_file(path, county, pii_key=s.pii_key, today=today)
        from ..quality.gate import run_gate

        for p in parsed.findings.errors + parsed.findings.warnings + run_gate(parsed, county_code=county.code, sha256=sha):
            (errors if p.severity == "error" else warnings).append(p)
    except FileRejected as exc:
        errors = [exc.problem()]
        kind_known = exc.kind
    else:
        kind_known = parsed.kind
    status = "rejected" if errors else ("accepted_with_warnings" if warnings else "accepted")
    return _finish(path, folder, sha, county, kind_known,
                   parsed.period if parsed else None, status, errors, warnings,
                   len(parsed.rows) if parsed else 0, received_at, parsed=parsed, archive_path=stored)


def _finish(path: Path, folder: Path, sha: str | None, county, kind: str | None, period: date | None,
            status: str, errors: list[Problem], warnings: list[Problem], rows: int,
            received_at: datetime, *, parsed: Parsed | None, archive_path: Path | None = None,
            move: bool = False) -> Outcome:
    """Register (with rows when accepted) and write receipts in one transaction, then let the
    original leave the folder. A failure before commit leaves the original where it was."""
    period_s = f"{period:%Y-%m}" if period else None
    county_code = county.code if county else None
    with engine().begin() as conn:
        replaces = None
        if status in ("accepted", "accepted_with_warnings"):
            raw.lock_slot(conn, county_code, kind, period)
            replaces = raw.latest_accepted(conn, county_code, kind, period)
        processed_at = _now()
        receipt = receipt_json(
            file=path.name, sha256=sha, county_code=county_code, submission_type=kind, period=period_s,
            status=status, rows=rows if status != "duplicate" else 0, replaces=replaces, errors=errors,
            warnings=warnings, received_at=received_at, processed_at=processed_at)
        reg = raw.Registration(
            sha256=sha, original_name=path.name, county_code=county_code, submission_type=kind,
            period_month=period, status=status, rows=receipt["rows"], error_count=len(errors),
            warning_count=len(warnings), receipt=receipt,
            archive_path=str(archive_path) if archive_path else None,
            received_at=received_at, processed_at=processed_at, replaces=replaces)
        submission_id = raw.register(conn, reg)
        if status in ("accepted", "accepted_with_warnings") and parsed is not None:
            raw.copy_rows(conn, kind, submission_id, parsed.rows)
        text = receipt_text(receipt, county_name=county.name if county else None,
                            kind_title=C.load(kind).title if kind else None)
        folder.mkdir(parents=True, exist_ok=True)
        write_receipts(folder, path.name, receipt, text)
    _leave_folder(path, folder)
    log.info("%s: %s (%s rows, %d errors, %d warnings)", path.name, status, rows, len(errors), len(warnings))
    return Outcome(file=str(path), status=status, county_code=county_code, submission_type=kind,
                   period=period_s, rows=receipt["rows"], sha256=sha,
                   receipt=str(folder / "回执" / f"{path.name}.回执.json"))


def _leave_folder(path: Path, folder: Path) -> None:
    """After its receipt is written, the original leaves the clerk's folder (the archive has it).
    Files refused before a county is known are moved to _unassigned/ for the operators."""
    if folder.name == UNASSIGNED and path.parent != folder:
        target = folder / path.name
        n = 1
        while target.exists() or target.is_symlink():
            target = folder / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(str(path), str(target)) if not path.is_symlink() else os.rename(path, target)
    else:
        path.unlink(missing_ok=True)
