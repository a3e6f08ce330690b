"""The raw layer: submissions (registration, with lineage) and one table of rows per ledger kind.

Table shapes are derived from the contracts; a submission's rows and its registration are written
in one transaction, rows with COPY.
"""
from __future__ import annotations

import io
import json
import logging
import queue
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter

from .. import contracts as C
from ..intake.parse import id_columns

log = logging.getLogger(__name__)

RAW = "raw"
# Counts rewrites of raw rows in place (reprocess): the incremental marts build compares the
# latest submissions with what it holds by submission, so a rewrite of a submission's rows under
# its old id makes it rebuild in full (warehouse/transform.py, project_fingerprint).
RAW_REWRITES = f"{RAW}.rows_rewritten"
SQL_TYPES = {
    "text": "text", "enum": "text", "bool": "boolean", "date": "date",
    "int": "bigint", "count": "bigint", "money": "numeric(18,4)", "numeric": "numeric(18,4)",
}

SUBMISSIONS_DDL = f"""
create schema if not exists {RAW};
create table if not exists {RAW}.submissions (
    submission_id   bigserial primary key,
    sha256          text,
    original_name   text not null,
    county_code     text,
    submission_type text,
    period_month    date,
    status          text not null check (status in
                        ('accepted', 'accepted_with_warnings', 'rejected', 'duplicate')),
    rows            integer not null default 0,
    replaces        text,
    error_count     integer not null default 0,
    warning_count   integer not null default 0,
    receipt         jsonb not null,
    archive_path    text,
    received_at     timestamptz not null,
    processed_at    timestamptz not null
);
create unique index if not exists submissions_sha256_once
    on {RAW}.submissions (sha256) where status <> 'duplicate';
create index if not exists submissions_latest
    on {RAW}.submissions (county_code, submission_type, period_month, submission_id);
-- Where and which file-system object a submission was dropped as: a run that died after its
-- commit but before the original left the folder finishes that drop instead of calling it a duplicate.
alter table {RAW}.submissions add column if not exists dropped_as text;
alter table {RAW}.submissions add column if not exists drop_identity text;
create index if not exists submissions_drop on {RAW}.submissions (drop_identity);
-- The database role that wrote the registration (the intake runs as xiezuo_intake; reprocessing
-- by an operator shows the operator's login).
alter table {RAW}.submissions add column if not exists loaded_by text not null default current_user;
"""


def stored_columns(contract: C.Contract) -> list[tuple[str, str]]:
    """(column, SQL type) of a kind's raw table, after submission_id and source_row."""
    out: list[tuple[str, str]] = []
    for col in contract.stored_columns:
        if col.type == "id":
            out += list(zip(id_columns(col), ("text", "integer", "text", "text")))
        else:
            out.append((col.name, SQL_TYPES[col.type]))
    return out


def table(kind: str) -> str:
    return f"{RAW}.{kind}_rows"


def ensure_schema(conn: sa.Connection) -> None:
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('xiezuo.raw.ddl'))"))
    conn.exec_driver_sql(SUBMISSIONS_DDL)
    conn.exec_driver_sql(f"create sequence if not exists {RAW_REWRITES}")
    for contract in C.all_contracts():
        t, base = table(contract.kind), f"{contract.kind}_rows"
        conn.exec_driver_sql(
            f"create table if not exists {t} (submission_id bigint not null, source_row integer not null)")
        # No primary key and no foreign key on the rows: a row-by-row referential check made COPY of
        # a large ledger 3-4× slower than the load itself. A submission's rows are written only in
        # the transaction that registers it (intake, reprocess), with the id that registration
        # returned; the dbt tests check every fact row against raw and the receipts' row counts,
        # and (submission_id, source_row) unique. Rows are appended in submission order, so a BRIN
        # index finds one submission's rows (reprocessing deletes by submission) at almost no
        # cost to the load. Databases made before this lose the old constraints here.
        for old in conn.execute(sa.text(
                "select conname from pg_constraint where conrelid = cast(:t as regclass) and contype in ('p', 'f')"),
                {"t": t}).scalars().all():
            conn.exec_driver_sql(f'alter table {t} drop constraint "{old}"')
        _submission_index(conn, t, f"{base}_submission")
        for name, typ in stored_columns(contract):
            conn.exec_driver_sql(f'alter table {t} add column if not exists "{name}" {typ}')


# The rows' index on submission_id. Rows are appended in submission order, but not only at the
# table's end: a later COPY fills the room earlier pages have left (PostgreSQL's free space map),
# and a reprocess rewrites rows in place. With plain min/max ranges, one such row of a late
# submission widened its range to every submission in between: after 41 months of history a
# delete of one submission's rows read 534 pages for its 25, the other-county check ~1,200 pages
# for 7 submissions. Ranges of several intervals (minmax-multi) keep such a stray row from
# widening the rest, and ranges of 32 pages instead of 128 make each read a quarter: the delete
# reads 32 pages (0.5 ms instead of 4 ms). The load pays nothing more: rows appended go to
# ranges not summarized yet (every look-up reads those) until vacuum or reprocessing
# (summarize_submission_index) summarizes them. Not `autosummarize`: a 400k-row ledger fills
# ~500 ranges, more than autovacuum's queue of requests holds, and each request it drops is a
# line in the server's log.
SUBMISSION_INDEX = "USING brin (submission_id int8_minmax_multi_ops) WITH (pages_per_range='32')"


def _submission_index(conn: sa.Connection, t: str, name: str) -> None:
    """The index as SUBMISSION_INDEX says, made again where a database has another one."""
    have = conn.execute(sa.text("select pg_get_indexdef(to_regclass(:i))"), {"i": f"{RAW}.{name}"}).scalar()
    if have is not None and have.endswith(SUBMISSION_INDEX):
        return
    if have is not None:
        conn.exec_driver_sql(f"drop index {RAW}.{name}")
    conn.exec_driver_sql(f"create index {name} on {t} {SUBMISSION_INDEX}")


def summarize_submission_index(conn: sa.Connection, kind: str) -> int | None:
    """Summarize the ranges of a kind's rows written since the index last did (how many it
    summarized): until then every look-up by submission reads them all, and reprocessing
    rewrites rows faster than autovacuum summarizes. Needs the table's owner (the login that
    prepared the warehouse); for another login, None, and reprocessing goes on without."""
    try:
        with conn.begin_nested():
            return conn.execute(sa.text("select brin_summarize_new_values(to_regclass(:i))"),
                                {"i": f"{RAW}.{kind}_rows_submission"}).scalar()
    except sa.exc.ProgrammingError as exc:  # insufficient_privilege
        log.debug("could not summarize %s's submission index: %s", kind, exc)
        return None


def note_rewrite(conn: sa.Connection) -> None:
    """Say that raw rows were rewritten in place. Call it after the rewrite committed: a build
    that reads the count before the commit is then told again by the next build."""
    conn.exec_driver_sql(f"select nextval('{RAW_REWRITES}')")


@dataclass
class Registration:
    sha256: str
    original_name: str
    county_code: str | None
    submission_type: str | None
    period_month: date | None
    status: str
    rows: int
    error_count: int
    warning_count: int
    receipt: dict
    archive_path: str | None
    received_at: datetime
    processed_at: datetime
    replaces: str | None = None
    dropped_as: str | None = None      # path relative to the inbox, as the clerk dropped it
    drop_identity: str | None = None   # device:inode:ctime of the dropped file


def seen_before(conn: sa.Connection, sha256: str) -> dict | None:
    """The registration of these bytes, if they were processed before (same bytes: duplicate)."""
    row = conn.execute(sa.text(
        f"select submission_id, status, original_name, county_code, submission_type, period_month, "
        f"processed_at from {RAW}.submissions where sha256 = :s and status <> 'duplicate' "
        "order by submission_id limit 1"), {"s": sha256}).mappings().first()
    return dict(row) if row else None


def registered_drop(conn: sa.Connection, dropped_as: str, drop_identity: str) -> dict | None:
    """The registration of this very drop (same path, same file-system object), if committed."""
    row = conn.execute(sa.text(
        f"select submission_id, sha256, status, original_name, county_code, submission_type, rows, "
        f"error_count, warning_count, receipt from {RAW}.submissions "
        "where drop_identity = :i and dropped_as = :d order by submission_id desc limit 1"),
        {"i": drop_identity, "d": dropped_as}).mappings().first()
    return dict(row) if row else None


def other_county_keys(conn: sa.Connection, kind: str, key_column: str, county: str, period: date,
                      keys: list[str], before_submission_id: int | None = None) -> dict[str, list[str]]:
    """key → the other counties whose latest accepted ledger of this kind and month holds it
    (as it stood before `before_submission_id`, when given: reprocessing in submission order)."""
    if not keys:
        return {}
    # Two steps: with the latest submissions inside the same query, the planner joined them to
    # every row of the kind holding one of the keys (a scan of the whole table: half a second per
    # employment ledger after three years of them); their ids first, it reads only their rows.
    latest = dict(conn.execute(sa.text(
        f"""select distinct on (county_code) submission_id, county_code from {RAW}.submissions
            where submission_type = :k and period_month = :p and county_code <> :c
              and status in ('accepted', 'accepted_with_warnings')
              and (cast(:before as bigint) is null or submission_id < cast(:before as bigint))
            order by county_code, submission_id desc"""),
        {"k": kind, "p": period, "c": county, "before": before_submission_id}).all())
    if not latest:
        return {}
    rows = conn.execute(sa.text(
        f"""select distinct r."{key_column}", r.submission_id from {table(kind)} r
            where r.submission_id = any(:ids) and r."{key_column}" = any(:keys)"""),
        {"ids": list(latest), "keys": keys}).all()
    out: dict[str, list[str]] = {}
    for key, county_code in sorted((key, latest[sid]) for key, sid in rows):
        out.setdefault(key, []).append(county_code)
    return out


def latest_accepted(conn: sa.Connection, county: str, kind: str, period: date) -> str | None:
    return conn.execute(sa.text(
        f"select sha256 from {RAW}.submissions where county_code = :c and submission_type = :k "
        "and period_month = :p and status in ('accepted', 'accepted_with_warnings') "
        "order by submission_id desc limit 1"), {"c": county, "k": kind, "p": period}).scalar()


def lock_slot(conn: sa.Connection, county: str | None, kind: str | None, period: date | None) -> None:
    """Serialise registrations of one (county, kind, month) so 'replaces' is always right."""
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"),
                 {"k": f"xiezuo.slot.{county}.{kind}.{period}"})


_NEXT_ID = f"nextval(pg_get_serial_sequence('{RAW}.submissions', 'submission_id'))"


def register(conn: sa.Connection, reg: Registration, submission_id: int | None = None) -> int:
    """Insert the registration; its id from the sequence, or `submission_id` when one was taken
    before (`next_submission_id`: rows copied before the verdict, in the same transaction)."""
    return conn.execute(sa.text(
        f"""insert into {RAW}.submissions (submission_id, sha256, original_name, county_code,
            submission_type, period_month, status, rows, replaces, error_count, warning_count, receipt,
            archive_path, received_at, processed_at, dropped_as, drop_identity)
            values (coalesce(cast(:submission_id as bigint), {_NEXT_ID}), :sha256, :original_name,
            :county_code, :submission_type, :period_month, :status, :rows, :replaces, :error_count,
            :warning_count, cast(:receipt as jsonb), :archive_path, :received_at, :processed_at,
            :dropped_as, :drop_identity) returning submission_id"""),
        {**reg.__dict__, "receipt": json.dumps(reg.receipt, ensure_ascii=False),
         "submission_id": submission_id}).scalar_one()


def lock_for_registration(conn: sa.Connection) -> None:
    """The lock a registration's insert takes on raw.submissions, taken first: a transaction
    that copies rows before it registers takes its locks in the order a registration and the
    schema's DDL (`ensure_schema`: submissions, then the rows' tables) take them."""
    conn.exec_driver_sql(f"lock table {RAW}.submissions in row exclusive mode")


def next_submission_id(conn: sa.Connection) -> int:
    """A submission id taken ahead of its registration (the rows are copied under it first)."""
    return conn.execute(sa.text(f"select {_NEXT_ID}")).scalar_one()


# How COPY's text format reads back a backslash, tab and line breaks (the backslash first: the
# column-wise writer below replaces them one after another).
_COPY_ESCAPE = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_COPY_ESCAPES = str.maketrans(_COPY_ESCAPE)
_COPY_BLOCK = 20_000  # rows per write: a few MB of text at a time, never the whole file


class _BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer (polars formats the next block while the last one is sent),
    with a short queue: psycopg's holds 1,024 pieces of up to 128 kB, so when the server reads
    slower than polars writes, a whole large file's text waited in memory (found as the peak of
    a 400k-row intake, beside its gate). 32 pieces: at most about 4 MB waits."""

    def __init__(self, cursor) -> None:
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=32)


def _copy_text(v) -> str:
    """One value in COPY's text format (NULL is \\N; backslash, tab and line breaks escaped)."""
    if v is None:
        return "\\N"
    if v.__class__ is str:
        return v.translate(_COPY_ESCAPES)
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    return str(v)  # int, Decimal (PostgreSQL reads 1.2E+4 as numeric)


def _copy_column(values, sql_type: str) -> list[str]:
    """A column's values in COPY's text format, in one pass for its usual type."""
    n = "\\N"
    try:
        if sql_type == "text":
            joined = "".join([v for v in values if v is not None])  # one scan for what needs escaping
            if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
                esc = _COPY_ESCAPES
                return [n if v is None else v.translate(esc) for v in values]
            return [n if v is None else v for v in values]
        if sql_type in ("bigint", "integer") or sql_type.startswith("numeric"):
            out = [n if v is None else str(v) for v in values]
            if all(v is None or v.__class__ is not bool for v in values):
                return out
    except (AttributeError, TypeError):
        pass
    return [_copy_text(v) for v in values]


def copy_rows(conn: sa.Connection, kind: str, submission_id: int, row_numbers: list[int],
              columns: dict[str, list]) -> int:
    """COPY one submission's typed values (a parsed file's columns, aligned with its row numbers)
    into its kind's raw table: formatted column by column and sent as text blocks (psycopg's
    per-row write_row costs more than the server's work)."""
    types = dict(stored_columns(C.load(kind)))
    if any(isinstance(v, pl.Series) for v in columns.values()):
        return _copy_frame(conn, kind, submission_id, row_numbers, columns, types)
    cols = list(types)
    collist = ", ".join(f'"{c}"' for c in ["submission_id", "source_row", *cols])
    numbers = row_numbers
    total = len(numbers)
    raw_conn = conn.connection.driver_connection
    with raw_conn.cursor() as cur:
        with cur.copy(f"copy {table(kind)} ({collist}) from stdin") as cp:
            sid = str(submission_id)
            for start in range(0, total, _COPY_BLOCK):
                stop = min(start + _COPY_BLOCK, total)
                parts = [[sid] * (stop - start), [str(n) for n in numbers[start:stop]]]
                for c in cols:
                    values = columns.get(c)
                    parts.append(["\\N"] * (stop - start) if values is None
                                 else _copy_column(values[start:stop], types[c]))
                lines = ["\t".join(fields) for fields in zip(*parts)]
                lines.append("")
                cp.write("\n".join(lines).encode("utf-8"))
    return total


def _copy_frame(conn: sa.Connection, kind: str, submission_id: int, row_numbers: list[int],
                columns: dict, types: dict[str, str]) -> int:
    """`copy_rows` for a file read column-wise (intake/columnar.py): the columns held as polars
    Series are written in COPY's text format by polars, block by block (text escaped as COPY
    reads it back; the others as `_copy_column` formats them)."""
    n = len(row_numbers)
    frame: dict[str, pl.Series] = {
        "submission_id": pl.repeat(submission_id, n, dtype=pl.Int64, eager=True),
        "source_row": pl.Series(row_numbers, dtype=pl.Int64),
    }
    for c, sql_type in types.items():
        v = columns.get(c)
        if v is None:
            frame[c] = pl.repeat(None, n, dtype=pl.String, eager=True)
        elif not isinstance(v, pl.Series):
            frame[c] = pl.Series(_copy_column(v, sql_type), dtype=pl.String)  # "\\N" for None
        elif v.dtype == pl.String:
            if v.str.contains_any(list(_COPY_ESCAPE)).any():
                for ch, esc in _COPY_ESCAPE.items():
                    v = v.str.replace_all(ch, esc, literal=True)
            frame[c] = v
        else:
            frame[c] = v
    df = pl.DataFrame(frame)
    collist = ", ".join(f'"{c}"' for c in df.columns)
    raw_conn = conn.connection.driver_connection
    with raw_conn.cursor() as cur, cur.copy(f"copy {table(kind)} ({collist}) from stdin",
                                            writer=_BoundedQueuedWriter(cur)) as cp:
        for start in range(0, n, _COPY_BLOCK):
            block = io.BytesIO()  # polars writes UTF-8 bytes: no str of the block to encode again
            df.slice(start, _COPY_BLOCK).write_csv(
                block, separator="\t", include_header=False, quote_style="never", null_value="\\N")
            cp.write(block.getvalue())
    return n
