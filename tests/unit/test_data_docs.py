"""Data Docs are rendered incrementally: new validation results and changed suites get pages,
pages already rendered are left alone (a full build grew with every result ever kept)."""
from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

from tests import corpus
from xiezuo.intake.parse import parse_file
from xiezuo.quality import gate
from xiezuo.quality.context import INDEX_RESULTS, build_data_docs, context
from xiezuo.reference import programme


def _pages(site: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime_ns for p in (site / "validations").rglob("*.html")}


def test_only_new_results_are_rendered(tmp_path, monkeypatch):
    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    case = next(c for c in corpus.rule_cases() if c.status == "accepted" and c.fmt == "xlsx")
    path = case.write(tmp_path / "inbox")
    county = programme().county(case.folder)
    parsed = parse_file(path, county, pii_key=b"k" * 32, today=date(2025, 12, 31))
    ctx = context()
    site = Path(ctx.root_directory) / "uncommitted" / "data_docs" / "local_site"
    assert ctx.variables.data_docs_sites["local_site"]["site_index_builder"]["validation_results_limit"] == INDEX_RESULTS

    gate.run_gate(parsed, county_code=county.code, sha256="a")
    gate.run_gate(parsed, county_code=county.code, sha256="b")
    build_data_docs()
    first = _pages(site)
    assert len(first) == 2 and (site / "index.html").exists()
    suite_page = next((site / "expectations").rglob("*.html"))
    suite_rendered = suite_page.stat().st_mtime_ns

    time.sleep(0.01)
    gate.run_gate(parsed, county_code=county.code, sha256="c")
    build_data_docs()
    second = _pages(site)
    assert len(second) == 3
    assert {p: second[p] for p in first} == first  # the earlier pages were not rendered again
    assert suite_page.stat().st_mtime_ns == suite_rendered  # nor the unchanged suite

    build_data_docs()  # nothing new: nothing rendered (an empty list would mean "all" to GX)
    assert _pages(site) == second


def test_old_results_leave_the_store_unchanged_and_the_index_stays_bounded(tmp_path, monkeypatch):
    """GX lists and parses every result in its store on every build: beyond KEEP_RESULTS the
    oldest move, byte for byte, to validations_archive/; the index and the pages cover the latest
    INDEX_RESULTS."""
    from xiezuo.quality import context as qc

    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(qc, "KEEP_RESULTS", 3)
    monkeypatch.setattr(qc, "INDEX_RESULTS", 2)
    case = next(c for c in corpus.rule_cases() if c.status == "accepted" and c.fmt == "xlsx")
    path = case.write(tmp_path / "inbox")
    county = programme().county(case.folder)
    parsed = parse_file(path, county, pii_key=b"k" * 32, today=date(2025, 12, 31))
    ctx = context()
    store = Path(ctx.validation_results_store.store_backend.full_base_directory)
    archive = store.parent / "validations_archive"
    site = Path(ctx.root_directory) / "uncommitted" / "data_docs" / "local_site"
    written: dict[str, bytes] = {}
    for sha in "abcde":
        gate.run_gate(parsed, county_code=county.code, sha256=sha)
        time.sleep(0.01)
    for p in store.rglob("*.json"):
        written[str(p.relative_to(store))] = p.read_bytes()
    assert len(written) == 5
    build_data_docs()
    kept = {str(p.relative_to(store)) for p in store.rglob("*.json")}
    moved = {str(p.relative_to(archive)): p.read_bytes() for p in archive.rglob("*.json")}
    assert len(kept) == 3 and len(moved) == 2 and kept | set(moved) == set(written)
    assert all(written[k] == v for k, v in moved.items())  # unchanged, nothing lost
    newest = sorted(ctx.validation_results_store.list_keys(), key=lambda k: k.run_id.run_time)[-2:]
    pages = _pages(site)
    assert len(pages) == 2
    index = (site / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r'validations/[^"\s]+?\.html', index))
    assert linked == {str(p.relative_to(site)) for p in pages}, linked
    assert {p.parent.name for p in pages} == {k.run_id.to_tuple()[1] for k in newest}  # the latest two


def test_a_clean_file_keeps_its_first_run_and_a_failing_one_both(tmp_path, monkeypatch):
    """The gate's first run decides success from counts only (BOOLEAN_ONLY), recorded: that is
    what a clean file leaves in the Data Docs. A file with a failing expectation runs again with
    every unexpected row (COMPLETE), also recorded, and its problems are that run's: the same as
    a COMPLETE run's alone."""
    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path / "home"))
    ctx = context()
    store = ctx.validation_results_store

    def results_since(before: set) -> list:
        new = [k for k in store.list_keys() if k not in before]
        return [store.get(k) for k in sorted(new, key=lambda k: k.run_id.run_time)]

    for case in (next(c for c in corpus.rule_cases() if c.status == "accepted" and c.fmt == "xlsx"),
                 next(c for c in corpus.rule_cases() if c.status == "rejected" and c.fmt == "xlsx")):
        path = case.write(tmp_path / "inbox" / case.status)
        county = programme().county(case.folder)
        parsed = parse_file(path, county, pii_key=b"k" * 32, today=date(2025, 12, 31))
        before = set(store.list_keys())
        problems = gate.run_gate(parsed, county_code=county.code, sha256=case.status)
        kept = results_since(before)
        with_counts = [any("unexpected_count" in x.result for x in r.results) for r in kept]
        if case.status == "accepted":
            assert problems == [] and [r.success for r in kept] == [True] and with_counts == [False], kept
        else:
            assert [r.success for r in kept] == [False, False] and with_counts == [False, True]
            vd = gate._validation(parsed.contract)
            alone = gate._recorded_run(vd, gate._frame(parsed), gate._parameters(parsed))
            assert problems and problems == gate._problems(alone, parsed)
