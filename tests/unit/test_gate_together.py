"""Reprocessing screens several small ledgers of one kind and month with one GX validation
(quality/gate.py `screen_together`). Its verdict for each ledger must be what screening that
ledger alone gives: every rule case of the corpus, screened with the others of its kind and month
(most of them failing, a few passing), in groups of every size, and beside copies of itself."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest

from tests.unit.test_gate_memo import parsed_rule_cases
from xiezuo.quality import gate


@pytest.fixture(scope="module")
def groups(tmp_path_factory):
    """(kind, month) → [(case id, parsed, passes the screen alone)]."""
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("together")
    mp.setenv("XIEZUO_HOME", str(tmp / "home"))
    out = defaultdict(list)
    for case, parsed in parsed_rule_cases(tmp):
        alone = gate._screen(gate._validation(parsed.contract), gate._frame(parsed), gate._parameters(parsed))
        out[(parsed.kind, parsed.period)].append((case.id, parsed, alone.success))
    yield out
    mp.undo()


def _check(members) -> None:
    verdicts = gate.screen_together([p for _, p, _ in members])
    assert verdicts == [alone for _, _, alone in members], [
        (case, alone, got) for (case, _, alone), got in zip(members, verdicts) if alone != got]


def test_each_ledger_gets_the_verdict_it_gets_alone(groups):
    kinds = {kind for kind, _ in groups}
    assert len(kinds) == 6, kinds
    passing = sum(alone for members in groups.values() for *_, alone in members)
    failing = sum(not alone for members in groups.values() for *_, alone in members)
    assert passing >= 6 and failing >= 40, (passing, failing)  # both, in every kind
    rnd = random.Random(7)
    for members in groups.values():
        _check(members)  # all of a kind's cases at once
        for size in (2, 3, 8):  # and groups as reprocessing makes them, each mixed differently
            for _ in range(6):
                _check(rnd.sample(members, min(size, len(members))))


def test_ledgers_that_pass_together_pass_even_where_their_codes_meet(groups):
    """A code unique within each ledger may be in every ledger (another county's, another
    version of the same file): uniqueness is each ledger's own."""
    for members in groups.values():
        clean = [m for m in members if m[2]]
        assert clean
        _check(clean * 4)


def test_a_ledger_failing_many_rows_does_not_hide_another_failing_few(groups, monkeypatch):
    """GX lists up to 20 failing rows per expectation: when one expectation fails more rows than
    that, the ledgers it did not name are screened again, and get the verdict they get alone."""
    runs = []
    screen = gate._screen
    monkeypatch.setattr(gate, "_screen", lambda *a, **kw: runs.append(1) or screen(*a, **kw))
    for members in groups.values():
        failing = [m for m in members if not m[2]]
        clean = [m for m in members if m[2]]
        runs.clear()
        _check([failing[0]] * (gate._PARTIAL + 5) + failing[1:] + clean)
        assert len(runs) >= 2, "the first run named every failing ledger: this test proves nothing"


def test_a_suite_that_judges_more_than_single_rows_screens_nothing_together(groups, monkeypatch):
    """An expectation on the table (a row count), or on a share of the rows (`mostly`), is not
    decided row by row: every ledger is then left to the gate alone."""
    import great_expectations.expectations as gxe

    build = gate.build_suite
    members = next(iter(groups.values()))
    contract = members[0][1].contract
    for extra in (gxe.ExpectTableRowCountToBeBetween(min_value=1),
                  gxe.ExpectColumnValuesToNotBeNull(column=gate.ROW, mostly=0.5)):
        def with_extra(c, name=None, extra=extra):
            suite = build(c, name=name)
            suite.expectations.append(extra)
            return suite

        monkeypatch.setattr(gate, "build_suite", with_extra)
        monkeypatch.setattr(gate, "_ROW_BY_ROW", {})
        assert gate._row_by_row(contract) is None
        assert gate.screen_together([p for _, p, _ in members]) == [False] * len(members)
