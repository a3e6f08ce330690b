"""The dbt source docs are generated from the contracts and the raw DDL; the committed file must be
what the generator writes (run `python -m xiezuo.contracts.dbt_sources` after a change)."""
from __future__ import annotations

import re


def test_committed_source_docs_are_up_to_date():
    from xiezuo.contracts.dbt_sources import TARGET, render

    assert TARGET.read_text(encoding="utf-8") == render(), \
        "dbt_project/models/staging/_src.yml is stale: run `python -m xiezuo.contracts.dbt_sources`"


def test_every_submissions_column_is_documented():
    from xiezuo.contracts.dbt_sources import SUBMISSION_COLUMNS
    from xiezuo.warehouse.raw import SUBMISSIONS_DDL

    table = re.search(r"create table if not exists raw\.submissions \((.*?)\n\);", SUBMISSIONS_DDL, re.S).group(1)
    declared = re.findall(r"^    (\w+) ", table, re.M)  # continuation lines are indented deeper
    added = re.findall(r"alter table raw\.submissions add column if not exists (\w+)", SUBMISSIONS_DDL)
    assert declared[0] == "submission_id" and "processed_at" in declared
    assert list(SUBMISSION_COLUMNS) == declared + added
