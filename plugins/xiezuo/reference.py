"""Reference data of the city (reference-data.md): areas from the dbt seed, programme settings
from dbt_project.yml vars. The city is configuration; these files are its one place."""
from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import yaml

from .config import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Programme:
    city_code: str
    city_name: str
    partner_city: str
    start_month: date
    counties: tuple[Area, ...]

    def county(self, text: object) -> Area | None:
        """A county by its code, name or alias (NFKC, spaces ignored); None when it names none."""
        key = _norm(text)
        if not key:
            return None
        for a in self.counties:
            if key == a.code or key == a.name or key in a.aliases:
                return a
        return None

    def by_code(self, code: str) -> Area:
        return next(a for a in self.counties if a.code == code)


def _norm(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    s = "".join(s.split())
    if s.endswith(".0") and s[:-2].isdigit():  # a code typed into a numeric Excel cell
        s = s[:-2]
    return s


@lru_cache(maxsize=1)
def programme() -> Programme:
    vars_ = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    with open(DBT_PROJECT_DIR / "seeds" / "ref_areas.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    city = next(r for r in rows if r["area_level"] == "city")
    counties = tuple(
        Area(code=r["area_code"], name=r["area_name"], level=r["area_level"],
             aliases=tuple(a for a in r["aliases"].split("|") if a))
        for r in rows if r["area_level"] == "county"
    )
    y, m = (int(x) for x in str(vars_["programme_start_month"]).split("-"))
    return Programme(city_code=city["area_code"], city_name=city["area_name"],
                     partner_city=str(vars_["partner_city"]), start_month=date(y, m, 1),
                     counties=counties)
