"""What the soak drops: N ledgers of all six kinds for every county, over many months, in both
folder-name forms (code, name or alias), ~10% bad, ~5% exact duplicates and ~5% corrections,
each with the verdict the pipeline must give. Deterministic for a seed.

Built from the demo's own generators (xiezuo.sample: records, clerk layouts, bytes), small:
a few to a few dozen rows each. Employment ledgers get generated workers with ID numbers (valid
GB 11643 check digits, unique over the whole soak), names and phones — the values the
personal-data audit then searches for everywhere.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta

from xiezuo import contracts as C
from xiezuo import sample as S
from xiezuo.reference import Area, programme

KINDS = S.KIND_ORDER
FIRST_MONTH = date(2024, 1, 1)
BAD_SHARE, DUP_SHARE, CORRECTION_SHARE = 0.10, 0.05, 0.05

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
_GIVEN = "琬琰瑾瑜璇珂琪瑶珺玥璟琛瑄璞琨瑛珏琮璐珩"  # rare in any other text: no false alarms


@dataclass
class Drop:
    index: int
    folder: str             # as dropped: the county's code, name or an alias
    name: str
    data: bytes = dataclasses.field(repr=False)  # personal data in clear: never printed
    role: str               # good | bad | duplicate | correction
    county_code: str
    kind: str
    period: date | None     # the month the pipeline must understand (None: it cannot tell)
    rows: int               # data rows (for the loaded ones)
    of: int | None = None   # duplicate / correction: index of the drop it repeats or corrects
    note: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def dropped_as(self) -> str:
        return f"{self.folder}/{self.name}"

    @property
    def slot(self) -> tuple[str, str, date | None]:
        return (self.county_code, self.kind, self.period)


@dataclass(repr=False)
class People:
    ids: set[str] = dataclasses.field(default_factory=set)
    names: set[str] = dataclasses.field(default_factory=set)
    phones: set[str] = dataclasses.field(default_factory=set)

    def __repr__(self) -> str:  # never the values: a failing assertion prints this
        return f"People({len(self.ids)} ID numbers, {len(self.names)} names, {len(self.phones)} phones)"


class _Workers:
    """Workers with IDs, names and phones unique over the whole soak."""

    def __init__(self, rnd: random.Random, people: People):
        self.rnd, self.people = rnd, people

    def _id(self, region: str, birth: date, male: bool) -> str:
        while True:
            ident = S.make_id(region, birth, self.rnd.randint(1, 499), male)
            if ident not in self.people.ids:
                self.people.ids.add(ident)
                return ident

    def _name(self) -> str:
        while True:
            name = self.rnd.choice(_SURNAMES) + self.rnd.choice(_GIVEN) + self.rnd.choice(_GIVEN)
            if name not in self.people.names:
                self.people.names.add(name)
                return name

    def _phone(self) -> str:
        while True:
            phone = f"1{self.rnd.choice('3578')}{self.rnd.randrange(10 ** 9):09d}"
            if phone not in self.people.phones:
                self.people.phones.add(phone)
                return phone

    def records(self, area: Area, period: date, n: int) -> list[dict]:
        r, out = self.rnd, []
        for _ in range(n):
            male = r.random() < 0.6
            birth = date(r.randint(1970, 2002), r.randint(1, 12), r.randint(1, 28))
            if r.random() < 0.55:
                dest, employer = r.choice(S._BEIJING_JOBS)
                etype = "转移就业"
            else:
                dest, employer, etype = r.choice(S._OTHER_JOBS)
                dest, employer = dest.format(county=area.name), employer.format(county=area.name)
            out.append({
                "worker_id": self._id(r.choice([area.code, "150502", "152326"]), birth, male),
                "name": self._name(), "phone": self._phone(), "gender": "男" if male else "女",
                "is_poverty_alleviated": r.choice(["是", "否"]), "destination": dest,
                "employment_type": etype, "employer": employer,
                "start_date": S.month_end(period) - timedelta(days=r.randint(0, 400)),
                "monthly_income": r.randrange(1800, 8000, 100),
            })
        return out

    def bad_id(self, good: str) -> str:
        wrong = good[:17] + next(c for c in "0123456789X" if c != good[17])
        self.people.ids.add(wrong)
        return wrong


def _records(kind: str, area: Area, period: date, rnd: random.Random, workers: _Workers) -> list[dict]:
    if kind == "investment":
        return S.investment_records(area, period, rnd, n_projects=rnd.randint(2, 12))
    if kind == "employment":
        return workers.records(area, period, rnd.randint(3, 30))
    return {"tourism": S.tourism_records, "livelihood": S.livelihood_records, "consumer": S.consumer_records,
            "exchange": S.exchange_records}[kind](area, period, rnd)


def _break(kind: str, recs: list[dict], period: date, rnd: random.Random, workers: _Workers) -> str:
    """One rule violation that rejects the file; returns what it is."""
    i = rnd.randrange(len(recs))
    after = S.month_end(period) + timedelta(days=2)
    if kind == "investment":
        recs[i]["arrived_investment"] = -35
        return "本月到位投资为负数"
    if kind == "employment":
        how = rnd.choice(["check", "young", "twice", "income"])
        if how == "check":
            recs[i]["worker_id"] = workers.bad_id(recs[i]["worker_id"])
            return "身份证号校验码不对"
        if how == "young":
            young = workers._id(recs[i]["worker_id"][:6], date(period.year - 15, 3, 3), True)
            recs[i].update(worker_id=young, gender="男")
            return "未满16周岁"
        if how == "twice" and len(recs) > 1:
            recs[(i + 1) % len(recs)]["worker_id"] = recs[i]["worker_id"]
            recs[(i + 1) % len(recs)]["gender"] = recs[i]["gender"]
            return "同一身份证号出现两次"
        recs[i]["monthly_income"] = 0
        return "月收入为0"
    if kind == "tourism":
        recs[i]["partner_visitors"] = recs[i]["visitors"] + 500
        return "北京游客多于接待游客"
    if kind == "livelihood":
        recs[i]["sector"] = "卫生"
        return "领域不是可选值"
    if kind == "consumer":
        recs[i]["sale_date"] = after
        return "销售日期在下个月"
    recs[i]["event_date"] = after
    return "日期在下个月"


def _style(kind: str, rnd: random.Random) -> S.Style:
    style = S._style(kind, rnd)
    return dataclasses.replace(style, omit=()) if kind == "employment" else style  # phones for the audit


def _file(area: Area, kind: str, period: date | None, recs: list[dict], style: S.Style, name: str,
          title: str | None = None) -> tuple[str, bytes]:
    grid_period = period or date(2025, 1, 1)
    rows, merges = S.grid(kind, area, grid_period, recs, style, title=title)
    sf = S.SampleFile("", f"{name}.{style.fmt}", rows, fmt=style.fmt, encoding=style.encoding, merges=merges)
    return sf.name, S.file_bytes(sf)


def plan(n: int, seed: int = 20261129, today: date | None = None) -> tuple[list[Drop], People]:
    """n drops, in the order they are dropped (a duplicate or correction always after the drop it
    repeats or corrects, and some way after it)."""
    rnd = random.Random(seed)
    prog = programme()
    today = today or date.today()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month: never "in the future"
    months = S.months(FIRST_MONTH, last)
    n_dup, n_corr = round(n * DUP_SHARE), round(n * CORRECTION_SHARE)
    n_primary = n - n_dup - n_corr
    n_bad = round(n * BAD_SHARE)
    slots = [(a, k, m) for a in prog.counties for k in KINDS for m in months]
    if n_primary > len(slots):
        raise ValueError(f"{n} files need more than {len(slots)} (county, kind, month) slots")
    chosen = rnd.sample(slots, n_primary)
    people = People()
    workers = _Workers(rnd, people)
    forms = {a.code: [a.code, a.name, *a.aliases] for a in prog.counties}

    drops: list[Drop] = []
    for i, (area, kind, period) in enumerate(chosen):
        title = C.load(kind).title
        recs = _records(kind, area, period, rnd, workers)
        style = _style(kind, rnd)
        folder = rnd.choice(forms[area.code])
        base = f"{area.name}{period.year}年{period.month}月{title}"
        if i < n_bad:
            if rnd.random() < 0.15:  # no month anywhere: a file-level rejection
                name, data = _file(area, kind, None, recs, style, f"{area.name}{title}-{i}",
                                   title=f"{area.name}{title}")
                drops.append(Drop(i, folder, name, data, "bad", area.code, kind, None, len(recs),
                                  note="文件名和标题都没有月份"))
                continue
            note = _break(kind, recs, period, rnd, workers)
            name, data = _file(area, kind, period, recs, style, base)
            drops.append(Drop(i, folder, name, data, "bad", area.code, kind, period, len(recs), note=note))
        else:
            name, data = _file(area, kind, period, recs, style, base)
            drops.append(Drop(i, folder, name, data, "good", area.code, kind, period, len(recs)))
    rnd.shuffle(drops)  # bad and good mixed

    follow: list[Drop] = []
    for j, orig in enumerate(rnd.sample(drops, n_dup)):
        folder = rnd.choice(forms[orig.county_code])  # maybe the county's other folder
        stem, ext = orig.name.rsplit(".", 1)
        follow.append(Drop(n_primary + j, folder, f"{stem}（重发）.{ext}", orig.data, "duplicate",
                           orig.county_code, orig.kind, orig.period, 0, of=orig.index))
    good = [d for d in drops if d.role == "good"]
    for j, orig in enumerate(rnd.sample(good, n_corr)):
        area = prog.by_code(orig.county_code)
        recs = _records(orig.kind, area, orig.period, rnd, workers)
        style = _style(orig.kind, rnd)
        name, data = _file(area, orig.kind, orig.period, recs, style,
                           f"{area.name}{orig.period.year}年{orig.period.month}月{C.load(orig.kind).title}（更正）")
        assert hashlib.sha256(data).digest() != hashlib.sha256(orig.data).digest()
        follow.append(Drop(n_primary + n_dup + j, rnd.choice(forms[area.code]), name, data, "correction",
                           area.code, orig.kind, orig.period, len(recs), of=orig.index))

    # Each follow-up goes somewhere after its original, at least a burst's worth of drops later.
    pos = {d.index: k for k, d in enumerate(drops)}
    keyed = [(float(k), d) for k, d in enumerate(drops)]
    gap = min(60, max(1, n_primary // 10))
    for d in follow:
        lo = min(pos[d.of] + gap, n_primary)
        keyed.append((rnd.uniform(lo, n_primary + 1), d))
    keyed.sort(key=lambda t: t[0])
    ordered = [d for _, d in keyed]
    names = [(d.folder, d.name) for d in ordered]
    assert len(set(names)) == len(names), "every drop has its own name in its folder"
    return ordered, people
