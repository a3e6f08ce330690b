"""Locks (issue 5): a file another run holds is not loaded twice; the publish pool exists with
one slot once the metadata DB is prepared."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration


def test_a_file_locked_by_another_run_is_left_to_it(xz_env):
    from xiezuo.ops.locks import _file_key, process_batch_exclusive
    from xiezuo.pipeline import find_batches, prepare_warehouse
    from xiezuo.warehouse.database import engine

    prepare_warehouse()
    path = write_xlsx(xz_env["inbox"] / "150525" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    [batch] = find_batches()
    other = sa.create_engine(engine().url)  # "another run": its own session holds the file's lock
    with other.connect() as c:
        assert c.execute(sa.text("select pg_try_advisory_lock(hashtext(:k))"), {"k": _file_key(str(path))}).scalar()
        assert process_batch_exclusive(batch) == []
        assert path.exists(), "left in the inbox for the run that holds it"
        with engine().connect() as mine:
            assert mine.execute(sa.text("select count(*) from raw.submissions")).scalar() == 0
        c.execute(sa.text("select pg_advisory_unlock_all()"))
    other.dispose()
    [outcome] = process_batch_exclusive(batch)
    assert outcome["status"] == "accepted" and not path.exists()
    # The same batch again (a second run that listed the file before it left): nothing happens.
    assert process_batch_exclusive(batch) == []
    with engine().connect() as mine:
        assert mine.execute(sa.text("select count(*) from raw.submissions")).scalar() == 1
        assert mine.execute(sa.text("select count(*) from pg_locks where locktype = 'advisory' and database = "
                                 "(select oid from pg_database where datname = current_database())")).scalar() == 0


def test_publish_pool_has_one_slot(xz_env):
    from xiezuo.ops.locks import PUBLISH_POOL
    from xiezuo.orchestration import ensure_metadata_db

    ensure_metadata_db()
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as s:
        pool = s.query(Pool).filter(Pool.pool == PUBLISH_POOL).one()
        assert pool.slots == 1
