"""Least privilege (issue 6): intake writes raw only, transform reads raw and builds/publishes marts,
BI reads marts only. The pipeline really runs as those roles, and each is refused what is not its."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration

DENIED = "permission denied|must be owner"
FORBIDDEN = {
    "xiezuo_intake": [
        "select * from marts.indicator_monthly", "select * from staging.stg_raw__investment",
        "select * from reference.ref_areas", "update raw.submissions set rows = 0",
        "delete from raw.investment_rows", "truncate raw.investment_rows", "drop table raw.investment_rows",
        "alter table raw.submissions add column x int", "create table raw.x (i int)",
        "create schema intake_own", "create table public.x (i int)", "create temporary table t (i int)",
    ],
    "xiezuo_transform": [
        "insert into raw.submissions (original_name, status, receipt, received_at, processed_at) "
        "values ('x', 'accepted', '{}', now(), now())",
        "update raw.submissions set rows = 0", "delete from raw.investment_rows",
        "truncate raw.investment_rows", "drop table raw.investment_rows", "create table raw.x (i int)",
        "alter table raw.submissions add column x int", "create table public.x (i int)",
    ],
    "xiezuo_bi": [
        "select * from raw.submissions", "select * from raw.investment_rows",
        "select * from staging.stg_raw__investment", "insert into raw.submissions (original_name) values ('x')",
        "delete from marts.indicator_monthly", "create table marts.x (i int)", "create schema bi_own",
    ],
}
ALLOWED = {
    "xiezuo_intake": ["select count(*) from raw.submissions", "select count(*) from raw.investment_rows"],
    "xiezuo_transform": ["select count(*) from raw.investment_rows", "select count(*) from marts.indicator_monthly",
                         "create schema transform_probe", "drop schema transform_probe"],
    "xiezuo_bi": ["select count(*) from marts.indicator_monthly"],
}


def test_each_role_gets_its_own_work_and_nothing_else(xz_env):
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    write_xlsx(xz_env["inbox"] / "奈曼旗" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    assert run_pipeline().ok
    with engine().connect() as c:
        # The pipeline itself ran as the roles: who wrote the registration, who owns the marts.
        assert c.execute(sa.text("select distinct loaded_by from raw.submissions")).scalars().all() == ["xiezuo_intake"]
        owners = set(c.execute(sa.text(
            "select pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'marts' and c.relkind in ('r', 'v')")).scalars())
        assert owners == {"xiezuo_transform"}
        assert c.execute(sa.text(
            "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'marts'")).scalar() == "xiezuo_transform"

    for role, forbidden in FORBIDDEN.items():
        login = f"probe_{role.split('_')[1]}_{uuid.uuid4().hex[:8]}"
        with engine().begin() as c:
            c.exec_driver_sql(f"create role {login} login in role {role}")
        probe = sa.create_engine(sa.engine.make_url(xz_env["url"]).set(username=login))
        try:
            for sql in ALLOWED[role]:
                with probe.begin() as c:
                    c.execute(sa.text(sql))
            for sql in forbidden:
                with probe.connect() as c, pytest.raises(sa.exc.ProgrammingError, match=DENIED):
                    c.execute(sa.text(sql))
        finally:
            probe.dispose()
            with engine().begin() as c:
                c.exec_driver_sql(f"drop role {login}")
