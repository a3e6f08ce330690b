"""Two runs never load the same file or publish at the same time.

- Publishing: the transform tasks run in the Airflow pool `xiezuo_publish` (1 slot), created on
  demand by `ensure_pools()` (the CLI and `xiezuo airflow` call it; DAG parsing never touches a
  database); and publish itself takes a PostgreSQL advisory lock (warehouse/transform.py).
- Loading: each file is processed under a PostgreSQL session advisory lock on its path; a file
  another run holds is left to that run, and a file already gone is skipped. A run also holds a
  county's lock while it processes that county's files (pipeline.pack_batches keeps them in one
  batch, oldest first): a county's files are never split between overlapping runs, so a
  correction is never processed before its original.
"""
from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

log = logging.getLogger(__name__)
PUBLISH_POOL = "xiezuo_publish"


def ensure_pools() -> None:
    """Create the publish pool in Airflow's metadata DB when missing (idempotent)."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        if session.query(Pool).filter(Pool.pool == PUBLISH_POOL).first() is None:
            session.add(Pool(pool=PUBLISH_POOL, slots=1, include_deferred=False,
                             description="xiezuo: one dbt build / mart gate / publish at a time"))


def _file_key(path: str) -> str:
    # A name whose bytes are not UTF-8 (surrogate escapes in Python) must still make a key.
    key = f"xiezuo.file.{Path(path).resolve()}"
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def process_batch_exclusive(batch: list[dict]) -> list[dict]:
    """pipeline.process_batch over the files of the batch this run could lock."""
    from ..intake.discover import task_path
    from ..pipeline import process_batch
    from ..warehouse.database import engine

    def try_lock(key: str) -> bool:
        got = conn.execute(sa.text("select pg_try_advisory_lock(hashtext(:k))"), {"k": key}).scalar()
        conn.commit()
        return bool(got)

    with engine().connect() as conn:
        mine, skipped = [], []
        counties: dict[str, bool] = {}
        try:
            for item in batch:
                path = task_path(item)
                # One run at a time per county, so its files are processed in the order they were
                # dropped (a correction after its original) even when two runs overlap.
                county = item.get("county_code")
                if county is not None:
                    if county not in counties:
                        counties[county] = try_lock(f"xiezuo.county.{county}")
                    if not counties[county]:
                        skipped.append(item["path"])
                        continue
                got = conn.execute(sa.text("select pg_try_advisory_lock(hashtext(:k))"),
                                   {"k": _file_key(path)}).scalar()
                conn.commit()
                if not got:
                    skipped.append(item["path"])
                    continue
                if not Path(path).exists() and not Path(path).is_symlink():
                    conn.execute(sa.text("select pg_advisory_unlock(hashtext(:k))"), {"k": _file_key(path)})
                    conn.commit()
                    skipped.append(item["path"])
                    continue
                mine.append(item)
            if skipped:
                log.info("left to another run (locked or already processed): %s", skipped)
            return process_batch(mine) if mine else []
        finally:
            conn.execute(sa.text("select pg_advisory_unlock_all()"))
            conn.commit()
