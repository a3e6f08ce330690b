"""Reprocessing from the archive of originals (submissions.md: "Reprocessing a (county, kind,
month), or everything, from the archive gives the same warehouse").

Every registered original ($XIEZUO_HOME/archive/<sha[:2]>/<sha><ext>) selected by the filters is
evaluated again with today's rules — the same reader and gate the intake uses
(intake.parse.parse_file, quality.gate.run_gate) — in submission order, and its registration and
raw rows are replaced in place (same submission_id, sha256 and received_at), in one transaction
per file. The inbox is never touched and no clerk receipt is rewritten. The marts are then
rebuilt by the transform DAG (the reprocess DAG emits the raw-layer Asset).

It never loses an accepted submission: an accepted original whose archive copy is missing or
altered, that cannot be read any more, or that today's rules would reject, keeps its rows and
status, and is reported ("kept").
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)
ACCEPTED = ("accepted", "accepted_with_warnings")


@dataclass
class Selection:
    county: str | None = None
    kind: str | None = None
    month: str | None = None      # YYYY-MM
    all: bool = False

    def validate(self) -> "Selection":
        from .. import contracts as C
        from ..reference import programme

        if not (self.all or self.county or self.kind or self.month):
            raise ValueError("请指定 --county、--kind、--month 之一，或用 --all 重新处理全部已归档的原件")
        if self.county:
            area = programme().county(self.county)
            if area is None:
                raise ValueError(f"不认识的旗县“{self.county}”：请用旗县代码或名称（如 150525 或 奈曼旗）")
            self.county = area.code
        if self.kind and self.kind not in [c.kind for c in C.all_contracts()]:
            raise ValueError(f"不认识的台账类型“{self.kind}”：可用 {', '.join(c.kind for c in C.all_contracts())}")
        if self.month:
            try:
                y, m = (int(x) for x in self.month.split("-"))
                date(y, m, 1)
            except ValueError:
                raise ValueError(f"月份“{self.month}”格式不对：请写成 YYYY-MM，例如 2025-03") from None
        return self


@dataclass
class Report:
    selected: int = 0
    unchanged: int = 0
    changed: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def select(conn, sel: Selection) -> list[dict]:
    where, params = ["status <> 'duplicate'", "archive_path is not null", "county_code is not null"], {}
    if sel.county:
        where.append("county_code = :c")
        params["c"] = sel.county
    if sel.kind:
        where.append("submission_type = :k")
        params["k"] = sel.kind
    if sel.month:
        y, m = (int(x) for x in sel.month.split("-"))
        where.append("period_month = :p")
        params["p"] = date(y, m, 1)
    return [dict(r) for r in conn.execute(sa.text(
        "select submission_id, sha256, original_name, county_code, submission_type, period_month, status, "
        "rows, error_count, warning_count, replaces, archive_path, received_at, processed_at "
        f"from raw.submissions where {' and '.join(where)} order by submission_id"), params).mappings()]


def evaluate_original(archived: Path, original_name: str, county_code: str, sha256: str,
                      today: date, submission_id: int | None = None) -> tuple[str, object, list, list]:
    """Re-read an archived original as the intake would, for its county, without the inbox:
    (kind or None, Parsed or None, errors, warnings). The original's name carries the kind and
    month, so it is read from a private temporary copy under that name. Workers another county
    reported are warned about as the intake does, against the ledgers as they stood before
    `submission_id`."""
    from ..config import settings
    from ..intake.parse import parse_file
    from ..intake.problems import FileRejected
    from ..intake.process import _safety, other_county_warnings
    from ..quality.gate import run_gate
    from ..reference import programme
    from ..warehouse.database import engine

    county = programme().by_code(county_code)
    s = settings()
    with tempfile.TemporaryDirectory(prefix="xiezuo-reprocess-") as tmp:
        copy = Path(tmp) / original_name
        shutil.copyfile(archived, copy)
        try:
            _safety(copy, s.max_file_mb)
            parsed = parse_file(copy, county, pii_key=s.pii_key, today=today)
            problems = parsed.findings.errors + parsed.findings.warnings + run_gate(
                parsed, county_code=county.code, sha256=sha256)
            with engine().connect() as conn:
                problems += other_county_warnings(conn, county.code, parsed, before_submission_id=submission_id)
        except FileRejected as exc:
            return exc.kind, None, [exc.problem()], []
    errors = [p for p in problems if p.severity == "error"]
    warnings = sorted((p for p in problems if p.severity != "error"), key=lambda p: (p.row or 0, p.column or ""))
    return parsed.kind, parsed, errors, warnings


def _replace(conn, sub: dict, kind: str | None, parsed, errors: list, warnings: list) -> str:
    """Registration and rows of one submission, replaced in place. Returns the new status."""
    from .. import contracts as C
    from ..intake.receipts import receipt_json
    from ..warehouse import raw

    status = "rejected" if errors else ("accepted_with_warnings" if warnings else "accepted")
    period = parsed.period if parsed is not None else sub["period_month"]
    rows = len(parsed.rows) if parsed is not None else 0  # as the intake registers it, rejected or not
    replaces = None
    if status in ACCEPTED:
        raw.lock_slot(conn, sub["county_code"], kind, period)
        replaces = conn.execute(sa.text(
            "select sha256 from raw.submissions where county_code = :c and submission_type = :k "
            "and period_month = :p and status in ('accepted', 'accepted_with_warnings') "
            "and submission_id < :id order by submission_id desc limit 1"),
            {"c": sub["county_code"], "k": kind, "p": period, "id": sub["submission_id"]}).scalar()
    for contract in C.all_contracts():
        conn.execute(sa.text(f"delete from {raw.table(contract.kind)} where submission_id = :id"),
                     {"id": sub["submission_id"]})
    receipt = receipt_json(
        file=sub["original_name"], sha256=sub["sha256"], county_code=sub["county_code"], submission_type=kind,
        period=f"{period:%Y-%m}" if period else None, status=status, rows=rows, replaces=replaces,
        errors=errors, warnings=warnings, received_at=sub["received_at"], processed_at=sub["processed_at"],
        extra={"reprocessed": True})
    import json

    conn.execute(sa.text(
        "update raw.submissions set submission_type = :k, period_month = :p, status = :s, rows = :r, "
        "replaces = :rep, error_count = :e, warning_count = :w, receipt = cast(:receipt as jsonb) "
        "where submission_id = :id"),
        {"k": kind, "p": period, "s": status, "r": rows, "rep": replaces, "e": len(errors), "w": len(warnings),
         "receipt": json.dumps(receipt, ensure_ascii=False), "id": sub["submission_id"]})
    if status in ACCEPTED:
        raw.copy_rows(conn, kind, sub["submission_id"], parsed.row_numbers, parsed.columns)
    return status


def reprocess(sel: Selection) -> Report:
    """Rebuild the raw layer of the selected submissions from their archived originals."""
    from ..intake.archive import sha256_of
    from ..pipeline import prepare_warehouse
    from ..warehouse.database import engine

    sel.validate()
    prepare_warehouse()
    report = Report()
    with engine().connect() as conn:
        subs = select(conn, sel)
    report.selected = len(subs)
    for sub in subs:
        label = {k: sub[k] for k in ("submission_id", "original_name", "county_code", "submission_type")}
        label["period"] = f"{sub['period_month']:%Y-%m}" if sub["period_month"] else None
        archived = Path(sub["archive_path"])
        if not archived.is_file() or sha256_of(archived) != sub["sha256"]:
            report.kept.append({**label, "reason": "archived original missing or altered: registration kept"})
            log.error("submission %s: archived original %s missing or altered; kept as it was",
                      sub["submission_id"], archived)
            continue
        today = sub["received_at"].date()  # "a month after the current month" as on the day received
        try:
            kind, parsed, errors, warnings = evaluate_original(
                archived, sub["original_name"], sub["county_code"], sub["sha256"], today, sub["submission_id"])
        except Exception as exc:  # noqa: BLE001 - reported; the registration stays as it was
            report.kept.append({**label, "reason": f"could not be re-read ({type(exc).__name__}: {exc})"})
            log.exception("submission %s could not be re-read; kept as it was", sub["submission_id"])
            continue
        if sub["status"] in ACCEPTED and errors:
            report.kept.append({**label, "reason": "today's rules would reject it; the accepted version is kept",
                                "errors": [p.as_json() for p in errors[:20]]})
            continue
        with engine().begin() as conn:
            status = _replace(conn, sub, kind, parsed, errors, warnings)
        if status == sub["status"] and kind == sub["submission_type"]:
            report.unchanged += 1
        else:
            report.changed.append({**label, "was": sub["status"], "now": status})
    log.info("reprocessed %d submission(s): %d unchanged, %d changed, %d kept",
             report.selected, report.unchanged, len(report.changed), len(report.kept))
    return report
