"""The Great Expectations project: a file context under XIEZUO_HOME, so every validation result
is kept and rendered in the Data Docs, with progress bars off."""
from __future__ import annotations

import logging
import os
from functools import lru_cache

from ..config import settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
INDEX_RESULTS = 1000


@lru_cache(maxsize=None)
def _context(root: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="file", project_root_dir=root)
    bars = ctx.variables.progress_bars
    globally = bars.get("globally") if isinstance(bars, dict) else getattr(bars, "globally", None)
    changed = False
    if globally is not False:
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        changed = True
    # The Data Docs index lists the latest results only: GX reads every listed result to build
    # it, so an index of all of them grew with every file ever received. Older pages stay.
    sites = ctx.variables.data_docs_sites or {}
    for site in sites.values():
        index = site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
        if index.get("validation_results_limit") != INDEX_RESULTS:
            index["validation_results_limit"] = INDEX_RESULTS
            ctx.variables.data_docs_sites = sites
            changed = True
    if changed:
        ctx.variables.save()
    return ctx


def context():
    root = settings().data_docs_dir
    root.mkdir(parents=True, exist_ok=True)
    return _context(str(root))


def data_docs_index() -> str:
    return str(settings().data_docs_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html")


def build_data_docs() -> None:
    context().build_data_docs()
