"""Ledger contracts: the YAML files beside this module, loaded into typed objects.

Each `<kind>.yaml` declares a ledger's columns, Chinese headers, aliases, types, units and rules
once; the reader, the Great Expectations suite, the dbt source docs and the Excel template are all
derived from the objects built here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
KINDS = ("investment", "employment", "tourism", "livelihood", "consumer", "exchange")

TYPES = {"text", "enum", "bool", "date", "int", "count", "money", "numeric", "id", "personal"}
NUMERIC_TYPES = {"int", "count", "money", "numeric"}
CHECKS = {
    "unique", "min", "above", "max", "not_above_column", "in_period", "not_after_period",
    "id_number", "age_min", "age_max", "gender_matches_id", "only_when",
}
SEVERITIES = {"error", "warning"}

# Columns that are never "extra" even though no contract declares them (contracts.md).
COUNTY_HEADERS = ("旗县", "县区", "填报单位")
PERIOD_HEADERS = ("报告期", "填报月份")
IGNORED_HEADERS = ("序号",)


class ContractError(ValueError):
    """A contract file is malformed: a developer error, raised at load time."""


def normalise_header(text: object) -> tuple[str, str | None]:
    """NFKC, drop spaces and line breaks, take the unit out of (…); return (name, unit)."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\s+", "", s)
    unit = None
    m = re.search(r"\(([^()]*)\)\s*$", s)
    if m:
        unit = m.group(1) or None
        s = s[: m.start()]
    return s, unit


@dataclass(frozen=True)
class Rule:
    check: str
    severity: str
    value: float | None = None
    column: str | None = None
    equals: str | None = None
    at: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class RequiredWhen:
    column: str
    equals: str | None = None
    present: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    type: str
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    required: bool = False
    required_when: RequiredWhen | None = None
    values: tuple[str, ...] = ()
    description: str = ""
    rules: tuple[Rule, ...] = ()

    @property
    def is_personal(self) -> bool:
        return self.type in ("personal", "id")

    @property
    def stored(self) -> bool:
        """Whether the column reaches the warehouse (personal data never does in clear)."""
        return self.type != "personal"

    def names(self) -> list[str]:
        """Every normalised spelling the reader accepts for this column."""
        out = [normalise_header(self.header)[0], *(normalise_header(a)[0] for a in self.aliases)]
        return out + [self.name.lower()]


@dataclass(frozen=True)
class Contract:
    kind: str
    title: str
    keywords: tuple[str, ...]
    grain: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    @property
    def stored_columns(self) -> list[Column]:
        return [c for c in self.columns if c.stored]

    def header_index(self) -> dict[str, Column]:
        """Normalised header/alias/English name → column (case-insensitive for English)."""
        index: dict[str, Column] = {}
        for c in self.columns:
            for n in c.names():
                index.setdefault(n.lower(), c)
        return index


@dataclass(frozen=True)
class Units:
    families: dict[str, dict[str, float]]

    def family_of(self, unit: str) -> str | None:
        for fam, units in self.families.items():
            if unit in units:
                return fam
        return None

    def factor(self, given: str, target: str) -> float | None:
        """Multiplier turning a value in `given` into `target`; None when they don't convert."""
        fam = self.family_of(target)
        if fam is None or given not in self.families[fam]:
            return None
        return self.families[fam][given] / self.families[fam][target]


def _rule(raw: dict, where: str) -> Rule:
    check = raw.get("check")
    if check not in CHECKS:
        raise ContractError(f"{where}: unknown check {check!r}")
    sev = raw.get("severity", "error")
    if sev not in SEVERITIES:
        raise ContractError(f"{where}: severity must be error or warning, not {sev!r}")
    unknown = set(raw) - {"check", "severity", "value", "column", "equals", "at"}
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}")
    return Rule(check=check, severity=sev, value=raw.get("value"), column=raw.get("column"),
                equals=raw.get("equals"), at=raw.get("at"))


def _column(raw: dict, where: str) -> Column:
    unknown = set(raw) - {"name", "header", "aliases", "type", "unit", "required", "required_when",
                          "values", "description", "rules"}
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}")
    typ = raw.get("type")
    if typ not in TYPES:
        raise ContractError(f"{where}: unknown type {typ!r}")
    if typ == "enum" and not raw.get("values"):
        raise ContractError(f"{where}: an enum needs values")
    rw = raw.get("required_when")
    name = raw["name"]
    return Column(
        name=name,
        header=raw["header"],
        type=typ,
        aliases=tuple(raw.get("aliases") or ()),
        unit=raw.get("unit"),
        required=bool(raw.get("required", False)),
        required_when=RequiredWhen(**rw) if rw else None,
        values=tuple(str(v) for v in raw.get("values") or ()),
        description=raw.get("description", ""),
        rules=tuple(_rule(r, f"{where}.{name}") for r in raw.get("rules") or ()),
    )


@lru_cache(maxsize=None)
def load(kind: str) -> Contract:
    path = HERE / f"{kind}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if raw.get("kind") != kind:
        raise ContractError(f"{path.name}: kind must be {kind!r}")
    cols = tuple(_column(c, f"{path.name}") for c in raw["columns"])
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        raise ContractError(f"{path.name}: duplicate column names")
    for c in cols:
        refs = [r.column for r in c.rules if r.column] + [r.at for r in c.rules if r.at]
        if c.required_when:
            refs.append(c.required_when.column)
        for ref in refs:
            if ref not in names:
                raise ContractError(f"{path.name}.{c.name}: refers to unknown column {ref!r}")
    return Contract(kind=kind, title=raw["title"], keywords=tuple(raw["keywords"]),
                    grain=raw.get("grain", ""), columns=cols)


def available_kinds() -> list[str]:
    return [k for k in KINDS if (HERE / f"{k}.yaml").exists()]


def all_contracts() -> list[Contract]:
    return [load(k) for k in available_kinds()]


@lru_cache(maxsize=None)
def units() -> Units:
    raw = yaml.safe_load((HERE / "units.yaml").read_text(encoding="utf-8"))
    return Units(families={f: {u: float(v) for u, v in us.items()} for f, us in raw["families"].items()})
