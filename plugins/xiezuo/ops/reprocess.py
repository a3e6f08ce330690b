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

Speed (issue 7: an archive of many small ledgers): reading and gating a file (parse + GX) is
nearly all the work and depends on nothing but the file, so it runs in worker processes
(`XIEZUO_REPROCESS_WORKERS`, default: the machine's cores, at most 4; 1 = all in this process),
while this process takes the results in submission order and writes them one transaction per
file. The warning about workers another county reported depends on the earlier submissions'
rows, so it is computed here, at write time, against the database as it then stands. The gate
screens each file with GX's cheapest result format first (quality.gate.run_gate `screen`), and a
worker takes small originals of one registered kind and month several at a time (`_chunks`):
those it reads as one kind and month are screened by one GX validation of all their rows
(quality.gate.screen_together), whose fixed cost is most of a small ledger's; a ledger not known
to pass that way goes through the gate alone, so the outcome is the same.
"""
from __future__ import annotations

import glob
import hashlib
import io
import logging
import os
import pickle
import shutil
import socket
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
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
    from ..warehouse.database import engine

    kind, parsed, problems = _read_and_gate(archived, original_name, county_code, sha256, today)
    if parsed is not None:
        with engine().connect() as conn:
            problems = problems + _other_county(conn, county_code, parsed, submission_id)
    return (kind, parsed, *_split(problems))


def _read_and_gate(archived: Path, original_name: str, county_code: str, sha256: str,
                   today: date, *, screen: bool = False) -> tuple[str | None, object, list]:
    """The part of the evaluation that depends on the file alone (safe to run in a worker):
    (kind or None, Parsed or None, the reader's and the gate's problems)."""
    kind, parsed, problems = _read(archived, original_name, county_code, today)
    if parsed is None:
        return kind, None, problems
    return kind, parsed, problems + _gate(parsed, county_code, sha256, screen)


def _read(archived: Path, original_name: str, county_code: str, today: date) -> tuple[str | None, object, list]:
    """The original read as the intake reads it: (kind, Parsed, the reader's problems), or
    (kind or None, None, [the refusal]) for a file the reader refuses."""
    from ..config import settings
    from ..intake.parse import parse_file
    from ..intake.problems import FileRejected
    from ..intake.process import _safety
    from ..reference import programme

    county = programme().by_code(county_code)
    s = settings()
    with tempfile.TemporaryDirectory(prefix="copy-", dir=_SCRATCH["dir"]) as tmp:
        copy = Path(tmp) / original_name
        shutil.copyfile(archived, copy)
        try:
            _safety(copy, s.max_file_mb)
            parsed = parse_file(copy, county, pii_key=s.pii_key, today=today)
        except FileRejected as exc:
            return exc.kind, None, [exc.problem()]
    return parsed.kind, parsed, parsed.findings.errors + parsed.findings.warnings


def _gate(parsed, county_code: str, sha256: str, screen: bool) -> list:
    from ..quality.gate import run_gate

    return run_gate(parsed, county_code=county_code, sha256=sha256, screen=screen)


def _read_and_gate_together(jobs: list[tuple]) -> list:
    """`_read_and_gate(job, screen=True)` of each job, as a list of its results or of what it
    raised — the same results, for less: the ledgers read that are of one kind and month are
    screened by one GX validation (quality.gate.screen_together; a small ledger's validation is
    nearly all GX's fixed cost); the others, and those not known to pass, by the gate alone."""
    from collections import defaultdict

    from ..quality.gate import screen_together

    out: list = []
    for job in jobs:
        try:
            out.append(_read(job[0], job[1], job[2], job[4]))
        except Exception as exc:  # noqa: BLE001 - this job's outcome; its neighbours go on
            out.append(exc)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, got in enumerate(out):
        if isinstance(got, tuple) and got[1] is not None:
            groups[(got[1].contract.kind, id(got[1].contract), got[1].period)].append(i)
    passed: set[int] = set()
    for members in groups.values():
        if len(members) > 1:
            try:
                verdicts = screen_together([out[i][1] for i in members])
            except Exception:  # noqa: BLE001 - each goes through the gate alone, which tells
                log.warning("screening %d ledgers together failed; each is gated alone", len(members),
                            exc_info=True)
                continue
            passed |= {i for i, ok in zip(members, verdicts) if ok}
    for i, (job, got) in enumerate(zip(jobs, out)):
        if i in passed or not isinstance(got, tuple) or got[1] is None:
            continue  # passed the screen (no problem from the gate), raised, or refused by the reader
        kind, parsed, problems = got
        try:
            out[i] = (kind, parsed, problems + _gate(parsed, job[2], job[3], True))
        except Exception as exc:  # noqa: BLE001
            out[i] = exc
    return out


# Where the re-read copies of originals are made: a folder of the reprocess run's own under
# XIEZUO_HOME (beside the archive of the same originals), set before the workers fork (they
# inherit it) and removed with everything in it when the run ends. A worker killed mid-file (the
# OOM killer) cannot remove its copy: in the system's temporary folder such copies of clerks'
# ledgers, personal data in clear, stayed behind. None (outside a run): the system's.
_SCRATCH: dict[str, Path | None] = {"dir": None}


@contextmanager
def _scratch():
    """This run's folder for the copies (see _SCRATCH); first the folders of this host's runs
    whose process is gone (killed before it could remove its own)."""
    from ..config import settings
    from ..warehouse.embedded import _pid_exists

    root = settings().home / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    # Named by host and process: XIEZUO_HOME may be shared by containers, whose process ids
    # say nothing about each other's; only this host's runs are looked at. The host as a
    # fixed-width digest: a name as it is ("vm" and "vm-2") would make one host's prefix match
    # the other's folders, and read its next part as a process id.
    mine = f"reprocess-{hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]}-"
    for left in root.glob(f"{glob.escape(mine)}*"):
        pid = left.name[len(mine):].split("-")[0]
        if pid.isdigit() and not _pid_exists(int(pid)):
            shutil.rmtree(left, ignore_errors=True)
    run = Path(tempfile.mkdtemp(prefix=f"{mine}{os.getpid()}-", dir=root))
    _SCRATCH["dir"] = run
    try:
        yield run
    finally:
        _SCRATCH["dir"] = None
        shutil.rmtree(run, ignore_errors=True)


def _other_county(conn, county_code: str, parsed, submission_id: int | None) -> list:
    from ..intake.process import other_county_warnings

    return other_county_warnings(conn, county_code, parsed, before_submission_id=submission_id)


def _split(problems: list) -> tuple[list, list]:
    errors = [p for p in problems if p.severity == "error"]
    warnings = sorted((p for p in problems if p.severity != "error"), key=lambda p: (p.row or 0, p.column or ""))
    return errors, warnings


# ---- evaluation in worker processes -------------------------------------------------------

def _workers() -> int:
    raw = os.environ.get("XIEZUO_REPROCESS_WORKERS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            log.warning("XIEZUO_REPROCESS_WORKERS=%r is not a number; using the default", raw)
    return max(1, min(4, os.cpu_count() or 1))


class _Pickler(pickle.Pickler):
    """A Parsed crosses the process boundary with its contract by name (the receiver's own
    loaded contract is the one everything else compares with) and its cell renderers by their
    key in the reader's table (one of them is a lambda, which pickle cannot name)."""

    def reducer_override(self, obj):
        from .. import contracts as C
        from ..intake import parse as P

        if isinstance(obj, C.Contract):
            return C.load, (obj.kind,)
        if callable(obj):
            for key, fn in P._RENDER.items():
                if fn is obj:
                    return _renderer, (key,)
        return NotImplemented


def _renderer(key: str):
    from ..intake import parse as P

    return P._RENDER[key]


def _worker_init() -> None:
    """A forked worker does not use the database. It drops the parent's engine so that nothing
    in it can check out one of the parent's pooled connections (psycopg leaves a connection
    inherited across fork() open when it is collected, so the parent's sessions are safe).
    Nor does it use polars: polars' thread pool does not survive fork() (its threads stay in the
    parent, and work handed to it in the child waits forever), so the worker reads every file
    with the row reader into Python lists (intake/columnar.py)."""
    from ..intake import columnar
    from ..warehouse.database import _engine

    _engine.cache_clear()
    columnar.disable_in_this_process()


def _evaluate_in_worker(jobs: list[tuple]) -> list[bytes]:
    """Runs in a worker: the outcome of each of these archived originals (`_read_and_gate_together`),
    each pickled on its own so one that cannot travel costs only itself: a result as
    ("ok", (kind, Parsed, problems)) — a Parsed travels by `_Pickler` — or ("raised", the
    exception, its traceback as text)."""
    return [_pack(got) for got in _read_and_gate_together(jobs)]


def _pack(got) -> bytes:
    if not isinstance(got, BaseException):
        buf = io.BytesIO()
        try:
            _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(("ok", got))
            return buf.getvalue()
        except Exception as exc:  # noqa: BLE001 - reported for this file alone
            got = exc
    trace = "".join(traceback.format_exception(got))
    try:
        return pickle.dumps(("raised", got, trace), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an exception that cannot travel, told as text
        return pickle.dumps(("raised", RuntimeError(f"{type(got).__name__}: {got}"), trace))


class _WorkerTraceback(Exception):
    """Where an exception raised in a worker came from (its `__cause__`, as concurrent.futures
    does for the exceptions it carries back)."""

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.args[0]}\"\"\""


def _unpack(payload: bytes) -> tuple:
    what, *rest = pickle.loads(payload)
    if what == "raised":
        exc, trace = rest
        exc.__cause__ = _WorkerTraceback(trace)
        raise exc
    return rest[0]


# Ledgers read in one worker call: up to this many of one registered kind and month, among the
# next WINDOW jobs, each original at most TOGETHER_BYTES (a small ledger, whose validation is
# nearly all GX's fixed cost; a large one gains nothing and would hold its neighbours' memory).
TOGETHER, WINDOW, TOGETHER_BYTES = 8, 64, 1 << 20


def _chunks(keys: list) -> list[list[int]]:
    """Job indices in worker calls, in the order of each call's first job: jobs of one key (not
    None), near each other, together; a job whose key is None alone."""
    chunks: list[list[int]] = []
    open_: dict[object, list[int]] = {}
    for i, key in enumerate(keys):
        chunk = open_.get(key) if key is not None else None
        if chunk is None or len(chunk) >= TOGETHER or i - chunk[0] >= WINDOW:
            chunk = [i]
            chunks.append(chunk)
            if key is not None:
                open_[key] = chunk
        else:
            chunk.append(i)
    return chunks


class _Calls:
    """Jobs taken in calls (`_chunks`), results handed back one job at a time."""

    def __init__(self, jobs: list[tuple], chunks: list[list[int]]):
        self._jobs = jobs
        self._chunks = chunks
        self._chunk_of = {i: c for c, members in enumerate(chunks) for i in members}
        self._done: dict[int, object] = {}  # job → its outcome, from a call taken back

    def _call(self, c: int) -> list[tuple]:
        return [self._jobs[i] for i in self._chunks[c]]


class _Evaluations(_Calls):
    """Jobs evaluated ahead by a pool of worker processes, several to a call (`_chunks`);
    results taken back in job order. A worker that dies (a crash in a reader, the OOM killer)
    breaks the pool: every job of the calls it took down is evaluated again alone in a fresh
    one-worker pool, so one bad file cannot cost its neighbours, and the pool is replaced for
    the calls still to come."""

    def __init__(self, jobs: list[tuple], chunks: list[list[int]], workers: int):
        import multiprocessing as mp

        super().__init__(jobs, chunks)
        self._workers = workers
        from ..intake.process import settle_heap

        self._ctx = mp.get_context("fork")  # the parent's loaded contracts and GX suites come along
        settle_heap()  # what they inherit, out of every worker's full collections
        self._pool = self._new_pool(workers)
        self._pending: dict[int, tuple] = {}   # call → (pool, future)
        self._next = 0
        self._ahead = workers * 2

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=n, mp_context=self._ctx, initializer=_worker_init)

    def _fill(self, upto: int) -> None:
        while self._next < min(len(self._chunks), upto):
            self._pending[self._next] = self._submit(self._next)
            self._next += 1

    def _submit(self, c: int) -> tuple:
        try:
            return self._pool, self._pool.submit(_evaluate_in_worker, self._call(c))
        except BrokenProcessPool:  # broke since the last call was taken back
            self._replace_pool(self._pool)
            return self._pool, self._pool.submit(_evaluate_in_worker, self._call(c))

    def result(self, i: int) -> tuple:
        """(kind, Parsed or None, problems) of job i; raises what the evaluation raised."""
        if i not in self._done:
            c = self._chunk_of[i]
            self._fill(c + 1 + self._ahead)
            pool, fut = self._pending.pop(c)
            try:
                payloads = fut.result()
            except Exception as exc:  # noqa: BLE001 - the call's jobs again, each alone
                if isinstance(exc, BrokenProcessPool):
                    self._replace_pool(pool)
                payloads = [self._alone(j) for j in self._chunks[c]]
            self._done.update(zip(self._chunks[c], payloads))
        return _unpack(self._done.pop(i))

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """A broken pool's queued calls all fail with it: a new pool takes them over (the call
        being waited for is retried job by job by the caller)."""
        if broken is not self._pool:
            return  # replaced already
        broken.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool(self._workers)
        for c, (pool, fut) in sorted(self._pending.items()):
            if pool is broken and not (fut.done() and not fut.cancelled() and fut.exception() is None):
                self._pending[c] = self._pool, self._pool.submit(_evaluate_in_worker, self._call(c))

    def _alone(self, i: int) -> bytes:
        """Job i in a one-worker pool of its own: if it is the one that kills its worker, its
        outcome is that BrokenProcessPool, and it is reported as not re-read; its neighbours
        are not."""
        alone = self._new_pool(1)
        try:
            return alone.submit(_evaluate_in_worker, [self._jobs[i]]).result()[0]
        except Exception as exc:  # noqa: BLE001
            return _pack(exc)
        finally:
            alone.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Inline(_Calls):
    """The same interface, evaluated here, a call at a time, when it is asked for (one worker)."""

    def result(self, i: int) -> tuple:
        if i not in self._done:
            c = self._chunk_of[i]
            self._done.update(zip(self._chunks[c], _read_and_gate_together(self._call(c))))
        got = self._done.pop(i)
        if isinstance(got, BaseException):
            raise got
        return got

    def close(self) -> None:
        pass


def _replace(conn, sub: dict, kind: str | None, parsed, errors: list, warnings: list) -> tuple[str, tuple[str, ...]]:
    """Registration and rows of one submission, replaced in place. Returns the new status and
    the kinds whose rows tables it wrote."""
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
    # A submission's rows are only ever in its registered kind's table (the intake and this
    # function both copy them under the kind they register), so that table is the one to clear;
    # the new kind's too, should today's reading differ (it then has none there, but it is cheap).
    valid = {contract.kind for contract in C.all_contracts()}
    tables = tuple(dict.fromkeys(x for x in (sub["submission_type"], kind) if x in valid))
    for k in tables:
        conn.execute(sa.text(f"delete from {raw.table(k)} where submission_id = :id"),
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
    return status, tables


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
    todo: list[tuple[dict, dict]] = []
    jobs: list[tuple] = []
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
        todo.append((sub, label))
        jobs.append((archived, sub["original_name"], sub["county_code"], sub["sha256"], today))

    with _scratch():
        _reprocess_jobs(report, todo, jobs)
    log.info("reprocessed %d submission(s): %d unchanged, %d changed, %d kept",
             report.selected, report.unchanged, len(report.changed), len(report.kept))
    return report


def _reprocess_jobs(report: Report, todo: list[tuple[dict, dict]], jobs: list[tuple]) -> None:
    from .. import contracts as C
    from ..quality.gate import _row_by_row, _validation

    workers = min(_workers(), len(jobs))
    if workers > 1:
        # Each kind's GX suite is set up here, once, before the workers fork: they inherit it
        # instead of each writing the same suite to the GX store at the same moment.
        for k in sorted({sub["submission_type"] for sub, _ in todo} & set(C.available_kinds())):
            _validation(C.load(k))
            _row_by_row(C.load(k))
    # Ledgers of one registered kind and month near each other in submission order (a month's
    # ledgers arrive together) are read in one call and screened together; what today's reading
    # makes of them (another kind or month) only decides how they are screened, never the outcome.
    chunks = _chunks([(sub["submission_type"], sub["period_month"]) if _small(job[0]) else None
                      for (sub, _), job in zip(todo, jobs)])
    if workers > 1:
        evaluations = _Evaluations(jobs, chunks, workers)
    else:
        evaluations = _Inline(jobs, chunks)
    log.info("reprocessing %d archived original(s) with %d worker(s)", len(jobs), workers)
    from ..warehouse import raw
    from ..warehouse.database import engine

    rewritten: dict[str, int] = {}
    try:
        for n, (sub, label) in enumerate(todo):
            for kind in _one(report, sub, label, evaluations, n):
                rewritten[kind] = rewritten.get(kind, 0) + 1
                if rewritten[kind] % SUMMARIZE_EVERY == 0:  # the rows just written, found by the index
                    with engine().begin() as conn:
                        raw.summarize_submission_index(conn, kind)
    finally:
        evaluations.close()


# Every this many submissions of a kind rewritten, its rows' index summarizes them: a look-up
# by submission (the next delete, the other-county check) reads every page written since.
SUMMARIZE_EVERY = 4


def _small(archived: Path) -> bool:
    try:
        return archived.stat().st_size <= TOGETHER_BYTES
    except OSError:
        return False


class _NotReread(Exception):
    pass


def _one(report: Report, sub: dict, label: dict, evaluations, n: int) -> tuple[str, ...]:
    """Take back evaluation n and write it: the registration and rows replaced in one
    transaction, the other-county warnings computed in it, against the earlier submissions as
    they now stand. Returns the kinds whose rows it rewrote."""
    from ..warehouse.database import engine

    try:
        kind, parsed, problems = evaluations.result(n)
    except Exception as exc:  # noqa: BLE001 - reported; the registration stays as it was
        _not_reread(report, sub, label, exc)
        return ()
    errors, _ = _split(problems)
    if sub["status"] in ACCEPTED and errors:
        report.kept.append({**label, "reason": "today's rules would reject it; the accepted version is kept",
                            "errors": [p.as_json() for p in errors[:20]]})
        return ()
    try:
        with engine().begin() as conn:
            if parsed is not None:
                try:
                    problems = problems + _other_county(conn, sub["county_code"], parsed, sub["submission_id"])
                except Exception as exc:  # noqa: BLE001
                    raise _NotReread() from exc
            errors, warnings = _split(problems)
            status, tables = _replace(conn, sub, kind, parsed, errors, warnings)
    except _NotReread as wrapped:
        _not_reread(report, sub, label, wrapped.__cause__)
        return ()
    from ..warehouse import raw

    with engine().begin() as conn:  # after the rewrite's commit (raw.note_rewrite)
        raw.note_rewrite(conn)
    if status == sub["status"] and kind == sub["submission_type"]:
        report.unchanged += 1
    else:
        report.changed.append({**label, "was": sub["status"], "now": status})
    return tables


def _not_reread(report: Report, sub: dict, label: dict, exc: BaseException) -> None:
    report.kept.append({**label, "reason": f"could not be re-read ({type(exc).__name__}: {exc})"})
    log.error("submission %s could not be re-read; kept as it was", sub["submission_id"], exc_info=exc)
