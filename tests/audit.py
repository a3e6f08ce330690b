"""The personal-data audit (issue 6 item 5): search every table, every file the platform wrote
(logs, receipts, Data Docs, dbt artifacts, Airflow's metadata DB) and captured output for any ID
number, name or phone taken from the inputs.

Built for thousands of values over hundreds of megabytes: instead of one substring search per
value, candidate tokens are pulled out of the text once (18-character ID shapes, 11-digit phone
shapes, windows of Chinese characters the length of a name) and looked up in sets. Text is
searched as UTF-8 and, where it holds JSON escapes (\\u5f20), once more with those decoded, so a
name written by `json.dumps(ensure_ascii=True)` is found too.

A finding names where and which kind of value, never the value itself: the audit's own output
must not be a leak (a masked form, first 6 and last 2 characters, is given for ID numbers).
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_ID = re.compile(r"(?=([0-9]{17}[0-9Xx]))")        # overlapping: an ID inside a longer digit run
_PHONE = re.compile(r"(?<![0-9])(1[0-9]{10})(?![0-9])")
_CJK = re.compile(r"[\u3400-\u9fff]+")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def texts_of(data: bytes, depth: int = 0) -> list[str]:
    """The ways a file's bytes can hold text: UTF-8; GB18030 when it is not UTF-8 (Excel's CSV);
    UTF-16 with a byte-order mark; and the members of a zip (.xlsx, .docx), which would otherwise
    be searched compressed."""
    out = [data.decode("utf-8", errors="ignore")]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        out.append(data.decode("gb18030", errors="ignore"))
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        out.append(data.decode("utf-16", errors="ignore"))
    if data[:4] == b"PK\x03\x04" and depth < 2:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist():
                    if info.file_size <= 200 * 1024 * 1024:
                        out += texts_of(z.read(info), depth + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError):
            pass
    return out


@dataclass
class Finding:
    where: str
    what: str       # "id_number" | "name" | "phone" | "other"
    hint: str       # a masked form, never the value

    def __str__(self) -> str:
        return f"{self.where}: {self.what} {self.hint}"


@dataclass(repr=False)
class PiiAudit:
    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)   # anything else, found by plain substring search

    def __post_init__(self) -> None:
        self.ids = {i.upper() for i in self.ids}
        self._name_lengths = sorted({len(n) for n in self.names})
        self.scanned_bytes = 0
        self.scanned_files = 0
        self.scanned_rows = 0

    def add_person(self, worker_id: str, name: str | None = None, phone: str | None = None) -> None:
        self.ids.add(worker_id.upper())
        if name:
            self.names.add(name)
            self._name_lengths = sorted({len(n) for n in self.names})
        if phone:
            self.phones.add(phone)

    def __repr__(self) -> str:  # never the values: a failing assertion prints this
        return (f"PiiAudit({len(self.ids)} ID numbers, {len(self.names)} names, {len(self.phones)} phones, "
                f"{len(self.others)} others)")

    @property
    def size(self) -> int:
        return len(self.ids) + len(self.names) + len(self.phones) + len(self.others)

    def leaks(self, text: str, where: str) -> list[Finding]:
        out: list[Finding] = []
        variants = [text] + ([_unescape(text)] if "\\u" in text else [])
        seen: set[tuple[str, str]] = set()
        for t in variants:
            for m in _ID.finditer(t):
                v = m.group(1).upper()
                if v in self.ids and ("id", v) not in seen:
                    seen.add(("id", v))
                    out.append(Finding(where, "id_number", v[:6] + "*" * 10 + v[-2:]))
            for m in _PHONE.finditer(t):
                v = m.group(1)
                if v in self.phones and ("phone", v) not in seen:
                    seen.add(("phone", v))
                    out.append(Finding(where, "phone", v[:3] + "*" * 8))
            if self.names:
                lo = self._name_lengths[0]
                for run in _CJK.findall(t):
                    if len(run) < lo:
                        continue
                    for n in self._name_lengths:
                        for i in range(len(run) - n + 1):
                            w = run[i:i + n]
                            if w in self.names and ("name", w) not in seen:
                                seen.add(("name", w))
                                out.append(Finding(where, "name", w[0] + "*" * (n - 1)))
            for s in self.others:
                if s in t and ("other", s) not in seen:
                    seen.add(("other", s))
                    out.append(Finding(where, "other", f"({len(s)} characters)"))
        return out

    # ---- where to look

    def scan_database(self, engine, exclude_schemas: tuple[str, ...] = ("pg_catalog", "information_schema"),
                      ) -> tuple[list[tuple[str, str]], list[Finding]]:
        """Every table and view of every schema, every row, every column (as JSON text)."""
        import sqlalchemy as sa

        found: list[Finding] = []
        with engine.connect() as c:
            relations = [tuple(r) for r in c.execute(sa.text(
                "select table_schema, table_name from information_schema.tables "
                "where not (table_schema = any(:ex)) order by 1, 2"), {"ex": list(exclude_schemas)})]
            for schema, table in relations:
                result = c.execute(sa.text(f'select row_to_json(t)::text from "{schema}"."{table}" t')
                                   .execution_options(yield_per=5000))
                for (doc,) in result:
                    self.scanned_rows += 1
                    self.scanned_bytes += len(doc)
                    found += self.leaks(doc, f"{schema}.{table}")
        return relations, found

    def scan_files(self, paths) -> list[Finding]:
        found: list[Finding] = []
        for p in paths:
            p = Path(p)
            if not p.is_file() or p.is_symlink():
                continue
            data = p.read_bytes()
            self.scanned_files += 1
            self.scanned_bytes += len(data)
            for text in texts_of(data):
                found += self.leaks(text, str(p))
        return found

    def scan_text(self, text: str, where: str) -> list[Finding]:
        self.scanned_bytes += len(text.encode("utf-8", errors="ignore"))
        return self.leaks(text, where)


def files_under(root: Path, *, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Every regular file under root, but those under an excluded folder (the archive)."""
    out: list[Path] = []
    root = Path(root)
    excluded = [Path(e).resolve() for e in exclude]
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).resolve()
        dirnames[:] = [d for d in dirnames if (here / d).resolve() not in excluded]
        out += [Path(dirpath) / f for f in filenames]
    return out
