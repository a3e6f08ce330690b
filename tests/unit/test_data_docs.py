"""Data Docs are rendered incrementally: new validation results and changed suites get pages,
pages already rendered are left alone (a full build grew with every result ever kept)."""
from __future__ import annotations

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
