"""Which files in the inbox are submissions, and which of them have settled (submissions.md)."""
from __future__ import annotations

import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..reference import programme
from .receipts import RECEIPT_DIR

log = logging.getLogger(__name__)
UNASSIGNED = "_unassigned"
TEMP_SUFFIXES = (".tmp", ".part", ".crdownload")


@dataclass(frozen=True)
class Candidate:
    path: str                 # absolute path of the dropped file
    county_code: str | None   # None: at the inbox root or in a folder that names no county

    @property
    def name(self) -> str:
        return Path(self.path).name

    def to_task(self) -> dict:
        """As a task argument (Airflow XCom: JSON, sent as UTF-8). A name whose bytes are not
        UTF-8 — a GBK-named file on a share — is held by Python with surrogate escapes that no
        UTF-8 encoder takes, and would fail the whole listing; it travels as hex beside a
        readable form of the path."""
        try:
            self.path.encode("utf-8")
            return {"path": self.path, "county_code": self.county_code}
        except UnicodeEncodeError:
            raw = os.fsencode(self.path)
            return {"path": raw.decode("utf-8", "backslashreplace"), "county_code": self.county_code,
                    "path_hex": raw.hex()}

    @classmethod
    def from_task(cls, item: dict) -> "Candidate":
        return cls(path=task_path(item), county_code=item.get("county_code"))


def task_path(item: dict) -> str:
    """The real path of a task argument made by `Candidate.to_task`."""
    if item.get("path_hex"):
        return os.fsdecode(bytes.fromhex(item["path_hex"]))
    return item["path"]


def ignored(name: str) -> bool:
    """Hidden files, Excel lock files and temporary files are left untouched."""
    low = name.lower()
    return name.startswith(".") or name.startswith("~$") or low.endswith(TEMP_SUFFIXES)


def settled(path: Path, settle_seconds: float, now: float | None = None) -> bool:
    """Unchanged for settle_seconds: every write (and so every change of size) moves the
    modification time, so a file still being copied has a recent one and is left for later."""
    st = path.lstat()
    return (time.time() if now is None else now) - st.st_mtime >= settle_seconds


def discover(inbox: Path, settle_seconds: float) -> list[Candidate]:
    """Settled candidate files, oldest first. Unsettled ones are left for a later run."""
    if not inbox.is_dir():
        return []
    found: list[tuple[float, Candidate]] = []
    now = time.time()

    def consider(p: Path, county: str | None) -> None:
        if ignored(p.name):
            return
        try:
            if not settled(p, settle_seconds, now):
                return
            found.append((p.lstat().st_mtime, Candidate(str(p), county)))
        except FileNotFoundError:
            pass

    for entry in sorted(inbox.iterdir()):
        if entry.name in (UNASSIGNED, RECEIPT_DIR) or ignored(entry.name):
            continue
        if entry.is_symlink() or not entry.is_dir():
            consider(entry, None)
            continue
        area = programme().county(entry.name)
        for child in sorted(entry.iterdir()):
            if child.name == RECEIPT_DIR:
                continue
            mode = child.lstat().st_mode
            if stat.S_ISDIR(mode):
                if not ignored(child.name):
                    log.warning("ignoring sub-folder %s: only files directly in a county folder are read", child)
                continue
            consider(child, area.code if area else None)
    found.sort(key=lambda t: t[0])
    return [c for _, c in found]
