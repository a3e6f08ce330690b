"""`xiezuo bench`: benchmarks that generate their own data and print one JSON object per figure
(name, value, unit, and the baseline measured in the same run where there is one).

Not timed tests: figures are for reading, ratios against a baseline from the same run.

How: every measurement starts from a checkpointed server (`_quiet_server`); a baseline COPY is
the best of three, an intake the best of three runs (each in a fresh process after a warm-up file),
a pipeline figure the best of two runs; the runs' own seconds are printed beside the figure.
Each section has a database (and XIEZUO_HOME) of its own.
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

HEADER = ["项目编号", "项目名称", "项目类型", "合作企业", "企业所在地", "是否新引进", "共建园区", "园区级别",
          "计划总投资（万元）", "本月到位投资（万元）", "装机规模（万千瓦）", "带动农户", "带动就业", "项目状态"]
TYPES = ["新能源", "装备制造", "农畜产品加工", "文化旅游", "其他"]


def ledger_rows(n: int, seed: int = 7) -> list[list[object]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        typ = TYPES[i % 5]
        planned = rnd.randint(100, 50000)
        rows.append([f"B-{i:07d}", f"项目{i}", typ, f"北京企业{i % 997}", "北京市朝阳区", "是" if i % 7 == 0 else "否",
                     "京蒙协作产业园" if i % 3 == 0 else "", "自治区级" if i % 3 == 0 else "", planned,
                     round(planned * rnd.random() * 0.05, 2), 10 if typ == "新能源" else "", rnd.randint(0, 300),
                     rnd.randint(0, 80), "在建"])
    return rows


def write_ledger(path: Path, n: int, seed: int = 7) -> Path:
    rows = ledger_rows(n, seed)
    if path.suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("台账")
        ws.append(HEADER)
        for r in rows:
            ws.append(r)
        wb.save(path)
    past = time.time() - 3600
    os.utime(path, (past, past))
    return path


def emit(name: str, value: float, unit: str, baseline: float | None = None, baseline_name: str | None = None,
         **extra) -> dict:
    rec = {"name": name, "value": round(value, 3), "unit": unit}
    if baseline is not None:
        rec["baseline"] = round(baseline, 3)
        rec["baseline_name"] = baseline_name
        rec["ratio"] = round(value / baseline, 3) if baseline else None
    rec.update(extra)
    print(json.dumps(rec, ensure_ascii=False), flush=True)
    return rec


def _quiet_server() -> None:
    """A checkpoint before each measurement: the writes of the one before (a baseline's
    committed COPYs, pandas' to_sql) are flushed now, not by the checkpointer while the next
    one runs. Every measurement, baselines and intake alike, starts from a quiet server."""
    from .warehouse.database import engine

    try:
        with engine().connect() as conn:
            conn.exec_driver_sql("checkpoint")
    except sa.exc.DBAPIError:  # a server where the bench's role may not: measured as it is
        pass


def _copy_baseline(path: Path, n: int) -> float:
    """Raw COPY ... FROM STDIN of the same rows (as CSV text) into a scratch table: the physical limit."""
    from .warehouse.database import engine

    _quiet_server()
    rows = ledger_rows(n)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode()
    with engine().begin() as conn:
        conn.exec_driver_sql("create temp table bench_copy (c1 text, c2 text, c3 text, c4 text, c5 text, c6 text, "
                             "c7 text, c8 text, c9 numeric, c10 numeric, c11 numeric, c12 int, c13 int, c14 text)")
        raw = conn.connection.driver_connection
        took = float("inf")
        for _ in range(3):  # the best of three: a small COPY is quick enough for noise to matter
            conn.exec_driver_sql("truncate bench_copy")
            t = time.perf_counter()
            with raw.cursor() as cur, cur.copy("copy bench_copy from stdin with (format csv)") as cp:
                cp.write(data)
            took = min(took, time.perf_counter() - t)
        conn.exec_driver_sql("drop table bench_copy")
    return n / took


def _copy_logged_baseline(n: int) -> float:
    """COPY of the same rows into an ordinary (logged) table of the same column types, committed:
    what loading rows into the warehouse durably costs at the least. A temporary table (the
    `_copy_baseline` figure) skips the write-ahead log, so it is a limit no durable load can reach."""
    from .warehouse.database import engine

    rows = ledger_rows(n)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode()
    name = f"bench_copy_logged_{os.getpid()}"
    _quiet_server()
    took = float("inf")
    for _ in range(3):
        with engine().begin() as conn:
            conn.exec_driver_sql(f"drop table if exists {name}")
            conn.exec_driver_sql(f"create table {name} (c1 text, c2 text, c3 text, c4 text, c5 text, c6 text, c7 text, "
                                 "c8 text, c9 numeric(18,4), c10 numeric(18,4), c11 numeric(18,4), c12 bigint, "
                                 "c13 bigint, c14 text)")
        t = time.perf_counter()
        with engine().begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"copy {name} from stdin with (format csv)") as cp:
                cp.write(data)
        took = min(took, time.perf_counter() - t)  # the commit included: a durable load ends there
    with engine().begin() as conn:
        conn.exec_driver_sql(f"drop table if exists {name}")
    return n / took


def _pandas_baseline(path: Path, n: int) -> float:
    """What tutorials do: pandas read_excel(openpyxl)/read_csv + DataFrame.to_sql defaults."""
    import pandas as pd

    from .warehouse.database import engine

    _quiet_server()
    t = time.perf_counter()
    df = pd.read_excel(path, engine="openpyxl") if path.suffix == ".xlsx" else pd.read_csv(path)
    df.columns = [f"c{i}" for i in range(len(df.columns))]
    df.to_sql("bench_pandas", engine(), if_exists="replace", index=False)
    took = time.perf_counter() - t
    with engine().begin() as conn:
        conn.exec_driver_sql("drop table if exists bench_pandas")
    return n / took


def _peak_rss_mb() -> float:
    """This process's peak resident set. VmHWM belongs to the process's own memory map; getrusage's
    ru_maxrss also keeps the parent's size at fork (the bench parent holds the generated ledgers)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _intake_child(path: str) -> None:
    """Run in a subprocess: one file through the intake's real processing; prints time and peak RSS."""
    from .intake.discover import Candidate
    from .intake.process import process
    from .pipeline import prepare_warehouse

    prepare_warehouse()
    # Imports, GX context and suite: paid once per process, not per row. The warm-up file's bytes
    # are unique: the same bytes twice would be a duplicate, which is not parsed or validated.
    warm = Path(path).with_name("奈曼旗2025年1月产业合作项目台账-warmup.csv")
    rows = ledger_rows(5)
    rows[0][0] = f"W-{os.getpid()}-{time.time_ns()}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    warm.write_text(buf.getvalue(), encoding="utf-8")
    if not process(Candidate(str(warm), "150525"), today=date(2025, 12, 31)).loaded:
        raise RuntimeError("the warm-up file was not loaded")
    t = time.perf_counter()
    out = process(Candidate(path, "150525"), today=date(2025, 12, 31))
    took = time.perf_counter() - t
    rss_mb = _peak_rss_mb()
    print(json.dumps({"seconds": took, "status": out.status, "rows": out.rows, "rss_mb": rss_mb}))


def _intake(path: Path) -> dict:
    _quiet_server()
    env = {**os.environ}
    res = subprocess.run([sys.executable, "-m", "xiezuo.bench", "--child", str(path)], env=env,
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"intake child failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


INTAKE_RUNS = 3  # each in a process of its own; the best one counts, as the best of 3 COPYs does


def bench_intake(work: Path, sizes: list[int], fmts: list[str]) -> None:
    inbox = Path(os.environ["XIEZUO_INBOX"]) / "150525"
    inbox.mkdir(parents=True, exist_ok=True)
    for fmt in fmts:
        for n in sizes:
            path = write_ledger(inbox / f"奈曼旗2025年3月产业合作项目台账-{fmt}-{n}.{fmt}", n)
            copy_rps = _copy_baseline(path, n)
            logged_rps = _copy_logged_baseline(n)
            pandas_rps = _pandas_baseline(path, n) if n <= 100_000 or fmt == "csv" else None
            file_mb = path.stat().st_size / 1048576  # the intake takes the file out of the inbox
            runs = []
            for k in range(INTAKE_RUNS):
                if k:  # another month's ledger of the same size (the same bytes would be a duplicate)
                    path = write_ledger(inbox / f"奈曼旗2025年{3 + k}月产业合作项目台账-{fmt}-{n}.{fmt}", n, seed=7 + k)
                r = _intake(path)
                if r["status"] not in ("accepted", "accepted_with_warnings"):
                    raise RuntimeError(f"bench ledger was {r['status']}")
                runs.append(r)
            r = min(runs, key=lambda x: x["seconds"])
            rps = n / r["seconds"]
            emit(f"intake_{fmt}_{n}_rows", rps, "rows/s", copy_rps, "raw COPY of the same rows (temporary table)",
                 copy_logged_rows_per_s=round(logged_rps, 1), ratio_vs_copy_logged=round(rps / logged_rps, 3),
                 pandas_rows_per_s=round(pandas_rps, 1) if pandas_rps else None,
                 ratio_vs_pandas=round(rps / pandas_rps, 2) if pandas_rps else None,
                 file_mb=round(file_mb, 2), seconds_of_runs=[round(x["seconds"], 3) for x in runs])
            emit(f"intake_{fmt}_{n}_rows_peak_rss", max(x["rss_mb"] for x in runs), "MB")


def bench_pipeline(work: Path, small: int, large: int) -> None:
    """Marginal throughput of the whole pipeline (intake + dbt + mart gate + publish) per extra row,
    and warm latency from a settled file to its receipt and the published marts."""
    from .runner import run_pipeline

    inbox = Path(os.environ["XIEZUO_INBOX"])
    (inbox / "150524").mkdir(parents=True, exist_ok=True)
    # Warm: metadata DB, imports, and two publishes with data (the first dbt build that has rows
    # to model costs more than later ones, and a build starts from the marts of two publishes ago:
    # warehouse/transform.py), so both measured runs are what a file costs a system in use.
    # Other seeds than the intake benchmarks' files (same bytes: a duplicate), and than each other.
    for month, seed in ((2, 9), (3, 10)):
        write_ledger(inbox / "150524" / f"库伦旗2025年{month}月产业合作项目台账.csv", small, seed=seed)
        run_pipeline()
    # Small and large files alternate, two of each (a month each): each figure is the best of
    # its two runs, as the intake's are — one run of each moved by more than the extra rows cost.
    runs: dict[int, list[float]] = {small: [], large: []}
    for i, n in enumerate((small, large, small, large)):
        write_ledger(inbox / "150524" / f"库伦旗2025年{4 + i}月产业合作项目台账.csv", n, seed=11 + i)
        t = time.perf_counter()
        rep = run_pipeline()
        runs[n].append(time.perf_counter() - t)
        if not rep.ok or rep.transform is None or not rep.transform.ok:
            raise RuntimeError(f"the pipeline did not publish: {rep.text()}")
    times = {n: min(v) for n, v in runs.items()}
    emit("pipeline_warm_latency_small_file", times[small], "s", 30.0, "target",
         seconds_of_runs=[round(x, 2) for x in runs[small]])
    extra = times[large] - times[small]
    copy_rps = _copy_baseline(work, large)
    if extra <= 0:  # the extra rows cost less than the runs' noise: no figure rather than a wrong one
        print(json.dumps({"name": "pipeline_marginal_throughput", "value": None, "unit": "rows/s",
                          "note": f"{large - small} extra rows took {extra:.2f} s: below the noise",
                          "seconds": {str(k): round(v, 2) for k, v in times.items()}}), flush=True)
        return
    logged_rps = _copy_logged_baseline(large)
    rps = (large - small) / extra
    emit("pipeline_marginal_throughput", rps, "rows/s", copy_rps, "raw COPY of the same rows (temporary table)",
         copy_logged_rows_per_s=round(logged_rps, 1), ratio_vs_copy_logged=round(rps / logged_rps, 3),
         seconds={str(k): round(v, 2) for k, v in times.items()},
         seconds_of_runs={str(k): [round(x, 2) for x in v] for k, v in runs.items()})


# ------------------------------------------------------------------------------------------------
# History: many small ledgers of all six kinds, every county, month after month (issue 7)

HISTORY_NEW_KIND = "exchange"  # the "one new small file" of the publish figures


def history_months(n: int, today: date | None = None) -> list[date]:
    """Up to `n` months of history: from the programme's start month, never later than the month
    before today's (a month's ledgers arrive in the next month; the intake rejects months before
    the start and after the current month, and reprocessing judges a file by the day it arrived).
    So before mid-2028 "5 years" is all the history there can be: fewer months, said in the output."""
    from .reference import programme
    from .sample import months

    today = today or date.today()
    last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    return months(programme().start_month, last)[:n]


@lru_cache(maxsize=None)
def _history_workers(county_code: str, n: int) -> tuple:
    """`n` workers of a county for the history ledgers: the demo's workers (sample.worker_pool)
    with made-up ID numbers of their own (valid check digits, never real), each starting before
    the programme or in the month they join."""
    import dataclasses

    from .sample import make_id, worker_pool

    base = worker_pool(county_code, 12)
    r = random.Random(f"history-workers-{county_code}")
    out, seen = [], set()
    for i in range(n):
        male = r.random() < 0.62
        ident = ""
        while not ident or ident in seen:
            birth = date(r.randint(1968, 2000), r.randint(1, 12), r.randint(1, 28))
            ident = make_id(county_code, birth, r.randint(1, 499), male)
        seen.add(ident)
        out.append(dataclasses.replace(base[i % len(base)], worker_id=ident, gender="男" if male else "女",
                                       phone=f"1390000{r.randint(0, 9999):04d}",
                                       start_date=date(2023, r.randint(1, 6), r.randint(1, 28)),
                                       joins=0 if r.random() < 0.6 else r.randint(1, 59)))
    return tuple(out)


def history_records(kind: str, area, period: date, index: int, n: int) -> list[dict]:
    """About `n` valid records of one county's ledger of `kind` for a month (`index`: months since
    the history's first), from the demo's per-kind generators (sample.*_records)."""
    from . import sample

    rnd = random.Random(f"history-{kind}-{area.code}-{period}")
    if kind == "investment":  # n projects, each keeps its type and size from month to month
        return sample.investment_records(area, period, rnd, n_projects=n)
    if kind == "employment":  # the county's workers in work by this month
        out = []
        for w in _history_workers(area.code, n + n // 4):
            if w.joins > index:
                continue
            start = w.start_date if w.joins == 0 else period.replace(day=min(w.start_date.day, 28))
            out.append({**{k: getattr(w, k) for k in ("worker_id", "name", "phone", "gender",
                                                       "is_poverty_alleviated", "destination",
                                                       "employment_type", "employer", "monthly_income")},
                        "start_date": start})
        return out[:n]
    make = {"tourism": sample.tourism_records, "livelihood": sample.livelihood_records,
            "consumer": sample.consumer_records, "exchange": sample.exchange_records}[kind]
    out, batch = [], 0
    while len(out) < n:  # the month's activities, sales, projects or events, several times over
        recs = make(area, period, rnd)
        if kind == "livelihood":  # a project code is unique within a ledger
            recs = [{**r, "project_code": f"{r['project_code']}-{batch:03d}"} for r in recs]
        out += recs
        batch += 1
    return out[:n]


def history_file(kind: str, area, period: date, index: int, n: int, name_suffix: str = ""):
    """One ledger as a clerk sends it (the demo's styles: xlsx or CSV, 序号, aliases, two-row
    headers, 合计 rows, ...)."""
    from . import contracts as C
    from .sample import SampleFile, _style, grid

    style = _style(kind, random.Random(f"history-style-{kind}-{area.code}-{period}{name_suffix}"))
    rows, merges = grid(kind, area, period, history_records(kind, area, period, index, n), style)
    return SampleFile(area.name, f"{area.name}{period.year}年{period.month}月{C.load(kind).title}{name_suffix}.{style.fmt}",
                      rows, fmt=style.fmt, encoding=style.encoding, merges=merges, kind=kind, period=period)


def _history_rows(seed: str, lo: int, hi: int) -> int:
    return random.Random(seed).randint(lo, hi)


def _load_history(files: list, inbox: Path, today: date) -> tuple[int, int]:
    """The intake's real processing of each file, in this process (no Airflow): the cheapest
    honest load. Each file lands in the archive and raw, as from the inbox. Returns (files, rows)."""
    from .intake.discover import Candidate
    from .intake.process import process
    from .reference import programme
    from .sample import write

    prog = programme()
    names = {a.name: a.code for a in prog.counties}
    loaded = rows = 0
    for sample in files:
        path = write(sample, inbox)
        out = process(Candidate(str(path), names[sample.folder]), today=today)
        if not out.loaded:
            raise RuntimeError(f"history ledger {sample.name} was {out.status}: {out}")
        loaded += 1
        rows += out.rows
    return loaded, rows


def _transform_task_seconds(run_id: str | None) -> dict[str, float]:
    """How long each task of a transform DAG run took (Airflow's task instances)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == "xiezuo_transform",
                                                  TaskInstance.run_id == run_id).all()
        return {ti.task_id: round((ti.end_date - ti.start_date).total_seconds(), 3)
                for ti in tis if ti.start_date and ti.end_date}


def _dag_run_seconds(dag_id: str, run_id: str | None) -> float:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        dr = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_id == run_id).one()
        return (dr.end_date - dr.start_date).total_seconds()


def _publish_after_new_files(inbox: Path, new_files: list) -> list[dict]:
    """For each file: drop it, `run_pipeline` (intake DAG, then the transform DAG: dbt build aside,
    mart gate, publish); the whole run's time and the transform tasks' own."""
    from .runner import run_pipeline
    from .sample import write

    out = []
    for sample in new_files:
        write(sample, inbox)
        t = time.perf_counter()
        rep = run_pipeline()
        took = time.perf_counter() - t
        if not rep.ok or rep.transform is None or not rep.transform.ok or not rep.outcomes:
            raise RuntimeError(f"the pipeline did not publish {sample.name}: {rep.text()}")
        tasks = _transform_task_seconds(rep.transform.run_id)
        out.append({"run_pipeline": took, "intake_dag": _dag_run_seconds("xiezuo_intake", rep.intake.run_id),
                    "transform": sum(tasks.values()), **tasks})
    return out


def _direct_transform(repeats: int) -> list[dict]:
    """build_aside → gate_marts → publish called directly (no Airflow), with nothing new: the
    transform's own cost at this history, without the DAG machinery."""
    from .pipeline import gate_marts
    from .warehouse.transform import build_aside, publish

    out = []
    for _ in range(repeats):
        rec = {}
        for name, step in (("build_aside", build_aside), ("gate_marts", gate_marts), ("publish", publish)):
            t = time.perf_counter()
            step()
            rec[name] = time.perf_counter() - t
        rec["transform"] = sum(rec.values())
        out.append(rec)
    return out


def _median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def _marts_digest() -> dict[str, str]:
    """A digest of every published mart's rows (order-independent): to show that reprocessing
    everything gives the same marts."""
    from .warehouse.database import engine

    with engine().connect() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
        return {t: conn.exec_driver_sql(
            f"select md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) from marts.{t} as t").scalar()
            for t in tables}


def bench_history(work: Path, n_months: int, rows: tuple[int, int], repeats: int, n_counties: int = 0) -> None:
    """Issue 7: publish time after one new small file with 1 month of history and with the whole
    history (target: ≤ 1.5×), and reprocessing the whole archive (target: ≥ 20 files/s).

    Same database throughout: 1 month of every county's six ledgers is loaded, then `repeats`
    new small files (one county's ledger of the next month each) go through `run_pipeline` one by
    one; then the rest of the history is loaded and `repeats` new small files of the month after
    it are timed the same way. Then `reprocess --all` over the archive, and the marts it gives
    are compared with the marts before it."""
    from .ops.reprocess import Selection, reprocess
    from .pipeline import gate_marts, prepare_warehouse
    from .reference import programme
    from .sample import months
    from .warehouse.transform import build_aside, publish

    direct = repeats > 1  # the quick run proves the run_pipeline measurement only
    prepare_warehouse()
    today = date.today()
    hist = history_months(n_months, today)
    if len(hist) < 2:
        raise RuntimeError("the programme has not run for two months yet: no history to measure")
    counties = programme().counties[:n_counties or None]
    from .sample import KIND_ORDER

    def month_files(index: int, skip: set) -> list:
        m = hist[index]
        return [history_file(k, a, m, index, _history_rows(f"{k}-{a.code}-{m}", *rows))
                for a in counties for k in KIND_ORDER if (a.code, k) not in skip]

    def new_files(month: date, index: int) -> list:  # one county's small ledger each
        return [history_file(HISTORY_NEW_KIND, a, month, index, 12) for a in counties[:repeats]]

    inbox = Path(os.environ["XIEZUO_INBOX"])
    nxt = months(hist[-1], date(hist[-1].year + 1, 1, 1))[1]  # the month after the history
    # ---- 1 month of history
    t = time.perf_counter()
    n_files, n_rows = _load_history(month_files(0, set()), inbox, today)
    load_s = time.perf_counter() - t
    _settle_marts()  # the marts of the history before the measured runs
    from .runner import run_pipeline

    run_pipeline()  # nothing new: warms Airflow's metadata DB and DAG parsing, not the measured runs
    first = _publish_after_new_files(inbox, new_files(hist[1], 1))
    direct_first = _direct_transform(repeats) if direct else []
    # ---- the rest of the history (the new files above already fill their slots of month 2)
    skip = {(a.code, HISTORY_NEW_KIND) for a in counties[:repeats]}
    t = time.perf_counter()
    for index in range(1, len(hist)):
        f, r = _load_history(month_files(index, skip if index == 1 else set()), inbox, today)
        n_files, n_rows = n_files + f, n_rows + r
    load_s += time.perf_counter() - t
    emit("history_load", n_files / load_s, "files/s", months=len(hist), files=n_files, rows=n_rows,
         first_month=f"{hist[0]:%Y-%m}", last_month=f"{hist[-1]:%Y-%m}",
         note="intake.process.process per file, in one process (no Airflow)")
    _settle_marts()
    full = _publish_after_new_files(inbox, new_files(nxt, len(hist)))
    # Printed as soon as measured: a later failure must not lose them.
    for key, label in (("run_pipeline", "whole run_pipeline (intake DAG + transform DAG)"),
                       ("transform", "transform DAG tasks: dbt build aside + mart gate + publish")):
        one, many = _median([r[key] for r in first]), _median([r[key] for r in full])
        emit(f"publish_after_new_file_{len(hist)}_months_history_{key}", many, "s", one,
             "the same with 1 month of history", target_ratio=1.5, what=label, repeats=repeats,
             seconds_1_month=[round(r[key], 2) for r in first], seconds_full=[round(r[key], 2) for r in full])
    for task in ("intake_dag", "dbt_build_aside", "mart_quality_gate", "publish_marts"):
        if all(task in r for r in first + full):
            emit(f"publish_part_{task}_{len(hist)}_months_history", _median([r[task] for r in full]), "s",
                 _median([r[task] for r in first]), "the same with 1 month of history",
                 seconds_full=[round(r[task], 2) for r in full])
    if direct:
        direct_full = _direct_transform(repeats)
        for key in ("build_aside", "gate_marts", "publish", "transform"):
            emit(f"direct_{key}_{len(hist)}_months_history", _median([r[key] for r in direct_full]), "s",
                 _median([r[key] for r in direct_first]), "the same with 1 month of history",
                 note="called directly, nothing new since the last publish")
    # ---- reprocessing the whole archive
    before = _marts_digest()
    with _engine_conn() as conn:
        raw_rows = conn.exec_driver_sql("select coalesce(sum(rows), 0) from raw.submissions "
                                        "where status in ('accepted', 'accepted_with_warnings')").scalar()
    t = time.perf_counter()
    report = reprocess(Selection(all=True))
    took = time.perf_counter() - t
    emit("reprocess_all_files", report.selected / took, "files/s", 20.0, "target", files=report.selected,
         seconds=round(took, 2), unchanged=report.unchanged, changed=len(report.changed), kept=len(report.kept),
         what="ops.reprocess.reprocess(Selection(all=True)); the marts rebuild after it not included")
    emit("reprocess_all_rows", raw_rows / took, "rows/s", rows=int(raw_rows))
    build_aside(), gate_marts(), publish()
    after = _marts_digest()
    if before != after:
        raise RuntimeError(f"the marts after reprocess --all differ: {[t for t in before if before[t] != after.get(t)]}")


def _settle_marts() -> None:
    """Publish twice: the published marts and the spare ones the next build starts from
    (warehouse/transform.py) both hold the history loaded, as on a system in steady use; the
    measured runs are then what one new file costs, not a catch-up of the spare marts."""
    from .pipeline import gate_marts
    from .warehouse.transform import build_aside, publish

    for _ in range(2):
        build_aside(), gate_marts(), publish()


def _engine_conn():
    from .warehouse.database import engine

    return engine().connect()


@contextmanager
def _own_database(keep: bool = False):
    """A database of its own on the configured server (the embedded one under XIEZUO_HOME by
    default), with its own inbox, archive and XIEZUO_HOME: a benchmark never touches real data.
    keep: leave both behind for a closer look (profiling dbt on the bench's data), and say where."""
    from .warehouse.database import _engine, database_url

    server = database_url()
    name = f"xiezuo_bench_{os.getpid()}"
    # What the section sets (below, and Airflow's settings derived from its home: orchestration.py
    # airflow_environment) ends with it: the history section's child process inherited the
    # pipeline section's AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, and made its metadata DB in the
    # folder that section had removed, which stayed behind.
    environment = dict(os.environ)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'create database "{name}"')
    tmp = ""
    try:
        tmp = tempfile.mkdtemp(prefix="xiezuo-bench-")
        work = Path(tmp)
        if keep:
            print(json.dumps({"kept": {"database": name, "work": tmp}}), file=sys.stderr, flush=True)
        # Its own database, inbox, archive and Airflow home: a benchmark never touches real data.
        os.environ["XIEZUO_DATABASE_URL"] = server.set(database=name).render_as_string(hide_password=False)
        os.environ["XIEZUO_HOME"] = str(work / "home")
        os.environ["XIEZUO_INBOX"] = str(work / "inbox")
        os.environ["XIEZUO_SETTLE_SECONDS"] = "0"
        yield work
    finally:
        _engine.cache_clear()
        os.environ.clear()
        os.environ.update(environment)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
            with admin.connect() as c:
                c.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()


SECTIONS = ("intake", "pipeline", "history")


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="xiezuo bench")
    p.add_argument("--quick", action="store_true", help="CI-sized data: proves the benchmark works")
    p.add_argument("--only", choices=SECTIONS, action="append",
                   help="run only this section (repeatable); default: all")
    p.add_argument("--keep", action="store_true", help="history: keep its database and files (says where)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _intake_child(args.child)
        return 0
    only = args.only or list(SECTIONS)
    # A database of its own for each section: the pipeline's figures are about a system in use,
    # not one that has just taken the intake section's million rows into one county's months.
    if "intake" in only:
        with _own_database() as work:
            sizes = [2_000, 10_000] if args.quick else [10_000, 100_000, 400_000]
            bench_intake(work, sizes, ["csv", "xlsx"])
    if "pipeline" in only:
        with _own_database() as work:
            # The extra rows: the largest ledger the size limit admits. With 100k, the extra cost
            # (~3 s) was within two runs' noise (one run printed a large file faster than a small).
            bench_pipeline(work, 200, 20_000 if args.quick else 400_000)
    if "history" in only:
        # A process of its own: a database that starts empty, and an Airflow home of its own
        # (Airflow reads its home once per process).
        cmd = [sys.executable, "-m", "xiezuo.bench", "--history-child", *(["--quick"] if args.quick else []),
               *(["--keep"] if args.keep else [])]
        if subprocess.run(cmd, check=False).returncode != 0:
            raise RuntimeError("the history benchmark failed (its output is above)")
    return 0


def _history_main(quick: bool, keep: bool) -> int:
    with _own_database(keep) as work:
        if quick:  # 2 months × 3 counties × 6 kinds, 20-40 rows each: proves it works
            bench_history(work, n_months=2, rows=(20, 40), repeats=1, n_counties=3)
        else:      # 5 years (or all there has been) × 8 counties × 6 kinds, a few hundred rows each
            bench_history(work, n_months=60, rows=(300, 700), repeats=3)
    return 0


if __name__ == "__main__":
    if "--history-child" in sys.argv:
        raise SystemExit(_history_main("--quick" in sys.argv, "--keep" in sys.argv))
    raise SystemExit(main())
