"""Operator settings (spec README, "Operator interface"): one place that reads the environment.

Every other module asks `settings()` instead of reading os.environ, so a default lives here only.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


@dataclass(frozen=True)
class Settings:
    home: Path
    inbox: Path
    database_url: str | None
    settle_seconds: float
    max_file_mb: float
    due_day: int

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "gx"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt" / "target"

    @property
    def report_dir(self) -> Path:
        return self.home / "report"

    @cached_property
    def pii_key(self) -> bytes:
        """XIEZUO_PII_KEY, or a random key generated once and kept under XIEZUO_HOME (0600)."""
        env = os.environ.get("XIEZUO_PII_KEY")
        if env:
            return env.encode("utf-8")
        path = self.home / "pii.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_hex(32).encode())
            finally:
                os.close(fd)
        return path.read_bytes().strip()


def settings() -> Settings:
    home = Path(os.environ.get("XIEZUO_HOME") or REPO_ROOT / ".xiezuo").resolve()
    inbox = Path(os.environ.get("XIEZUO_INBOX") or home / "inbox").resolve()
    return Settings(
        home=home,
        inbox=inbox,
        database_url=os.environ.get("XIEZUO_DATABASE_URL") or None,
        settle_seconds=float(os.environ.get("XIEZUO_SETTLE_SECONDS", "10")),
        max_file_mb=float(os.environ.get("XIEZUO_MAX_FILE_MB", "50")),
        due_day=int(os.environ.get("XIEZUO_DUE_DAY", "5")),
    )
