"""The gate reads each expectation's configuration once per run instead of about forty times
(quality/gate.py `_configurations_memoised`). What GX records must not change because of it:
every rule case of the corpus validated both ways gives the same results, field by field, and
the memo leaves GX's class as it found it."""
from __future__ import annotations

from datetime import date

import pytest

from tests import corpus
from xiezuo.intake.parse import FileRejected, parse_file
from xiezuo.quality import gate
from xiezuo.reference import programme

RUN_META = ("run_id", "validation_time", "batch_markers", "active_batch_definition", "batch_spec")


def _recorded(result) -> dict:
    """A validation result as stored, less what differs between any two runs (time, run id)."""
    d = result.to_json_dict()
    d["meta"] = {k: v for k, v in d["meta"].items() if k not in RUN_META}
    d["meta"]["batch_markers"] = {k: v for k, v in result.meta["batch_markers"].items() if k != "ge_load_time"}
    return d


def parsed_rule_cases(folder):
    """(case, parsed file) for every rule case of the corpus the reader does not refuse."""
    for case in corpus.rule_cases():
        path = case.write(folder / "inbox" / case.id)
        try:
            yield case, parse_file(path, programme().county(case.folder), pii_key=b"k" * 32,
                                   today=date(2025, 12, 31))
        except FileRejected:
            continue


def test_memoised_configurations_record_what_plain_gx_records(tmp_path, monkeypatch):
    from great_expectations.expectations.expectation import Expectation

    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    plain_property = Expectation.__dict__["configuration"]
    compared = failing = 0
    for case, parsed in parsed_rule_cases(tmp_path):
        vd = gate._validation(parsed.contract)
        parameters = gate._parameters(parsed)
        plain = _recorded(gate._recorded_run(vd, gate._frame(parsed), parameters, memoised=False))
        memoised = _recorded(gate._recorded_run(vd, gate._frame(parsed), parameters))
        assert memoised == plain, case.id
        assert Expectation.__dict__["configuration"] is plain_property
        compared += 1
        failing += not plain["success"]
    # Enough of both to mean something: every kind's rules fail somewhere in the corpus.
    assert compared >= 60 and failing >= 40, (compared, failing)


def test_the_memo_is_put_back_when_the_run_fails():
    from great_expectations.expectations.expectation import Expectation

    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    plain_property = Expectation.__dict__["configuration"]
    plain_filter = PandasExecutionEngine.__dict__["_apply_row_condition_filter"]
    with pytest.raises(RuntimeError, match="boom"), gate._configurations_memoised():
        assert Expectation.__dict__["configuration"] is not plain_property
        assert PandasExecutionEngine.__dict__["_apply_row_condition_filter"] is not plain_filter
        raise RuntimeError("boom")
    assert Expectation.__dict__["configuration"] is plain_property
    assert PandasExecutionEngine.__dict__["_apply_row_condition_filter"] is plain_filter


def test_each_row_condition_filters_the_batch_once_per_run(tmp_path, monkeypatch):
    """GX applies a row condition for every metric of its expectation; in a run, each distinct
    condition queries the frame once (and the recorded results stay GX's: the test above)."""
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    plain_filter = PandasExecutionEngine.__dict__["_apply_row_condition_filter"]
    queried: list[str] = []

    def counted(self, data, row_condition, domain_kwargs):
        queried.append(str(gate._condition_key(self, row_condition, domain_kwargs)))
        return plain_filter(self, data, row_condition, domain_kwargs)

    monkeypatch.setattr(PandasExecutionEngine, "_apply_row_condition_filter", counted)
    seen = 0
    for case, parsed in parsed_rule_cases(tmp_path):
        vd = gate._validation(parsed.contract)
        conditions = [e for e in vd.suite.expectations if e.row_condition]
        if not conditions:
            continue
        queried.clear()
        gate._recorded_run(vd, gate._frame(parsed), gate._parameters(parsed), memoised=False)
        plain_calls = len(queried)
        queried.clear()
        gate._recorded_run(vd, gate._frame(parsed), gate._parameters(parsed))
        assert len(queried) == len(set(queried)) <= len(conditions) < plain_calls, case.id
        seen += 1
    assert seen >= 5


def test_metric_ids_are_memoised_by_plain_values_only():
    """Inside a run, kwargs of plain values get GX's own id once and keep it; kwargs holding
    anything else (here a timestamp) are hashed by GX every time; outside, GX's method is back."""
    import pandas as pd
    from great_expectations.core.id_dict import IDDict

    plain_to_id = IDDict.__dict__["to_id"]
    kwargs = {"batch_id": "b", "column": "jobs", "value_set": ["是", "否"], "strict": True, "n": 1}
    expected = IDDict(kwargs).to_id()
    with gate._configurations_memoised():
        first = IDDict(kwargs).to_id()
        assert first == expected and IDDict(dict(kwargs)).to_id() is first
        assert IDDict({**kwargs, "strict": 1}).to_id() != first  # True and 1: different JSON
        zero, minus_zero = IDDict({"column": "v", "min_value": 0.0}), IDDict({"column": "v", "min_value": -0.0})
        assert zero.to_id() != minus_zero.to_id() and minus_zero.to_id() == plain_to_id(minus_zero)
        stamp = {"column": "d", "max_value": pd.Timestamp("2025-03-31")}
        assert gate._plain_key(stamp) is None
        assert IDDict(stamp).to_id() == plain_to_id(IDDict(stamp))
    assert IDDict.__dict__["to_id"] is plain_to_id
