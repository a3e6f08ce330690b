"""The indicator definitions, read from their one place: dbt_project.yml vars.indicators."""
from __future__ import annotations

from functools import lru_cache

import yaml

from .config import DBT_PROJECT_DIR


@lru_cache(maxsize=1)
def indicators() -> list[dict]:
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["indicators"]


def doubling_indicators() -> list[dict]:
    return [i for i in indicators() if i.get("doubling")]
