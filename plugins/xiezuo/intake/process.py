"""One dropped file, start to end: safety checks → parse → GX gate → load with registration →
receipts → the original leaves the folder. Bad input gets a receipt and loses nothing.

Order (submissions.md "Originals", "The warehouse never sees a half"):
archive the bytes → register (with the rows, when accepted) in one transaction → write the
receipts → the original leaves the folder. A run that dies after the commit leaves the original
in the folder; the next run recognises that very drop (same path, device, inode and ctime) and
only finishes it — the receipt the clerk gets is the real verdict, never "duplicate".
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import threading
import zipfile
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .. import contracts as C
from ..config import settings
from ..reference import programme
from ..warehouse import raw
from ..warehouse.database import engine
from ..warehouse.roles import INTAKE_ROLE, act_as
from . import archive
from .columnar import as_list
from .discover import UNASSIGNED, Candidate
from .parse import Parsed, key_column, parse_file
from .problems import FileRejected, Problem
from .read import WORKSHEET_MEMBER, TextRuns, column_letters, column_number, holds_cell_text, note_text_runs
from .receipts import current_receipt, receipt_json, receipt_paths, receipt_text, write_receipts

log = logging.getLogger(__name__)
SUPPORTED = {".xlsx", ".xls", ".csv"}
ZIP_RATIO, ZIP_MAX = 20, 500 * 1024 * 1024
LOADED = ("accepted", "accepted_with_warnings")


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
        return self.status in LOADED


def _now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def _zip_bomb() -> FileRejected:
    return FileRejected("zip_bomb", "文件解压后的体积异常（超过文件大小的 20 倍或 500 MB），可能是恶意文件，已拒收",
                        "请重新从 Excel 另存后提交；如确属正常文件，请联系市里数据管理员")


def _check_zip(path: Path, size: int) -> None:
    """An .xlsx is a zip: refuse it when it would inflate past 20× its size or 500 MB. The sizes
    the zip declares are checked first; then every member is actually inflated (and thrown away)
    with a running count, so a zip that lies about its sizes is caught too — before any parser.
    While the worksheets stream past, the cells that hold a value are located (`_SheetExtent`):
    the reader lays a sheet out densely from A1 to its farthest cell, so one stray value at
    XFD1048576 in a 6 KB file would ask for 17 billion cells (python-calamine aborts the whole
    process on such an allocation). Such a sheet is refused here, naming the far cell."""
    limit = min(ZIP_RATIO * max(size, 1), ZIP_MAX)
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > limit:
                raise _zip_bomb()
            inflated = 0
            runs = TextRuns()  # for the reader, on the way (read.note_text_runs)
            for info in infos:
                extent = _SheetBound() if WORKSHEET_MEMBER.match(info.filename) else None
                text = holds_cell_text(info.filename)
                with z.open(info) as member:
                    while chunk := member.read(1 << 20):
                        inflated += len(chunk)
                        if inflated > limit:
                            raise _zip_bomb()
                        if extent:
                            extent.feed(chunk)
                        if text:
                            runs.feed(chunk)
                if extent and (extent.unsure or extent.cells > MAX_SHEET_CELLS):
                    exact = _SheetExtent()  # the bound is over: which cells hold values decides
                    with z.open(info) as member:
                        while chunk := member.read(1 << 20):
                            exact.feed(chunk)
                    if exact.cells > MAX_SHEET_CELLS:
                        raise exact.refusal()
            note_text_runs(path, runs)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError):
        raise FileRejected("unreadable", "文件无法作为 Excel 工作簿打开（文件已损坏，或并非 .xlsx 文件）",
                           "请用 Excel 打开确认无误后，另存为 .xlsx 重新提交") from None


# A cell element that is not self-closing (a self-closing <c r="…" s="…"/> is formatting only and
# holds no value; the reader skips those), with its reference.
_VALUE_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(?<!/)>')
MAX_SHEET_CELLS = 10_000_000  # rows × columns from A1 to the farthest value (dense in memory)


class _SheetBound:
    """An upper bound of `_SheetExtent`, cheap enough for every sheet: the farthest reference of
    any cell written `<c r="…"` (with a value or not), found with array operations over the
    chunk's bytes instead of a Python step (or a regular-expression match) per cell: 48 ms → 20 ms
    for a 10k-row ledger's 6.6 MB sheet, the zip guard 60 → 31 ms (issue 7). A reference
    counts as the regular expressions `<c r="[A-Z]{1,3}([0-9]{1,7})"` (its row) and
    `<c r="([A-Z]{1,3})[0-9]` (its column) would match it. `unsure` when some cell tag is written
    otherwise (a namespace prefix, another attribute first): then, as when the bound is over the
    limit, the exact scan decides."""

    def __init__(self) -> None:
        self.rows = self.cols = 0
        self.unsure = False
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        end = data.rfind(b">") + 1  # whole tags only; the rest is read with the next chunk
        data, self._tail = data[:end], data[end:]
        if b":c " in data:
            self.unsure = True
        a = np.frombuffer(data + bytes(32), dtype=np.uint8)  # room to look past the last tag
        tags = np.flatnonzero(a[:len(data)] == ord("<"))
        cells = tags[(a[tags + 1] == ord("c")) & (a[tags + 2] == ord(" "))]
        ref = cells + 3
        written = (a[ref] == ord("r")) & (a[ref + 1] == ord("=")) & (a[ref + 2] == ord('"'))
        if not written.all():
            self.unsure = True
        ref = ref[written] + 3
        if not len(ref):
            return
        letters = np.zeros(len(ref), dtype=np.int64)  # 1-3 letters, then a digit; else 0
        column = np.zeros(len(ref), dtype=np.int64)
        going = np.ones(len(ref), dtype=bool)
        for k in range(4):
            c = a[ref + k].astype(np.int64)
            going &= (c >= ord("A")) & (c <= ord("Z"))
            if k < 3:
                column = np.where(going, column * 26 + (c - ord("A") + 1), column)
                letters += going
        first_digit = ref + letters
        letters[going | ~_digits(a[first_digit])] = 0  # four letters or more, or no digit next
        seen = letters > 0
        if not seen.any():
            return
        self.cols = max(self.cols, int(column[seen].max()))
        ref, first_digit = ref[seen], first_digit[seen]
        digits = np.zeros(len(ref), dtype=np.int64)
        row = np.zeros(len(ref), dtype=np.int64)
        going = np.ones(len(ref), dtype=bool)
        for k in range(8):
            c = a[first_digit + k]
            going &= _digits(c)
            if k < 7:
                row = np.where(going, row * 10 + (c.astype(np.int64) - ord("0")), row)
            digits += going
        closed = (digits <= 7) & (a[first_digit + digits] == ord('"'))
        if closed.any():
            self.rows = max(self.rows, int(row[closed].max()))

    @property
    def cells(self) -> int:
        return self.rows * self.cols


def _digits(c):
    return (c >= ord("0")) & (c <= ord("9"))


class _SheetExtent:
    """The farthest row and column holding a value, scanned from the sheet XML as it streams."""

    def __init__(self) -> None:
        self.rows = self.cols = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        for m in _VALUE_CELL.finditer(data):
            self.rows = max(self.rows, int(m.group(2)))
            self.cols = max(self.cols, column_number(m.group(1)))
        self._tail = data[-512:]  # a tag cut at the chunk boundary is seen whole next time

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    @property
    def far(self) -> str:
        """The corner Ctrl+End goes to: the last column and the last row that hold a value."""
        return f"{column_letters(self.cols)}{self.rows}"

    def refusal(self) -> FileRejected:
        return FileRejected(
            "sheet_too_large",
            f"工作表的数据范围过大：有内容的区域一直延伸到 {self.far}（约 {self.rows} 行 × {self.cols} 列），"
            "很可能是表格外远处误填了内容",
            "请在 Excel 中按 Ctrl+End 找到该单元格，删除表格以外多余的内容后保存，重新提交")


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
    if suffix in (".xlsx", ".xls"):
        _check_container(path, suffix)
    if suffix == ".xlsx":
        _check_zip(path, size)


CFB_MAGIC = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"  # OLE2 compound file: .xls, or an encrypted .xlsx


def _check_container(path: Path, suffix: str) -> None:
    """A password-protected .xlsx is not a zip: Excel wraps it in an OLE2 compound file with the
    streams EncryptionInfo and EncryptedPackage. Say so, rather than "damaged"; and an old-format
    workbook merely renamed to .xlsx gets told what it is."""
    with open(path, "rb") as f:
        if f.read(8) != CFB_MAGIC:
            return
        f.seek(0)
        data = f.read()  # within the size limit, checked before
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        raise FileRejected("password", "文件设置了打开密码（已加密），无法读取", "请在 Excel 中取消密码保护后重新提交")
    if suffix == ".xlsx":
        raise FileRejected("unreadable", "文件扩展名是 .xlsx，但内容是旧版 Excel（.xls）等其他格式，无法按 .xlsx 读取",
                           "请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）重新提交")


def other_county_warnings(conn, county_code: str, parsed: Parsed,
                          before_submission_id: int | None = None) -> list[Problem]:
    """indicators.md: a worker reported by two counties counts once for the city, and is a
    warning on the later receipt — one per row whose person is in another county's latest
    accepted ledger of the same kind and month. The message names the county, never the person.
    (Reprocessing passes `before_submission_id` to see the ledgers as they stood then.)"""
    out: list[Problem] = []
    for col in parsed.contract.columns:
        if col.type != "id":
            continue
        kcol = key_column(col)
        values = as_list(parsed.columns.get(kcol, []))
        keys = sorted({k for k in values if k})
        found = raw.other_county_keys(conn, parsed.kind, kcol, county_code, parsed.period, keys,
                                      before_submission_id)
        header = parsed.headers.get(col.name, col.header)
        for rownum, k in zip(parsed.row_numbers, values) if found else ():
            counties = found.get(k)
            if not counties:
                continue
            names = "、".join(programme().by_code(c).name for c in counties)
            out.append(Problem(
                "reported_by_other_county",
                f"此人本月已在{names}的{parsed.contract.title}中报送，全市只计一次；"
                f"请与{names}核实此人本月在哪里就业，报错的一方改正后重新提交",
                row=rownum, column=header, value=parsed.raw.get((rownum, col.name)),
                severity="warning"))
    return out


def printable(text: str) -> str:
    """A path or name as text that can go anywhere (database, JSON, logs): a name whose bytes are
    not UTF-8 (Python holds those as surrogate escapes) shows them as \\xNN, one-to-one."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def display_name(name: str) -> str:
    """The file name as the clerk most likely sees it: UTF-8 as it is; other bytes are read as
    GB18030 (a share with a Chinese Windows code page) when they decode, else shown as �."""
    raw = os.fsencode(name)
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _name_problem(name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise FileRejected(
            "file_name", "文件名的编码不是 UTF-8（可能是在使用 GBK 编码的电脑或共享文件夹上命名的），系统无法可靠地识别文件名",
            "请把文件重新命名（例如“奈曼旗2025年3月产业合作项目台账.xlsx”）后重新放入本文件夹") from None


def _dropped_as(path: Path) -> str:
    try:
        return printable(str(path.relative_to(settings().inbox)))
    except ValueError:
        return printable(str(path))


def process(candidate: Candidate, today: date | None = None) -> Outcome:
    try:
        return _process(candidate, today)
    finally:
        settle_heap()


_HEAP = {"settled": False}


def settle_heap() -> None:
    """Once per process, after its first file (and before reprocessing forks its workers,
    ops/reprocess.py): every object alive then (the imported modules of Airflow, GX, dbt,
    pandas, the GX context and suites: ~300,000 of them) is collected once
    and then frozen out of the cyclic garbage collector's reach (gc.freeze). Without it each
    full collection walks them all again — 0.15-0.2 s, paid by the next file that allocates
    enough (a 10k-row .xlsx right after a warm-up: 0.55-0.6 s instead of 0.41). Objects made
    later are collected as before; the frozen ones are the process's own, kept for its life
    anyway. Forked workers inherit it (and their collections no longer touch those objects' pages)."""
    if _HEAP["settled"]:
        return
    _HEAP["settled"] = True
    import gc

    gc.collect()
    gc.freeze()


def _process(candidate: Candidate, today: date | None) -> Outcome:
    s = settings()
    path = Path(candidate.path)
    county = programme().by_code(candidate.county_code) if candidate.county_code else None
    folder = path.parent if county else s.inbox / UNASSIGNED

    st = path.lstat()  # links are never followed
    regular = stat.S_ISREG(st.st_mode)
    received_at = min(_now(), datetime.fromtimestamp(int(st.st_ctime)).astimezone())  # when it arrived
    dropped_as, identity = _dropped_as(path), f"{st.st_dev}:{st.st_ino}:{st.st_ctime_ns}"
    sha = archive.sha256_of(path) if regular else None
    with engine().connect() as conn:
        done = raw.registered_drop(conn, dropped_as, identity)
        prior = raw.seen_before(conn, sha) if sha else None
    if done is not None and done["sha256"] == sha:
        return _complete(path, folder, county, done)

    if not regular:
        problem = Problem("not_regular_file", "这是一个快捷方式（符号链接）或特殊文件，不是普通文件，已拒收。"
                          "请把文件本身（而不是快捷方式）放入文件夹")
        return _finish(path, folder, None, county, None, None, "rejected", [problem], [], 0,
                       received_at, parsed=None, drop=(dropped_as, identity))

    if prior is not None:
        archive.store(s.archive_dir, path, sha)
        return _duplicate(path, folder, sha, county, prior, received_at)
    # The copy into the archive (and its fsync) runs beside the parse and the gate; it is
    # complete before anything is registered (`storing.result()` below, or its error raised).
    pool = ThreadPoolExecutor(1, thread_name_prefix="xiezuo-archive")
    storing = pool.submit(archive.store, s.archive_dir, path, sha)
    pool.shutdown(wait=False)  # its one thread ends with the copy
    parsed: Parsed | None = None
    preload: _Preload | None = None
    errors: list[Problem] = []
    warnings: list[Problem] = []
    try:
        _safety(path, s.max_file_mb)
        _name_problem(path.name)
        if county is None:
            raise FileRejected("unassigned", "文件不在任何旗县的文件夹中（或文件夹名称不是已知旗县），无法确定归属",
                               "请把文件放入本旗县的文件夹后重新提交")
        parsed = parse_file(path, county, pii_key=s.pii_key, today=today)
        if not parsed.findings.errors and len(parsed.row_numbers) >= PRELOAD_ROWS:
            preload = _Preload(county.code, parsed)
        from ..quality.gate import run_gate

        for p in parsed.findings.errors + parsed.findings.warnings + run_gate(parsed, county_code=county.code, sha256=sha):
            (errors if p.severity == "error" else warnings).append(p)
        with engine().connect() as conn:
            warnings += other_county_warnings(conn, county.code, parsed)
        warnings.sort(key=lambda p: (p.row or 0, p.column or ""))
    except FileRejected as exc:
        errors = [exc.problem()]
        kind_known = exc.kind
    except BaseException:
        if preload is not None:
            preload.discard()
        futures.wait([storing])
        raise
    else:
        kind_known = parsed.kind
    status = "rejected" if errors else ("accepted_with_warnings" if warnings else "accepted")
    try:
        stored = storing.result()
    except BaseException:
        if preload is not None:
            preload.discard()
        raise
    return _finish(path, folder, sha, county, kind_known,
                   parsed.period if parsed else None, status, errors, warnings,
                   len(parsed.rows) if parsed else 0, received_at, parsed=parsed, archive_path=stored,
                   drop=(dropped_as, identity), preload=preload)


def _texts(receipt: dict, county, previous: dict | None = None) -> str:
    kind = receipt["submission_type"]
    return receipt_text(receipt, county_name=county.name if county else None,
                        kind_title=C.load(kind).title if kind else None, previous=previous)


def _outcome(path: Path, folder: Path, receipt: dict) -> Outcome:
    return Outcome(file=printable(str(path)), status=receipt["status"], county_code=receipt["county_code"],
                   submission_type=receipt["submission_type"], period=receipt["period"], rows=receipt["rows"],
                   sha256=receipt["sha256"], receipt=printable(str(receipt_paths(folder, path.name)[1])))


PRELOAD_ROWS = 10_000  # from this many rows a file's COPY runs beside its gate (`_Preload`)


class _Preload:
    """The rows of a file the reader found no error in, copied into its raw table while the
    gate runs (on another connection, in a thread: the server's COPY and GX's Python overlap):
    in a transaction that takes the file's slot lock and its submission id first and commits
    only with the accepting registration (`_finish`); any other verdict rolls it back, and no
    one ever sees the rows before the commit. Taking the slot lock before the id keeps the ids
    of one slot in the order of their registrations ('latest' is the highest id); taking
    raw.submissions' lock before the rows' table keeps the order every other writer takes them
    in (a registration, the schema's DDL), without which a concurrent `prepare_warehouse`
    deadlocked with the registration (test_concurrent_runs)."""

    def __init__(self, county_code: str, parsed: Parsed):
        self._conn = engine().connect()
        self._tx = self._conn.begin()
        self._error: BaseException | None = None
        self.submission_id: int | None = None
        self._thread = threading.Thread(target=self._load, args=(county_code, parsed),
                                        name="xiezuo-preload", daemon=True)
        self._thread.start()

    def _load(self, county_code: str, parsed: Parsed) -> None:
        try:
            act_as(self._conn, INTAKE_ROLE)
            raw.lock_for_registration(self._conn)
            raw.lock_slot(self._conn, county_code, parsed.kind, parsed.period)
            self.submission_id = raw.next_submission_id(self._conn)
            raw.copy_rows(self._conn, parsed.kind, self.submission_id, parsed.row_numbers, parsed.columns)
        except BaseException as exc:  # raised in the caller's thread by take()
            self._error = exc

    def take(self):
        """(connection, transaction, submission id), the rows copied; raises what the copy raised."""
        self._thread.join()
        if self._error is not None:
            self.discard()
            raise self._error
        return self._conn, self._tx, self.submission_id

    def discard(self) -> None:
        self._thread.join()
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()


@contextmanager
def _registration(preload: _Preload | None, loaded: bool):
    """The transaction a registration is written in: the preload's, when its rows are to be
    kept (yields its submission id), else a new one (the preload, if any, rolled back)."""
    if preload is not None and loaded:
        conn, tx, submission_id = preload.take()
        try:
            yield conn, submission_id
            tx.commit()
        except BaseException:
            if tx.is_active:
                tx.rollback()
            raise
        finally:
            conn.close()
        return
    if preload is not None:
        preload.discard()
    with engine().begin() as conn:
        act_as(conn, INTAKE_ROLE)  # write raw, nothing else (warehouse/roles.py)
        yield conn, None


def _finish(path: Path, folder: Path, sha: str | None, county, kind: str | None, period: date | None,
            status: str, errors: list[Problem], warnings: list[Problem], rows: int,
            received_at: datetime, *, parsed: Parsed | None, drop: tuple[str, str],
            archive_path: Path | None = None, preload: _Preload | None = None) -> Outcome:
    """Register (with rows when accepted) in one transaction; after the commit, the receipts;
    then the original leaves the folder. A failure before the commit leaves the original where
    it was and writes no receipt; one after it is finished by the next run (see `_complete`)."""
    period_s = f"{period:%Y-%m}" if period else None
    county_code = county.code if county else None
    with _registration(preload, status in LOADED) as (conn, preloaded_id):
        replaces = None
        if status in LOADED:
            raw.lock_slot(conn, county_code, kind, period)
            replaces = raw.latest_accepted(conn, county_code, kind, period)
        processed_at = _now()
        receipt = receipt_json(
            file=display_name(path.name), sha256=sha, county_code=county_code, submission_type=kind, period=period_s,
            status=status, rows=rows, replaces=replaces, errors=errors,
            warnings=warnings, received_at=received_at, processed_at=processed_at)
        reg = raw.Registration(
            sha256=sha, original_name=display_name(path.name), county_code=county_code, submission_type=kind,
            period_month=period, status=status, rows=rows, error_count=len(errors),
            warning_count=len(warnings), receipt=receipt,
            archive_path=str(archive_path) if archive_path else None,
            received_at=received_at, processed_at=processed_at, replaces=replaces,
            dropped_as=drop[0], drop_identity=drop[1])
        submission_id = raw.register(conn, reg, submission_id=preloaded_id)
        if status in LOADED and parsed is not None and preloaded_id is None:
            raw.copy_rows(conn, kind, submission_id, parsed.row_numbers, parsed.columns)
    write_receipts(folder, path.name, receipt, _texts(receipt, county))
    _leave_folder(path, folder)
    log.info("%s: %s (%s rows, %d errors, %d warnings)", printable(path.name), status, rows, len(errors), len(warnings))
    return _outcome(path, folder, receipt)


def _duplicate(path: Path, folder: Path, sha: str, county, prior: dict, received_at: datetime) -> Outcome:
    """The same bytes again: a receipt saying so, and nothing else changes (no registration:
    one registration per file, one receipt per drop)."""
    receipt = receipt_json(
        file=display_name(path.name), sha256=sha, county_code=county.code if county else None,
        submission_type=prior["submission_type"],
        period=f"{prior['period_month']:%Y-%m}" if prior["period_month"] else None,
        status="duplicate", rows=0, replaces=None, errors=[], warnings=[],
        received_at=received_at, processed_at=_now())
    write_receipts(folder, path.name, receipt, _texts(receipt, county, previous={
        "original_name": prior["original_name"], "status": prior["status"],
        "processed_at": prior["processed_at"].astimezone().isoformat(timespec="seconds")}))
    _leave_folder(path, folder)
    log.info("%s: duplicate of submission %s (%s)", printable(path.name), prior["submission_id"], prior["original_name"])
    return _outcome(path, folder, receipt)


def _complete(path: Path, folder: Path, county, reg: dict) -> Outcome:
    """This very drop was registered by a run that died before the original left the folder:
    write its receipts if they are not the latest there yet, and let the original leave."""
    receipt = reg["receipt"]
    latest = current_receipt(folder, path.name)
    if not latest or (latest.get("sha256"), latest.get("processed_at")) != (receipt["sha256"], receipt["processed_at"]):
        write_receipts(folder, path.name, receipt, _texts(receipt, county))
    _leave_folder(path, folder)
    log.warning("%s: already registered as submission %s (%s) by an interrupted run; finished its drop",
                printable(path.name), reg["submission_id"], reg["status"])
    return _outcome(path, folder, receipt)


def _leave_folder(path: Path, folder: Path) -> None:
    """After its receipt is written, the original leaves the clerk's folder (the archive has it).
    Files refused before a county is known are moved to _unassigned/ for the operators."""
    if folder.name == UNASSIGNED and path.parent != folder:
        target = folder / path.name
        n = 1
        while target.exists() or target.is_symlink():
            target = folder / f"{path.stem}.{n}{path.suffix}"
            n += 1
        os.rename(path, target) if path.is_symlink() else shutil.move(str(path), str(target))
    else:
        path.unlink(missing_ok=True)
