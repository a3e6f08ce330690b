"""The Great Expectations project: a file context under XIEZUO_HOME, so every validation result
is kept and rendered in the Data Docs, with progress bars off."""
from __future__ import annotations

import logging
import os
from functools import lru_cache

from ..config import settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# The Data Docs index lists the latest INDEX_RESULTS validation results (GX reads each one it
# lists, ~2.5 ms apiece), and GX renders pages for those only: a burst of more results between
# two builds leaves its oldest without a page (the result itself is kept). GX's results store
# lists and parses every key it holds, several times a build (~0.5 ms a key), so it keeps the
# latest KEEP_RESULTS; older results move, unchanged, to gx/uncommitted/validations_archive/
# (their Data Docs pages stay where they are).
INDEX_RESULTS = 300
KEEP_RESULTS = 600


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
    # The index's limit (INDEX_RESULTS, above), set in the project's configuration.
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


class _Keys(list):
    """Resource identifiers for GX's incremental build, with a set's membership test: GX checks
    every key of its store against this list (`key not in resource_identifiers`), and a list of
    n keys made that n × (store size) comparisons of keys rebuilt from strings."""

    def __init__(self, keys):
        super().__init__(keys)
        self._tuples = {k.to_tuple() for k in keys}

    def __contains__(self, key) -> bool:
        return key.to_tuple() in self._tuples


def _archive(ctx, old: list) -> None:
    """Move these validation results out of GX's store, into validations_archive/ beside it
    (same relative paths, bytes unchanged)."""
    backend = ctx.validation_results_store.store_backend
    base = backend.full_base_directory
    archive = os.path.join(os.path.dirname(base.rstrip(os.sep)), "validations_archive")
    for key in old:
        rel = backend._convert_key_to_filepath(key.to_tuple())
        target = os.path.join(archive, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            os.replace(os.path.join(base, rel), target)
        except FileNotFoundError:  # another run's build moved it first
            pass


def build_data_docs() -> None:
    """Render the Data Docs pages that are missing or stale — the validation results since the
    last build (this gate's and the intake's), suites changed since — and the index. A full
    build re-rendered every result ever kept: its time grew with every file and every run."""
    from great_expectations.data_context.store.html_site_store import HtmlSiteStore
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    ctx = context()
    newest_first = sorted(ctx.validation_results_store.list_keys(), key=lambda k: k.run_id.run_time, reverse=True)
    _archive(ctx, newest_first[KEEP_RESULTS:])
    # GX renders pages for the latest INDEX_RESULTS results only (the index's limit applies to
    # its page builder too): asking for an older one would ask again on every build.
    results = newest_first[:INDEX_RESULTS]
    suites = ctx.expectations_store.list_keys()
    suite_files = ctx.expectations_store.store_backend
    for name, cfg in ctx.variables.data_docs_sites.items():
        html = HtmlSiteStore(store_backend=cfg["store_backend"], runtime_environment={"root_directory": ctx.root_directory})
        pages = html.store_backends[ValidationResultIdentifier]
        todo = [k for k in results if not pages.has_key(k.to_tuple())]
        suite_pages = html.store_backends[ExpectationSuiteIdentifier]
        for k in suites:
            page = os.path.join(suite_pages.full_base_directory, suite_pages._convert_key_to_filepath(k.to_tuple()))
            source = os.path.join(suite_files.full_base_directory, suite_files._convert_key_to_filepath(k.to_tuple()))
            if not os.path.exists(page) or os.path.getmtime(page) < os.path.getmtime(source):
                todo.append(k)
        if todo:  # (an empty list would mean "everything" to GX)
            ctx.build_data_docs(site_names=[name], resource_identifiers=_Keys(todo))
