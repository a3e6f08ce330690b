"""A text column the suite reads only for nullness and equality, whose cells all differ, reaches
GX as row labels instead of its text (quality/gate.py `_labels`). What GX records must not change
because of it: every rule case of the corpus validated both ways gives the same results, field by
field — all but the batch's data fingerprint, which is a hash of the frame GX was given."""
from __future__ import annotations

import pandas as pd

from tests.unit.test_gate_memo import _recorded, parsed_rule_cases
from xiezuo import contracts as C
from xiezuo.quality import gate


def _without_fingerprint(recorded: dict) -> dict:
    markers = dict(recorded["meta"]["batch_markers"])
    assert markers.pop("pandas_data_fingerprint")
    return {**recorded, "meta": {**recorded["meta"], "batch_markers": markers}}


def _labelled(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)
            and isinstance(frame[c].cat.categories, pd.RangeIndex)]


def test_labelled_columns_record_what_their_text_records(tmp_path, monkeypatch):
    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    compared = failing = labelled = 0
    for case, parsed in parsed_rule_cases(tmp_path):
        vd = gate._validation(parsed.contract)
        parameters = gate._parameters(parsed)
        frame = gate._frame(parsed)
        assert not _labelled(gate._frame(parsed, labels=False))
        text = _without_fingerprint(_recorded(gate._recorded_run(vd, gate._frame(parsed, labels=False), parameters)))
        labels = _without_fingerprint(_recorded(gate._recorded_run(vd, frame, parameters)))
        assert labels == text, case.id
        compared += 1
        failing += not text["success"]
        labelled += bool(_labelled(frame))
    # Enough of each to mean something: failing files, and files where labels were given.
    assert compared >= 60 and failing >= 40 and labelled >= 20, (compared, failing, labelled)


def test_only_nullness_and_equality_columns_are_labelled():
    """Each contract: a labelled column is the `column` of a not-null or unique expectation and
    named by no other expectation (e.g. the project code); an enum, a range, a pair or a row
    condition keeps a column's text."""
    seen = set()
    for contract in C.all_contracts():
        labelled = gate._labelled_columns(contract)
        for e in gate._validation(contract).suite.expectations:
            kwargs = e.configuration.to_json_dict()["kwargs"]
            named = {n for n in gate._frame_columns(contract) if f'"{n}"' in str(kwargs).replace("'", '"')}
            if e.expectation_type not in ("expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"):
                assert not named & labelled, (contract.kind, e.expectation_type, named & labelled)
            elif kwargs.get("row_condition"):
                assert not (named - {kwargs["column"]}) & labelled, (contract.kind, kwargs)
        seen |= {(contract.kind, n) for n in labelled}
    assert ("investment", "project_code") in seen and ("investment", "project_type") not in seen, seen
