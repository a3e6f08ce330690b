"""The mart gate: expectations/marts.yml run by Great Expectations on the built marts."""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
import yaml

from .. import contracts as C
from ..config import EXPECTATIONS_DIR
from ..reference import programme
from ..warehouse.database import database_url, engine
from .context import build_data_docs, context, data_docs_index

URL_VAR = "XIEZUO_GX_WAREHOUSE_URL"  # GX stores "${...}", never the URL itself


@dataclass
class GateResult:
    success: bool
    failures: list[str]

    def message(self) -> str:
        return ("mart quality gate refused to publish: " + "; ".join(self.failures) +
                f". The published marts are unchanged; details in the Data Docs: {data_docs_index()}")


def _expectation(spec: dict, table: str):
    import great_expectations.expectations as gxe

    kind = spec["expect"]
    meta = {"table": table, **{k: v for k, v in spec.items() if k != "expect"}}
    if kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=spec["column"], meta=meta)
    if kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=spec["column"], meta=meta)
    if kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=spec["column"], value_set=spec["value_set"], meta=meta)
    if kind == "compound_unique":
        return _compound_unique(spec["columns"], meta)
    if kind == "row_count_equals":
        return gxe.ExpectTableRowCountToEqual(value=spec["value"], meta=meta)
    if kind == "row_count_between":
        return gxe.ExpectTableRowCountToBeBetween(min_value=spec.get("min_value"),
                                                  max_value=spec.get("max_value"), meta=meta)
    if kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(column=spec["column"], min_value=spec.get("min_value"),
                                                 max_value=spec.get("max_value"), meta=meta)
    raise ValueError(f"expectations/marts.yml: unknown expectation {kind!r} on {table}")


def _compound_unique(columns: list[str], meta: dict):
    """One row per combination of `columns` (rows where all of them are missing do not count,
    as in GX's ExpectCompoundColumnsToBeUnique): the combinations held by more than one row,
    found by one GROUP BY. GX's own expectation joined every row back to its group's count, a
    second pass over the rows: 0.9 s of the gate for a 400k-row ledger's rows (issue 7)."""
    import great_expectations.expectations as gxe

    names = ", ".join(f'"{c}"' for c in columns)
    all_missing = " and ".join(f'"{c}" is null' for c in columns)
    query = (f"select {names}, count(*) as rows_with_it from {{batch}} where not ({all_missing}) "
             f"group by {names} having count(*) > 1")
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=query, description=f"One row per {', '.join(columns)}",
        meta={**meta, "expect": "compound_unique"})


def parameters() -> dict:
    """Independent figures the marts must reconcile with (from raw.submissions, the contracts,
    the indicator list and the programme settings; not from dbt)."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from ..config import DBT_PROJECT_DIR, settings
    from ..indicators import doubling_indicators, indicators

    prog = programme()
    areas = [prog.city_code, *(a.code for a in prog.counties)]
    params: dict = {"area_codes": areas, "county_codes": [a.code for a in prog.counties],
                    "indicator_codes": [i["code"] for i in indicators()],
                    "doubling_codes": [i["code"] for i in doubling_indicators()],
                    "submission_types": [c.kind for c in C.all_contracts()]}
    latest = """select distinct on (county_code, submission_type, period_month) *
                from raw.submissions where status in ('accepted', 'accepted_with_warnings')
                order by county_code, submission_type, period_month, submission_id desc"""
    with engine().connect() as conn:
        for contract in C.all_contracts():
            params[f"expected_rows_{contract.kind}"] = int(conn.execute(sa.text(
                f"select coalesce(sum(rows), 0) from ({latest}) l where submission_type = :k"),
                {"k": contract.kind}).scalar())
        first, last = conn.execute(sa.text(f"select min(period_month), max(period_month) from ({latest}) l")).one()
    # indicator_progress: every area × doubling indicator × month, January of the first year with
    # accepted data through the latest month with any.
    months = 0 if last is None else (last.year - first.year) * 12 + last.month
    params["expected_rows_indicator_progress"] = len(areas) * len(params["doubling_codes"]) * months
    # submission_status: every county × kind × month from the programme start through the latest
    # month that is due (day XIEZUO_DUE_DAY of the next month, the city's local date).
    tz = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["local_timezone"]
    today = datetime.now(ZoneInfo(tz)).date()
    due_months, m = 0, prog.start_month
    while True:
        nxt = date(m.year + m.month // 12, m.month % 12 + 1, 1)
        if nxt.replace(day=settings().due_day) > today:
            break
        due_months, m = due_months + 1, nxt
    params["expected_rows_submission_status"] = len(prog.counties) * len(params["submission_types"]) * due_months
    return params


def _suite(ctx, name: str, table: str, expectations: list[dict]):
    """The suite `name` of the table, saved only when marts.yml changed it (a save per
    expectation, and one per table per run, made up a quarter of the gate's time).
    Returns (suite, changed)."""
    import great_expectations as gx

    wanted = gx.ExpectationSuite(name=f"marts.{name}", expectations=[_expectation(e, table) for e in expectations])
    try:
        stored = ctx.suites.get(wanted.name)
    except Exception:  # noqa: BLE001 - GX raises several types for a missing suite
        stored = None
    if stored is not None and _configs(stored) == _configs(wanted):
        return stored, False
    return ctx.suites.add_or_update(wanted), True


def _configs(suite) -> list[dict]:
    return [{k: v for k, v in e.configuration.to_json_dict().items() if k != "id"} for e in suite.expectations]


def _datasource(ctx):
    """The warehouse datasource, added once: replacing it on every run rewrote the project's
    configuration and dropped its table assets (and so the validation definitions built on them)."""
    url = "${" + URL_VAR + "}"
    try:
        ds = ctx.data_sources.get("warehouse")
        if getattr(ds.connection_string, "template_str", ds.connection_string) == url:
            return ds
    except (KeyError, LookupError, ValueError):
        pass
    return ctx.data_sources.add_or_update_sql("warehouse", connection_string=url)


TABLE_LEVEL = ("row_count_equals", "row_count_between")  # about the whole table, never a subset of rows
ADDED = "staging.int_new_submissions"  # the submissions whose rows this build added (dbt)
LATEST = "staging.int_latest_submissions"


def run_mart_gate(schema: str) -> GateResult:
    spec = yaml.safe_load((EXPECTATIONS_DIR / "marts.yml").read_text(encoding="utf-8"))
    os.environ[URL_VAR] = database_url().render_as_string(hide_password=False)
    ctx = context()
    ds = _datasource(ctx)
    params = parameters()
    failures: list[str] = []
    with engine().connect() as conn:
        existing = {r[0] for r in conn.execute(sa.text(
            "select table_name from information_schema.tables where table_schema = :s"), {"s": schema})}
        # A full build added every row: the whole tables then, not a query that keeps them all.
        full = conn.exec_driver_sql(f"select (select count(*) from {ADDED}) = "
                                    f"(select count(*) from {LATEST})").scalar()
    # the incremental facts (macros/ledgers.sql): one per contract
    where_added = set() if full else {f"fct_{c.kind}" for c in C.all_contracts()}
    with _added_rows_views(schema, where_added & set(spec["tables"]) & existing) as added:
        for table, expectations in spec["tables"].items():
            if table not in existing:
                failures.append(f"{schema}.{table} was not built")
                continue
            if table not in added:
                parts = [(table, schema, table, expectations)]
            else:
                parts = [(table, schema, table, [e for e in expectations if e["expect"] in TABLE_LEVEL]),
                         (f"{table}.added", ADDED_VIEWS_SCHEMA, added[table],
                          [e for e in expectations if e["expect"] not in TABLE_LEVEL])]
            for name, in_schema, relation, subset in parts:
                if subset:
                    failures += _validate(ctx, ds, schema, table, name, in_schema, relation, subset, params)
    build_data_docs()
    return GateResult(success=not failures, failures=failures)


ADDED_VIEWS_SCHEMA = "staging"  # the transform role's; BI reads nothing there


@contextmanager
def _added_rows_views(schema: str, tables: set[str]):
    """For each fact, a view of the rows this build added, for the gate's checks of them: {table:
    view name}; dropped again when the gate is done. GX reads a table or view's columns from the
    catalog; a query asset's it found by running the query and fetching every row (0.47 s for a
    400k-row ledger's rows, issue 7)."""
    from ..warehouse.roles import TRANSFORM_ROLE, act_as

    views = {t: f"gate_{t}_added" for t in sorted(tables)}

    def each(sql: str) -> None:
        with engine().begin() as conn:
            act_as(conn, TRANSFORM_ROLE)
            for table, view in views.items():
                conn.exec_driver_sql(sql.format(table=table, view=f'"{ADDED_VIEWS_SCHEMA}"."{view}"'))

    each("drop view if exists {view}")  # one a killed gate left, maybe over another schema's table
    each(f'create view {{view}} as select * from "{schema}"."{{table}}" '
         f"where submission_id in (select submission_id from {ADDED})")
    try:
        yield views
    finally:
        each("drop view if exists {view}")


def _validate(ctx, ds, schema: str, table: str, name: str, in_schema: str, relation: str,
              expectations: list[dict], params: dict) -> list[str]:
    """Run one suite on a table or view (relation, in in_schema); what failed, as messages."""
    import great_expectations as gx

    asset_name = f"{schema}.{name}"
    try:
        asset = ds.get_asset(asset_name)
        if getattr(asset, "table_name", None) != relation or getattr(asset, "schema_name", None) != in_schema:
            ds.delete_asset(asset_name)  # e.g. a query asset of an earlier release
            raise LookupError(asset_name)
    except LookupError:
        asset = ds.add_table_asset(name=asset_name, table_name=relation, schema_name=in_schema)
    try:
        bd = asset.get_batch_definition("whole")
    except (KeyError, LookupError, ValueError):
        bd = asset.add_batch_definition_whole_table("whole")
    suite, changed = _suite(ctx, name, table, expectations)
    vd = None
    if not changed:
        try:
            vd = ctx.validation_definitions.get(f"marts.{name}")
        except Exception:  # noqa: BLE001 - missing, or built on an asset that is gone
            vd = None
    if vd is None or vd.data.id != bd.id:
        vd = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"marts.{name}", data=bd, suite=suite))
    # Success is decided from counts alone (BOOLEAN_ONLY: one query per expectation); only a
    # table that fails runs again with SUMMARY for what the message shows (observed values).
    # SUMMARY on a clean table also looks for unexpected rows, a second scan per expectation
    # of tables that grow with every month of history. (A failing table's two runs are both
    # kept in the Data Docs.)
    result = vd.run(expectation_parameters=params, result_format="BOOLEAN_ONLY")
    if not result.success:
        result = vd.run(expectation_parameters=params, result_format="SUMMARY")
    failures = []
    for r in result.results:
        if r.exception_info and r.exception_info.get("raised_exception"):
            failures.append(f"{table}: {r.expectation_config.type} could not run "
                            f"({r.exception_info.get('exception_message')})")
        elif not r.success:
            cfg = r.expectation_config
            meta = cfg.meta or {}
            what = cfg.kwargs.get("column") or cfg.kwargs.get("column_list") or meta.get("columns") or ""
            observed = r.result.get("observed_value", r.result.get("unexpected_count"))
            failures.append(f"{table}: {meta.get('expect') or cfg.type} {what} failed (observed {observed})")
    return failures
