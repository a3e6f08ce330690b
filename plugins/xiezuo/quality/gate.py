"""The submission gate: a Great Expectations suite derived from a contract, run on a parsed file.

Every contract rule that can be stated as an expectation is one here (required, enum, unique,
ranges, cross-column comparisons, dates in the month, ID checks); each expectation carries its
rule and severity in `meta`, and its failures come back as problems on the clerk's rows.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import polars as pl

from .. import contracts as C
from ..intake import cells as X
from ..intake.parse import Parsed, check_columns, id_columns, key_column, period_end
from ..intake.problems import Problem
from .context import context

ROW = "__row"


def _age_column(col: C.Column) -> str:
    """The gate's own check column for an ID column: the age at the rule's date (never stored)."""
    return f"_chk_{col.name}_age"


def _gx_column(col: C.Column) -> str:
    return key_column(col) if col.type == "id" else col.name


def build_suite(contract: C.Contract, name: str | None = None):
    """The contract's suite, named `submission.<kind>` unless `name` says otherwise. (GX writes an
    expectation added to a suite straight into the stored suite of the same name, if there is
    one: a suite meant to stay out of the store needs a name of its own.)"""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column as Col

    suite = gx.ExpectationSuite(name=name or f"submission.{contract.kind}")

    def add(exp_cls, col: C.Column, rule: str, severity: str, **kw):
        meta = {"column": col.name, "rule": rule, "severity": severity}
        suite.add_expectation(exp_cls(meta=meta, **kw))

    for col in contract.columns:
        if col.type == "personal":
            continue
        g = _gx_column(col)
        if col.required:
            add(gxe.ExpectColumnValuesToNotBeNull, col, "required", "error", column=g)
        if col.required_when:
            rw = col.required_when
            cond = Col(rw.column).is_not_null() if rw.present else Col(rw.column) == rw.equals
            add(gxe.ExpectColumnValuesToNotBeNull, col, "required_when", "error", column=g, row_condition=cond)
        if col.type == "enum":
            add(gxe.ExpectColumnValuesToBeInSet, col, "enum", "error", column=g, value_set=list(col.values))
        for r in col.rules:
            sev = r.severity
            if r.check == "unique":
                add(gxe.ExpectColumnValuesToBeUnique, col, "unique", sev, column=g)
            elif r.check == "min":
                add(gxe.ExpectColumnValuesToBeBetween, col, "min", sev, column=g, min_value=r.value)
            elif r.check == "above":
                add(gxe.ExpectColumnValuesToBeBetween, col, "above", sev, column=g, min_value=r.value, strict_min=True)
            elif r.check == "max":
                add(gxe.ExpectColumnValuesToBeBetween, col, "max", sev, column=g, max_value=r.value)
            elif r.check == "not_above_column":
                add(gxe.ExpectColumnPairValuesAToBeGreaterThanB, col, "not_above_column", sev,
                    column_A=r.column, column_B=g, or_equal=True, ignore_row_if="either_value_is_missing")
            elif r.check == "in_period":
                add(gxe.ExpectColumnValuesToBeBetween, col, "in_period", sev, column=g,
                    min_value={"$PARAMETER": "period_start"}, max_value={"$PARAMETER": "period_end"})
            elif r.check == "not_after_period":
                add(gxe.ExpectColumnValuesToBeBetween, col, "not_after_period", sev, column=g,
                    max_value={"$PARAMETER": "period_end"})
            elif r.check == "id_number":
                add(gxe.ExpectColumnValuesToBeNull, col, "id_number", sev, column=check_columns(col).problem)
            elif r.check == "age_min":
                add(gxe.ExpectColumnValuesToBeBetween, col, "age_min", sev, column=_age_column(col),
                    min_value=r.value)
            elif r.check == "age_max":
                add(gxe.ExpectColumnValuesToBeBetween, col, "age_max", sev, column=_age_column(col),
                    max_value=r.value)
            elif r.check == "gender_matches_id":
                idcol = contract.column(r.column)
                add(gxe.ExpectColumnPairValuesToBeEqual, col, "gender_matches_id", sev, column_A=g,
                    column_B=id_columns(idcol).gender, ignore_row_if="either_value_is_missing")
            elif r.check == "only_when":
                add(gxe.ExpectColumnValuesToBeNull, col, "only_when", sev, column=g,
                    row_condition=Col(r.column) != r.equals)
    return suite


_USED: dict[tuple[str, int], frozenset[str]] = {}


def _used_columns(contract: C.Contract) -> frozenset[str]:
    """The frame columns the contract's suite reads (as a column, a column pair or a row
    condition): the others are left out of the frame — GX fingerprints every column of a batch,
    and building and hashing columns no expectation reads was a third of a large file's gate."""
    key = (contract.kind, id(contract))
    used = _USED.get(key)
    if used is None:
        kwargs = [e.configuration.to_json_dict()["kwargs"] for e in _validation(contract).suite.expectations]
        used = frozenset(_named_in(kwargs, _frame_columns(contract)))
        _USED[key] = used
    return used


def _named_in(kwargs, names) -> set[str]:
    """The names that an expectation's arguments (or a list of them) mention anywhere: as a
    column, in a column pair, in a row condition."""
    import json

    text = json.dumps(kwargs, default=str, ensure_ascii=False)
    return {n for n in names if f'"{n}"' in text}


_NULLNESS_AND_EQUALITY = ("expect_column_values_to_not_be_null", "expect_column_values_to_be_unique")
_LABELLED: dict[tuple[str, int], frozenset[str]] = {}


def _labelled_columns(contract: C.Contract) -> frozenset[str]:
    """The frame columns the suite reads only as the `column` of not-null and unique
    expectations: what GX computes and records from such a column depends only on which cells
    are empty and which are equal (an empty cell's value in a result is empty; a unique column
    whose cells all differ has no unexpected values to list). Named anywhere else (another kind
    of expectation, a column pair, a row condition), a column's values matter and it is not one
    of these."""
    key = (contract.kind, id(contract))
    labelled = _LABELLED.get(key)
    if labelled is None:
        names = _used_columns(contract)
        direct: set[str] = set()
        valued: set[str] = set()
        for e in _validation(contract).suite.expectations:
            kwargs = dict(e.configuration.to_json_dict()["kwargs"])
            if e.expectation_type in _NULLNESS_AND_EQUALITY:
                direct.add(kwargs.pop("column"))
            valued |= _named_in(kwargs, names)
        labelled = frozenset((direct & names) - valued)
        _LABELLED[key] = labelled
    return labelled


def _frame_columns(contract: C.Contract) -> list[str]:
    out = []
    for col in contract.columns:
        if col.type == "id":
            out += [_gx_column(col), id_columns(col).gender, check_columns(col).problem, _age_column(col)]
        elif col.type != "personal":
            out.append(col.name)
    return out


def _frame(parsed: Parsed, labels: bool = True) -> pd.DataFrame:
    """The parsed columns the suite reads, as one DataFrame for GX: numbers as floats (None →
    NaN), dates as datetimes, the age at the rule's date for ID columns, everything else as
    plain objects (pandas would otherwise infer and validate a string dtype, cell by cell).
    labels: a text column read only for nullness and equality whose cells all differ goes to
    GX as row labels (`_labels`); False gives GX its text (the test compares the two)."""
    contract = parsed.contract
    columns = parsed.columns
    used = _used_columns(contract)
    labelled = _labelled_columns(contract) if labels else frozenset()
    n = len(parsed.row_numbers)
    nothing = [None] * n
    data: dict[str, object] = {ROW: np.asarray(parsed.row_numbers, dtype="int64")}
    for col in contract.columns:
        if col.type == "personal":
            continue
        g = _gx_column(col)
        if g in used:
            values = columns.get(g, nothing)
            if isinstance(values, pl.Series):  # a column read by polars (intake/columnar.py)
                if col.type in C.NUMERIC_TYPES:  # via text: rounded once, as float(Decimal)
                    data[g] = values.cast(pl.String).cast(pl.Float64).to_numpy()
                elif col.type == "date":
                    data[g] = values.cast(pl.Datetime("ns")).to_numpy()
                else:
                    labels_ = _labels(values) if g in labelled else None
                    data[g] = _categorical(values) if labels_ is None else labels_
            elif col.type in C.NUMERIC_TYPES:
                data[g] = np.array(values, dtype="float64")  # Decimal → float, None → NaN
            elif col.type == "date":
                data[g] = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce").to_numpy()
            else:
                data[g] = pd.Series(values, dtype="object")
        if col.type == "id":
            for extra in (id_columns(col).gender, check_columns(col).problem):
                if extra in used:
                    data[extra] = pd.Series(columns.get(extra, nothing), dtype="object")
            age = _age_column(col)
            if age in used:
                at = next((r.at for r in col.rules if r.at), None)
                births = columns.get(check_columns(col).birth, nothing)
                whens = columns.get(at, nothing) if at else nothing
                data[age] = np.array([X.age_at(b, w) if isinstance(b, date) and isinstance(w, date) else None
                                      for b, w in zip(births, whens)], dtype="float64")
    return pd.DataFrame(data, copy=False)


def _labels(values: pl.Series) -> pd.Categorical | None:
    """A text column whose present cells all differ (a project code, a project's name), for
    expectations that read only nullness and equality (`_labelled_columns`): each present cell
    is a category of its own named by its position, empty cells stay missing. The same nulls
    and the same equalities as its text, so GX finds and records the same, without 400,000
    Python strings to build for pandas and hash for the batch's fingerprint (a third of a
    second for two such columns of a 400k-row file). None when two cells are equal: GX lists
    those values, so it gets the text."""
    if values.dtype != pl.String or not _all_different(values):
        return None
    present = values.len() - values.null_count()
    return pd.Categorical.from_codes(_positions(values), categories=pd.RangeIndex(present), validate=False)


def _all_different(values: pl.Series) -> bool:
    """No two present cells are equal (polars counts null as one more distinct value)."""
    return values.n_unique() - (values.null_count() > 0) == values.len() - values.null_count()


def _positions(values: pl.Series) -> np.ndarray:
    """Each present cell's position among the present cells; -1 (missing) for the others."""
    codes = np.full(len(values), -1, dtype="int32")
    codes[values.is_not_null().to_numpy()] = np.arange(values.len() - values.null_count(), dtype="int32")
    return codes


def _categorical(values: pl.Series) -> pd.Categorical | pd.Series:
    """A text column for GX as a pandas Categorical: the same values (None stays missing), but
    GX's fingerprint of the batch, its null checks, row-condition takes and uniqueness work on
    integer codes instead of a Python string per row. Other columns (yes/no) as plain objects.
    A column whose cells are all different (a project code, a name) has each present cell as
    its own category, in row order: no sort of every value (a fifth of a second per 400k-row
    column), and the codes are just their positions."""
    if values.dtype != pl.String:
        return pd.Series(values.to_numpy(), dtype="object")
    present = values.drop_nulls()
    if _all_different(values):
        return pd.Categorical.from_codes(_positions(values), validate=False,
                                         categories=pd.Index(present.to_numpy(), dtype="object", copy=False))
    categories = present.unique().sort()
    codes = categories.search_sorted(values).to_numpy().astype("int32")
    if values.null_count():
        codes[values.is_null().to_numpy()] = -1
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories.to_list(), dtype="object"))


_VALIDATIONS: dict[tuple[str, str, int], object] = {}


def _validation(contract: C.Contract):
    """The contract's validation definition in the project context, set up once per process:
    building the suite and writing it to the file store costs about a second, the run itself
    does not need it again. Keyed by the context's root and the contract object (contracts are
    loaded once per process, so a changed contract means a new process and a fresh suite)."""
    import great_expectations as gx

    ctx = context()
    key = (str(ctx.root_directory), contract.kind, id(contract))
    vd = _VALIDATIONS.get(key)
    if vd is not None:
        return vd
    name = f"submission.{contract.kind}"
    suite = ctx.suites.add_or_update(build_suite(contract))
    try:  # updating the datasource would drop the other kinds' assets (and their cached definitions)
        ds = ctx.data_sources.get("submissions")
    except (KeyError, LookupError, ValueError):
        ds = ctx.data_sources.add_pandas("submissions")
    try:
        asset = ds.get_asset(contract.kind)
    except LookupError:
        asset = ds.add_dataframe_asset(contract.kind)
    try:
        bd = asset.get_batch_definition("whole")
    except (KeyError, LookupError, ValueError):
        bd = asset.add_batch_definition_whole_dataframe("whole")
    vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=bd, suite=suite))
    _VALIDATIONS[key] = vd
    return vd


def run_gate(parsed: Parsed, *, county_code: str, sha256: str, screen: bool = False) -> list[Problem]:
    """Validate with the contract's suite; the failures as problems (the Data Docs keep the run).

    The suite first runs with GX's cheapest result format (BOOLEAN_ONLY), which computes only
    what decides success: the row and unexpected counts, no unexpected values or row indexes. A
    file that passes every expectation has no problems, so that is the answer, and that run is
    what the Data Docs keep of it (each expectation passed); for a 10k-row ledger 40 ms instead of
    70 ms, a tenth of its intake (issue 7). A file with a failing expectation runs again with
    every unexpected row (COMPLETE), and its problems come from that run alone: the Data Docs keep
    both runs, as the mart gate's do. The problems are therefore the same as with one COMPLETE run.

    `screen=True` (reprocessing many archived files): that first run is not recorded either (no
    freshness check, no store write), so a clean file leaves no new validation result in the
    Data Docs."""
    vd = _validation(parsed.contract)
    frame = _frame(parsed)
    parameters = _parameters(parsed)
    first = (_screen(vd, frame, parameters) if screen
             else _recorded_run(vd, frame, parameters, result_format=_BOOLEAN_ONLY))
    if first.success:
        return _problems(first, parsed)
    result = _recorded_run(vd, frame, parameters)
    del frame
    return _problems(result, parsed)


_UNIQUE = "expect_column_values_to_be_unique"
# The kinds of expectation build_suite makes that judge each row by itself (with `mostly` at 1).
_ROW_WISE = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal",
})
_ROW_BY_ROW: dict[tuple[str, int], tuple[object, tuple[str, ...]] | None] = {}


def _row_by_row(contract: C.Contract) -> tuple[object, tuple[str, ...]] | None:
    """(a suite of the contract's expectations but uniqueness, the columns that must be unique).
    Every other expectation of the suite judges each row by itself (build_suite: nulls, sets,
    ranges, pairs, row conditions; no `mostly`), so the rows of several ledgers put together
    fail one exactly when one of the ledgers fails it. None if the suite holds an expectation of
    any other kind (one that judges the table, or a share of its rows): then ledgers cannot be
    screened together. Not stored in the GX project: it is only ever a screen (`screen_together`)."""
    key = (contract.kind, id(contract))
    if key not in _ROW_BY_ROW:
        suite = build_suite(contract, name=f"screen.{contract.kind}")  # never stored (build_suite)
        unique = tuple(e.column for e in suite.expectations if e.expectation_type == _UNIQUE)
        suite.expectations = [e for e in suite.expectations if e.expectation_type != _UNIQUE]
        row_wise = all(e.expectation_type in _ROW_WISE and getattr(e, "mostly", 1) == 1
                       for e in suite.expectations)
        _ROW_BY_ROW[key] = (suite, unique) if row_wise else None
    return _ROW_BY_ROW[key]


def _has_duplicates(column: pd.Series) -> bool:
    """What GX's uniqueness expectation finds in a pandas batch (ColumnValuesUnique: the column's
    present cells, `duplicated(keep=False)`), as a yes or no."""
    return bool(column[column.notnull()].duplicated().any())


FILE = "__file"  # screen_together: which ledger a row of the batch is from
_PARTIAL = 20


def screen_together(parsed: list[Parsed]) -> list[bool]:
    """Reprocessing an archive of many small ledgers: which of these ledgers (one kind, one
    month) pass the whole suite — decided by GX validations of all their rows together instead
    of one per ledger. A small ledger's validation is nearly all GX's fixed cost (~45 ms for 500
    rows as for 8,000 on the 2-core machine), so 8 ledgers screened together cost a few ms each.

    True only for a ledger that passes `run_gate(screen=True)`'s screen by itself, i.e. has no
    problem from the gate: its own columns that must be unique are checked on its own frame (as
    GX does), and the other expectations — each judges a row by itself (`_row_by_row`) — on the
    rows of all the ledgers still in, each row tagged with its ledger. The run lists up to 20
    unexpected rows per failing expectation with their ledger (SUMMARY format): a ledger named
    there fails; when every failing expectation's rows were all listed, the ledgers not named
    pass; otherwise the ledgers not named are screened again without those named. False means
    only "not known to pass": such a ledger goes through `run_gate` alone, which finds its
    problems. A validation that raises leaves the ledgers still in False (the gate alone will
    raise the same, for that ledger only); so does a suite with an expectation that does not
    judge rows one by one (`_row_by_row`)."""
    if not parsed:
        return []
    first = parsed[0]
    if any(p.contract is not first.contract or p.period != first.period for p in parsed):
        raise ValueError("screen_together: ledgers of one contract and one month only")
    screen = _row_by_row(first.contract)
    if screen is None:
        return [False] * len(parsed)
    suite, unique = screen
    vd, parameters = _validation(first.contract), _parameters(first)
    frames = [_frame(p) for p in parsed]
    verdict = [False] * len(parsed)
    left = [i for i, f in enumerate(frames) if not any(_has_duplicates(f[c]) for c in unique if c in f)]
    while left:
        batch = pd.concat([frames[i].assign(**{FILE: np.int32(i)}) for i in left], ignore_index=True, copy=False)
        result = _screen(vd, batch, parameters, suite=suite, result_format={
            "result_format": "SUMMARY", "unexpected_index_column_names": [FILE], "partial_unexpected_count": _PARTIAL})
        del batch
        failing: set[int] = set()
        complete = True
        for r in result.results:
            if r.success:
                continue
            if r.exception_info and r.exception_info.get("raised_exception"):
                return verdict
            listed = r.result.get("partial_unexpected_index_list") or []
            failing |= {int(item[FILE]) for item in listed}
            complete = complete and bool(listed) and r.result.get("unexpected_count") == len(listed)
        if not result.success and not failing:
            return verdict  # failed, naming no ledger: none is known to pass
        left = [i for i in left if i not in failing]
        if result.success or complete:
            for i in left:
                verdict[i] = True
            return verdict
    return verdict


def _parameters(parsed: Parsed) -> dict:
    """The suite's run-time parameters: the first and last day of the ledger's month."""
    start = datetime(parsed.period.year, parsed.period.month, 1)
    end = datetime.combine(period_end(parsed.period), datetime.min.time())
    return {"period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end)}


_COMPLETE = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
_BOOLEAN_ONLY = {"result_format": "BOOLEAN_ONLY"}


def _recorded_run(vd, frame: pd.DataFrame, parameters: dict, memoised: bool = True,
                  result_format: dict = _COMPLETE):
    """A validation GX records (its store, the Data Docs); by default with every unexpected row by
    its number."""
    with _configurations_memoised() if memoised else nullcontext():
        return vd.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format=result_format,
            run_id=None,
        )


def _screen(vd, frame: pd.DataFrame, parameters: dict, suite=None, result_format: dict | None = None):
    """The validation definition's suite (or `suite`) on its batch definition, as
    ValidationDefinition.run validates it (GX 1.24 core/validation_definition.py: the same v1
    Validator), by default with the BOOLEAN_ONLY result format: for a map expectation that is the
    row and unexpected counts only (expectation.py get_validation_dependencies returns before the
    value and index metrics), and success is decided from those counts either way. Nothing is
    stored."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(batch_definition=vd.batch_definition, batch_parameters={"dataframe": frame},
                          result_format=result_format or _BOOLEAN_ONLY)
    with _configurations_memoised():
        return validator.validate_expectation_suite(vd.suite if suite is None else suite, parameters)


@contextmanager
def _configurations_memoised():
    """Two things GX 1.24 recomputes from scratch many times a run, computed once per run.

    An expectation's `configuration` is built afresh (pydantic .dict(), the type name from the
    class name by regex) every time it is read, and a validation reads it about forty times per
    expectation (expectation.py `_get_domain_kwargs`, `_get_success_kwargs`,
    `get_validation_dependencies`): half the time of a small file's run. During a run it is
    built once per expectation object and reused while none of the object's fields has been
    reassigned (GX builds these objects from configurations and only reads them; the one writer
    of a result's configuration, `render()`, runs only for GX Cloud).

    A metric's identity (`IDDict.to_id`: its kwargs made JSON-serialisable, dumped and hashed)
    is computed for every MetricConfiguration GX makes — ~900 for an 18-expectation suite,
    most of them the same few dozen kwargs over and over. Kwargs made of plain values only
    (str, int, float, bool, None, lists, tuples and dicts of them) get their id once per run,
    looked up by their values and those values' types (the same values give the same JSON, so
    the same id); any other value (a row condition, a timestamp) is hashed as GX does.

    A row condition (required_when, only_when) is applied by `DataFrame.query` — parsing and
    evaluating the expression — for every metric of its expectation: a dozen times for the
    investment ledger's two conditional expectations. Within a run each distinct condition
    filters the batch once; every metric gets its own shallow copy of that result (pandas 3 copies on
    write, so none can change another's rows).

    The recorded result is the same as without (test_gate_memo compares them, result by
    result). One run at a time per process under the memo (the lock), so the class attributes
    are always put back as they were."""
    from great_expectations.core.id_dict import IDDict
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import Expectation

    with _MEMO_LOCK:
        plain = Expectation.__dict__["configuration"]
        plain_to_id = IDDict.__dict__["to_id"]
        plain_filter = PandasExecutionEngine.__dict__["_apply_row_condition_filter"]
        memo: dict[int, tuple[object, tuple, object]] = {}
        ids: dict[tuple, object] = {}
        filtered: dict[tuple, tuple[object, object]] = {}

        def configuration(self):
            fields = tuple(self.__dict__.values())
            hit = memo.get(id(self))
            if hit is not None and hit[0] is self and len(hit[1]) == len(fields) and all(
                    a is b for a, b in zip(hit[1], fields)):
                return hit[2]
            built = plain.fget(self)
            memo[id(self)] = (self, fields, built)  # holds self: its id is not reused meanwhile
            return built

        def to_id(self, id_keys=None, id_ignore_keys=None):
            key = None
            if id_keys is None and id_ignore_keys is None and type(self) is IDDict and not self.__dict__:
                key = _plain_key(self)
            if key is None:
                return plain_to_id(self, id_keys, id_ignore_keys)
            got = ids.get(key, ids)
            if got is ids:
                got = ids[key] = plain_to_id(self)
            return got

        def apply_row_condition_filter(self, data, row_condition, domain_kwargs):
            key = _condition_key(self, row_condition, domain_kwargs)
            if key is None:
                return plain_filter(self, data, row_condition, domain_kwargs)
            key = (id(data), key)
            hit = filtered.get(key)
            if hit is None or hit[0] is not data:
                hit = filtered[key] = (data, plain_filter(self, data, row_condition, domain_kwargs))  # holds data
            return hit[1].copy(deep=False)

        Expectation.configuration = property(configuration, doc=plain.__doc__)
        IDDict.to_id = to_id
        PandasExecutionEngine._apply_row_condition_filter = apply_row_condition_filter
        try:
            yield
        finally:
            Expectation.configuration = plain
            IDDict.to_id = plain_to_id
            PandasExecutionEngine._apply_row_condition_filter = plain_filter
            memo.clear()
            ids.clear()
            filtered.clear()


def _condition_key(engine, row_condition, domain_kwargs):
    """What a row condition filters by, as GX applies it to a pandas batch
    (PandasExecutionEngine._apply_row_condition_filter): the query text and its parser; None for
    anything else (GX then filters as usual)."""
    from great_expectations.expectations.row_conditions import (
        Condition,
        PassThroughCondition,
        deserialize_row_condition,
    )

    if isinstance(row_condition, dict):
        row_condition = deserialize_row_condition(row_condition)
    if isinstance(row_condition, PassThroughCondition):
        return "pass", row_condition.pass_through_filter
    if isinstance(row_condition, Condition):
        return "condition", engine.condition_to_filter_clause(row_condition)
    if isinstance(row_condition, str):
        return "text", row_condition, domain_kwargs.get("condition_parser")
    return None


_PLAIN = (str, int, float, bool, type(None))


def _plain_key(value):
    """`value` as a hashable key that tells apart every two values of different JSON, or None
    when it holds anything but plain values (see `_configurations_memoised`)."""
    kind = type(value)
    if kind is float:
        return kind, repr(value)  # 0.0 and -0.0 are equal but not the same JSON; every NaN is one
    if kind in _PLAIN:
        return kind, value
    if kind in (list, tuple):
        items = tuple(_plain_key(v) for v in value)
        return None if None in items else (kind, items)
    if kind is dict or kind is _id_dict_type():
        if not all(type(k) is str for k in value):
            return None
        items = tuple(sorted((k, _plain_key(v)) for k, v in value.items()))
        return None if any(v is None for _, v in items) else (dict, items)
    return None


@lru_cache(maxsize=1)
def _id_dict_type():
    from great_expectations.core.id_dict import IDDict

    return IDDict


_MEMO_LOCK = threading.Lock()


def _problems(result, parsed: Parsed) -> list[Problem]:
    contract = parsed.contract
    present = set(parsed.headers)
    already = {(p.row, p.column) for p in parsed.findings.errors}
    out: list[Problem] = []
    for r in result.results:
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX expectation failed to run: {r.exception_info.get('exception_message')}")
        if r.success:
            continue
        meta = r.expectation_config.meta
        col = contract.column(meta["column"])
        if col.name not in present and col.type != "id":
            continue  # a missing column is one file-level problem, reported by the reader
        if col.type == "id" and col.name not in present:
            continue
        header = parsed.headers.get(col.name, col.header)
        for item in r.result.get("unexpected_index_list") or []:
            row = int(item[ROW])
            if (row, header) in already:
                continue
            raw = parsed.raw.get((row, col.name))
            value = None if raw is None else X.nfkc(raw)
            message = _message(meta["rule"], col, contract, parsed, item, value)
            out.append(Problem(meta["rule"], message, row=row, column=header, value=value,
                               severity=meta["severity"]))
    # A cell already in error (e.g. 性别 “未知”, not an allowed value) gets no warning besides:
    # the clerk has to fix it anyway, and a second remark on it only confuses.
    wrong = already | {(p.row, p.column) for p in out if p.severity == "error"}
    out = [p for p in out if p.severity == "error" or (p.row, p.column) not in wrong]
    out.sort(key=lambda p: (p.row or 0, p.column or ""))
    return out


def _message(rule: str, col: C.Column, contract: C.Contract, parsed: Parsed, item: dict, value) -> str:
    h = parsed.headers.get(col.name, col.header)
    unit = f" {col.unit}" if col.unit else ""
    rule_obj = next((x for x in col.rules if x.check == rule), None)
    v = rule_obj.value if rule_obj else None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if rule == "required":
        return f"“{h}”为必填项，不能为空；请补填"
    if rule == "required_when":
        rw = col.required_when
        other = parsed.headers.get(rw.column, contract.column(rw.column).header)
        cond = f"填写了“{other}”" if rw.present else f"“{other}”为“{rw.equals}”"
        return f"{cond}时，“{h}”必填；请补填"
    if rule == "enum":
        return f"“{value}”不是“{h}”的可选值；请从以下选项中选择：{'、'.join(col.values)}"
    if rule == "unique":
        return f"“{h}”与本文件其他行重复；同一{h}只能填一行，请删除重复行或改正"
    if rule == "min":
        return f"“{h}”不能小于 {v}{unit}；请改正"
    if rule == "above":
        return f"“{h}”必须大于 {v}{unit}；请改正"
    if rule == "max":
        return f"“{h}”超过 {v}{unit}，请核对是否填错单位或多填了数字"
    if rule == "not_above_column":
        other = parsed.headers.get(rule_obj.column, contract.column(rule_obj.column).header)
        if rule_obj.is_error:
            return f"“{h}”不能大于“{other}”；请改正其中一个"
        return f"“{h}”大于“{other}”，请核对是否填错"
    if rule == "in_period":
        return f"日期不在报告月份 {parsed.period:%Y年%m月} 内；请核对日期或月份"
    if rule == "not_after_period":
        return f"日期晚于报告月份 {parsed.period:%Y年%m月} 的最后一天；请核对"
    if rule == "id_number":
        problem = item.get(check_columns(col).problem)
        return problem if "请" in problem else f"{problem}；请对照身份证核对后改正"
    if rule == "age_min":
        return f"按身份证号码计算，上岗时未满 {v} 周岁；请核对身份证号码或就业时间"
    if rule == "age_max":
        return f"按身份证号码计算，上岗时已超过 {v} 周岁，请核对"
    if rule == "gender_matches_id":
        return f"“{h}”与身份证号码中的性别不一致，请核对"
    if rule == "only_when":
        return f"类型不是“{rule_obj.equals}”时不应填写“{h}”，请核对"
    return f"“{h}”不符合规则 {rule}"
