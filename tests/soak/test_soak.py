"""Soak (issue 6 item 3, and item 5's audit "after the soak").

While the pipeline runs (`run_pipeline()` in a loop: the real intake and transform DAGs, GX, dbt,
PostgreSQL), a dropper thread drops N ledgers (XIEZUO_SOAK_FILES, default 1000) in bursts into
the county folders — all six kinds, every county in both folder-name forms, many months, ~10%
bad, ~5% exact duplicates and ~5% corrections, the latter two some way after what they repeat or
correct. Each file is written outside the inbox and renamed in, as a file share delivers it.

Afterwards, per file (submissions.md):
- exactly one receipt pair (.回执.json and .回执.txt) in its folder's 回执/, with the verdict its
  role demands, and nothing else left in the inbox;
- good and bad files and corrections: exactly one registration in raw.submissions (by the path
  it was dropped as), bad ones with no rows loaded; duplicates: a `duplicate` receipt and no
  registration of their own ("the same bytes dropped again: receipt with status duplicate,
  nothing changes") — so registrations = files − duplicates, each SHA-256 registered once;
- a correction's receipt says which submission it replaced, and the latest accepted submission
  of each (county, kind, month) is the correction where one was dropped, the original otherwise;
  the fact marts hold exactly the latest versions' rows;
- raw rows per kind = the sum of `rows` of the loaded (accepted) submissions = the rows dropped;
- marts (every table, fingerprinted) = the marts after a from-scratch reprocess of the archive:
  every raw row deleted, `xiezuo reprocess --all` rebuilds them from the archived originals and
  the transform DAG rebuilds the marts;
- no ID number, name or phone of the inputs anywhere: every table of every schema, every file
  under XIEZUO_HOME but the archive (logs, Data Docs, dbt artifacts), Airflow's home (metadata DB,
  task logs), the receipts, the log records and the captured output.

Bounded: XIEZUO_SOAK_TIMEOUT seconds (default 600 + 3 s per file) for the drops to be processed;
XIEZUO_SOAK_PAUSE seconds (default 10) between bursts.
Prints its figures at the end (shown without -s).
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.audit import PiiAudit, files_under
from tests.soak.plan import KINDS, plan

pytestmark = pytest.mark.soak

N_FILES = int(os.environ.get("XIEZUO_SOAK_FILES", "1000"))
TIMEOUT = float(os.environ.get("XIEZUO_SOAK_TIMEOUT", str(600 + 3 * N_FILES)))
BURST = (50, 100)
PAUSE = float(os.environ.get("XIEZUO_SOAK_PAUSE", "10"))  # seconds between bursts
LOADED = ("accepted", "accepted_with_warnings")
RECEIPTS = "回执"


class Dropper(threading.Thread):
    """Drops the planned files in bursts of 50-100, pausing between them; each file is written
    whole outside the inbox, then renamed into its county folder (atomic on one file system)."""

    def __init__(self, drops, inbox: Path, staging: Path, pause: float):
        super().__init__(name="soak-dropper", daemon=True)
        self.drops, self.inbox, self.staging, self.pause = drops, inbox, staging, pause
        self.dropped = 0
        self.bursts = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.finished_at: float | None = None

    def run(self) -> None:
        try:
            rnd = random.Random(7)
            self.staging.mkdir(parents=True, exist_ok=True)
            i = 0
            while i < len(self.drops) and not self.stop.is_set():
                burst = self.drops[i:i + rnd.randint(*BURST)]
                for d in burst:
                    tmp = self.staging / f"{d.index}.part"
                    tmp.write_bytes(d.data)
                    folder = self.inbox / d.folder
                    folder.mkdir(exist_ok=True)
                    os.rename(tmp, folder / d.name)
                    self.dropped += 1
                i += len(burst)
                self.bursts += 1
                if i < len(self.drops):
                    self.stop.wait(self.pause)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
            self.error = exc
        finally:
            self.finished_at = time.monotonic()

    @property
    def done(self) -> bool:
        return self.finished_at is not None


def _pending(inbox: Path) -> int:
    """Files still waiting in the county folders (receipts aside)."""
    n = 0
    for folder in inbox.iterdir():
        if folder.is_dir() and folder.name != "_unassigned":
            n += sum(1 for p in folder.iterdir() if p.name != RECEIPTS and not p.name.startswith("."))
    return n


def _q(sql: str, **params) -> list:
    from xiezuo.warehouse.database import engine

    with engine().connect() as c:
        return c.execute(sa.text(sql), params).all()


def _marts_fingerprint() -> dict:
    tables = [r[0] for r in _q("select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
    return {t: _q(f'select count(*), md5(coalesce(string_agg(x::text, \'|\' order by x::text), \'\')) from marts."{t}" x')[0]
            for t in tables}


def _raw_fingerprint() -> dict:
    out = {}
    for kind in KINDS:
        out[kind] = _q(f"select count(*), md5(coalesce(string_agg(x::text, '|' order by x.submission_id, x.source_row), ''))"
                       f" from raw.{kind}_rows x")[0]
    out["submissions"] = _q(
        "select count(*), md5(string_agg(concat_ws(',', submission_id, sha256, county_code, submission_type, "
        "period_month, status, rows, replaces, error_count, warning_count), '|' order by submission_id)) "
        "from raw.submissions")[0]
    return out


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001
            self.lines.append(str(record.msg))


def test_soak(xz_env, capfd):
    from xiezuo.cli import main
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    inbox, home = xz_env["inbox"], xz_env["home"]
    say_lines: list[str] = []

    def say(line: str) -> None:
        say_lines.append(line)
        with capfd.disabled():
            print(f"[soak] {line}", flush=True)

    t_plan = time.monotonic()
    drops, people = plan(N_FILES)
    roles = Counter(d.role for d in drops)
    by_index = {d.index: d for d in drops}
    say(f"{len(drops)} files planned in {time.monotonic() - t_plan:.1f} s: {dict(roles)}; "
        f"{len(people.ids)} ID numbers, {len(people.names)} names, {len(people.phones)} phones")

    records = _Records()
    xlog = logging.getLogger("xiezuo")
    old_level = xlog.level
    xlog.setLevel(logging.DEBUG)
    xlog.addHandler(records)
    captured: list[str] = []
    dropper = Dropper(drops, inbox, xz_env["tmp"] / "staging", PAUSE)
    runs: list[dict] = []
    t0 = time.monotonic()
    try:
        dropper.start()
        while True:
            if dropper.error:
                raise dropper.error
            waiting = _pending(inbox)
            if not waiting and dropper.done:
                break
            elapsed = time.monotonic() - t0
            if elapsed > TIMEOUT:
                pytest.fail(f"soak not done within XIEZUO_SOAK_TIMEOUT={TIMEOUT:.0f} s: {dropper.dropped} of "
                            f"{len(drops)} dropped, {waiting} still waiting in the inbox after {len(runs)} runs")
            if not waiting:
                time.sleep(0.5)
                continue
            r0 = time.monotonic()
            report = run_pipeline()
            out, err = capfd.readouterr()
            captured += [out, err]
            runs.append({"files": len(report.outcomes), "seconds": time.monotonic() - r0,
                         "transform": report.transform is not None})
            say(f"run {len(runs)}: {len(report.outcomes)} file(s) in {runs[-1]['seconds']:.0f} s"
                f"{' + transform' if report.transform else ''}; dropped so far {dropper.dropped}/{len(drops)}")
            assert report.ok, f"pipeline run {len(runs)} failed:\n{report.text()}"
        wall = time.monotonic() - t0
    finally:
        dropper.stop.set()
        dropper.join(timeout=30)
        xlog.removeHandler(records)
        xlog.setLevel(old_level)
    assert dropper.dropped == len(drops)

    # Every invariant is checked and every violation collected, so that one failing soak says all
    # that is wrong (and still prints its figures); the test fails at the end if any was found.
    problems: list[str] = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    # ---- 1. Receipts: exactly one pair per file, nothing else left in the inbox.
    left = [p for p in inbox.rglob("*") if p.is_file() and p.parent.name != RECEIPTS]
    check(not left, f"{len(left)} file(s) left in the inbox, e.g. {[str(p.relative_to(inbox)) for p in left[:5]]}")
    check(not (inbox / "_unassigned").exists(), "files went to _unassigned/")
    receipt_files = {p for p in inbox.rglob("*") if p.is_file() and p.parent.name == RECEIPTS}
    expected = {inbox / d.folder / RECEIPTS / f"{d.name}.回执.{ext}" for d in drops for ext in ("json", "txt")}
    check(receipt_files == expected, f"receipts: {len(receipt_files - expected)} unexpected (e.g. "
          f"{sorted(p.name for p in receipt_files - expected)[:3]}), {len(expected - receipt_files)} missing")
    receipts = {}
    for d in drops:
        path = inbox / d.folder / RECEIPTS / f"{d.name}.回执.json"
        receipts[d.index] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    wrong: list[str] = []
    for d in drops:
        r = receipts[d.index]
        if r is None:
            continue
        ok = (r["file"], r["sha256"], r["county_code"]) == (d.name, d.sha256, d.county_code)
        if d.role in ("good", "correction"):
            ok = ok and (r["status"] in LOADED and r["submission_type"] == d.kind and r["period"] == f"{d.period:%Y-%m}"
                         and r["rows"] == d.rows and not r["errors"])
        elif d.role == "bad":
            ok = ok and r["status"] == "rejected" and bool(r["errors"])
        else:
            ok = ok and r["status"] == "duplicate" and r["rows"] == 0
        if d.role == "good" and r["replaces"] is not None:
            ok = False
        if d.role == "correction" and r["replaces"] != by_index[d.of].sha256:
            ok = False
        if not ok:
            wrong.append(f"{d.role} {d.dropped_as}{f' ({d.note})' if d.note else ''}: {r['status']}, {r['rows']} rows, "
                         f"replaces {'nothing' if r['replaces'] is None else 'a submission'}, "
                         f"{[e['rule'] for e in r['errors']][:5]}")
    check(not wrong, f"{len(wrong)} receipt(s) not as the file's role demands, e.g.\n    " + "\n    ".join(wrong[:12]))

    # ---- 2. Registrations: one per file, none for a duplicate.
    regs = _q("select submission_id, dropped_as, sha256, status, rows, county_code, submission_type, "
              "period_month, replaces from raw.submissions order by submission_id")
    by_drop = defaultdict(list)
    for reg in regs:
        by_drop[reg.dropped_as].append(reg)
    n_dup = roles["duplicate"]
    check(len(regs) == len(drops) - n_dup, f"{len(regs)} registrations for {len(drops)} files ({n_dup} duplicates)")
    check(len({reg.sha256 for reg in regs}) == len(regs), "a SHA-256 is registered twice")
    bad_regs: list[str] = []
    for d in drops:
        mine = by_drop.get(d.dropped_as, [])
        if d.role == "duplicate":
            if mine:
                bad_regs.append(f"{d.dropped_as}: a duplicate got a registration of its own")
            continue
        if len(mine) != 1:
            bad_regs.append(f"{d.dropped_as} ({d.role}): {len(mine)} registrations")
            continue
        reg, r = mine[0], receipts[d.index] or {}
        if (reg.sha256, reg.status, reg.county_code) != (d.sha256, r.get("status"), d.county_code):
            bad_regs.append(f"{d.dropped_as}: registered as {reg.status}, receipt says {r.get('status')}")
        elif d.role != "bad" and (reg.rows, reg.submission_type, reg.period_month) != (d.rows, d.kind, d.period):
            bad_regs.append(f"{d.dropped_as}: registered {reg.rows} rows of {reg.submission_type} {reg.period_month}")
    check(not bad_regs, f"{len(bad_regs)} file(s) without exactly the registration due, e.g.\n    "
          + "\n    ".join(bad_regs[:12]))
    # What explains a swap: a duplicate or correction processed before the file it repeats or corrects.
    reg_id = {reg.dropped_as: reg.submission_id for reg in regs}
    swapped = Counter()
    for d in drops:
        if d.role in ("duplicate", "correction") and d.dropped_as in reg_id:
            orig = by_index[d.of].dropped_as
            if orig not in reg_id or reg_id[d.dropped_as] < reg_id[orig]:
                swapped[d.role] += 1
    check(not swapped, f"processed before the file dropped earlier: {dict(swapped)} (the drop order is lost "
          "inside a pipeline run)")

    # ---- 3. Raw rows per kind = rows of the loaded submissions = rows dropped; none of a rejected file.
    loaded_rows, dropped_rows = Counter(), Counter()
    for reg in regs:
        if reg.status in LOADED:
            loaded_rows[reg.submission_type] += reg.rows
    for d in drops:
        if d.role in ("good", "correction"):
            dropped_rows[d.kind] += d.rows
    raw_rows = {k: _q(f"select count(*) from raw.{k}_rows")[0][0] for k in KINDS}
    check(raw_rows == {k: loaded_rows[k] for k in KINDS},
          f"raw rows {raw_rows} != rows of the loaded submissions {dict(loaded_rows)}")
    check(raw_rows == {k: dropped_rows[k] for k in KINDS}, f"raw rows {raw_rows} != rows dropped {dict(dropped_rows)}")
    rejected_ids = [reg.submission_id for reg in regs if reg.status == "rejected"]
    for k in KINDS:
        n = _q(f"select count(*) from raw.{k}_rows where submission_id = any(:ids)", ids=rejected_ids)[0][0]
        check(n == 0, f"raw.{k}_rows holds {n} rows of rejected files")

    # ---- 4. The latest accepted version of each (county, kind, month) is the correction where one came.
    latest: dict[tuple, str] = {}
    for reg in regs:  # in submission order: the last accepted one wins (int_latest_submissions)
        if reg.status in LOADED:
            latest[(reg.county_code, reg.submission_type, reg.period_month)] = reg.sha256
    want: dict[tuple, str] = {}
    for d in drops:
        if d.role == "good":
            want.setdefault(d.slot, d.sha256)
    for d in drops:
        if d.role == "correction":
            want[d.slot] = d.sha256
    check(latest == want, f"{sum(latest.get(s) != v for s, v in want.items())} (county, kind, month) with the "
          f"wrong latest version, {len(set(latest) - set(want))} unexpected")
    rows_of = {d.sha256: d.rows for d in drops if d.role in ("good", "correction")}
    for kind in KINDS:
        in_mart = {sha: n for sha, n in _q(f"select file_sha256, count(*) from marts.fct_{kind} group by 1")}
        shas = {sha for (c, k, m), sha in want.items() if k == kind}
        check(set(in_mart) == shas, f"fct_{kind}: {len(set(in_mart) - shas)} versions that are not the latest, "
              f"{len(shas - set(in_mart))} latest versions missing")
        check(in_mart == {s: rows_of[s] for s in shas & set(in_mart)} or set(in_mart) != shas,
              f"fct_{kind}: row counts differ from the files")

    # ---- 5. The marts equal a from-scratch reprocess of the archive: every raw row deleted, then
    # rebuilt from the archived originals (in submission order), then the marts rebuilt.
    before_marts, before_raw = _marts_fingerprint(), _raw_fingerprint()
    assert before_marts and all(v[0] > 0 for t, v in before_marts.items() if t.startswith("fct_")), before_marts
    with engine().begin() as c:
        for kind in KINDS:
            c.exec_driver_sql(f"delete from raw.{kind}_rows")
    assert sum(_q(f"select count(*) from raw.{k}_rows")[0][0] for k in KINDS) == 0
    r0 = time.monotonic()
    rc = main(["reprocess", "--all"])
    reprocess_s = time.monotonic() - r0
    out, err = capfd.readouterr()
    captured += [out, err]
    n_regs = len(regs)
    assert rc == 0, f"xiezuo reprocess --all exited {rc}:\n{out[-3000:]}\n{err[-3000:]}"
    check(f"{n_regs} submission(s): {n_regs} unchanged, 0 changed, 0 kept" in out,
          f"reprocess --all did not find every submission unchanged:\n{out[-2000:]}")
    check(_raw_fingerprint() == before_raw, "reprocessing the archive rebuilt a different raw layer")
    after = _marts_fingerprint()
    differ = sorted(t for t in set(before_marts) | set(after) if after.get(t) != before_marts.get(t))
    check(not differ, f"marts differ after reprocessing from the archive: {differ}")

    # ---- 6. The personal-data audit: no ID number, name or phone of the inputs anywhere.
    t_audit = time.monotonic()
    audit = PiiAudit(ids=set(people.ids), names=set(people.names), phones=set(people.phones),
                     others={os.environ["XIEZUO_PII_KEY"]})
    relations, found = audit.scan_database(engine())
    assert {("raw", "employment_rows"), ("raw", "submissions"), ("marts", "fct_employment")} <= set(relations)
    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    files = files_under(home, exclude=(home / "archive",)) + files_under(airflow_home) + files_under(inbox)
    groups = {
        "receipts": [p for p in files if p.parent.name == RECEIPTS],
        "Data Docs": [p for p in files if "gx" in p.parts and p.suffix == ".html"],
        "dbt artifacts": [p for p in files if "dbt" in p.parts and p.suffix == ".json"],
        "logs": [p for p in files if "logs" in p.parts or p.suffix == ".log"],
        "Airflow metadata DB": [p for p in files if p.name == "airflow.db"],
    }
    empty = [g for g, ps in groups.items() if not ps]
    assert not empty, f"the audit would be blind to: {empty}"
    found += audit.scan_files(files)
    found += audit.scan_text("\n".join(records.lines), "log records")
    more_out, more_err = capfd.readouterr()
    found += audit.scan_text("\n".join(captured + [more_out, more_err]), "captured output")
    found += audit.scan_text("\n".join(say_lines + problems), "the soak's own figures and messages")
    check(not found, f"{len(found)} personal value(s) found in clear:\n    " + "\n    ".join(map(str, found[:30])))
    # Not blind: the archive (the one place with originals as dropped) holds them in clear.
    in_archive = PiiAudit(ids=set(people.ids), names=set(people.names), phones=set(people.phones))
    in_archive = Counter(f.what for f in in_archive.scan_files(files_under(home / "archive")))
    assert set(in_archive) == {"id_number", "name", "phone"}, f"the audit finds nothing even in the archive: {in_archive}"
    audit_s = time.monotonic() - t_audit

    # ---- Figures.
    status = Counter(r["status"] for r in receipts.values() if r)
    fig = [
        f"files {len(drops)} ({roles['good']} good, {roles['bad']} bad, {roles['duplicate']} duplicates, "
        f"{roles['correction']} corrections) into {len({d.folder for d in drops})} folders of "
        f"{len({d.county_code for d in drops})} counties, {len({d.period for d in drops if d.period})} months",
        f"receipts {dict(status)}",
        f"rows dropped {sum(dropped_rows.values())}, in raw {sum(raw_rows.values())} "
        f"({', '.join(f'{k} {raw_rows[k]}' for k in KINDS)})",
        f"registrations {len(regs)}; drops in {dropper.bursts} bursts over {(dropper.finished_at or t0) - t0:.0f} s",
        f"wall time {wall:.0f} s for {len(drops)} files = {len(drops) / wall:.2f} files/s; "
        f"{len(runs)} pipeline runs ({sum(r['transform'] for r in runs)} with transform), "
        f"longest {max(r['seconds'] for r in runs):.0f} s",
        f"reprocess --all from the archive {reprocess_s:.0f} s; marts {'equal' if not differ else 'DIFFER'} "
        f"({len(before_marts)} tables)",
        f"PII audit {audit_s:.0f} s: {audit.size} values, {audit.scanned_rows} rows in {len(relations)} tables, "
        f"{audit.scanned_files} files, {audit.scanned_bytes / 1e6:.0f} MB: {len(found)} found",
        f"invariants violated: {len(problems)}",
    ]
    for line in fig:
        say(line)
    assert not problems, f"{len(problems)} invariant(s) violated:\n" + "\n".join(f"- {p}" for p in problems)
