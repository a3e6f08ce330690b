"""The BI role reads the published marts and nothing else (indicators.md, "Marts")."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.helpers import investment_ledger, write_xlsx

pytestmark = pytest.mark.integration


def test_bi_role_reads_marts_only(xz_env):
    from xiezuo.runner import run_pipeline
    from xiezuo.warehouse.database import engine

    write_xlsx(xz_env["inbox"] / "奈曼旗" / "奈曼旗2025年3月产业合作项目台账.xlsx", investment_ledger())
    assert run_pipeline().ok
    login = "bi_login_" + uuid.uuid4().hex[:8]
    with engine().begin() as c:
        c.exec_driver_sql(f"create role {login} login in role xiezuo_bi")
    bi = sa.create_engine(sa.engine.make_url(xz_env["url"]).set(username=login))
    try:
        with bi.connect() as c:
            assert c.execute(sa.text("select count(*) from marts.indicator_monthly where indicator_code = 'industry_investment'")).scalar() == 2
            assert c.execute(sa.text("select count(*) from marts.fct_investment")).scalar() == 3
        forbidden = ["select * from raw.submissions", "select * from raw.investment_rows",
                     "select * from staging.stg_raw__investment", "select * from reference.ref_areas",
                     "create table marts.x (i int)", "delete from marts.indicator_monthly",
                     "create table public.x (i int)", "create schema bi_own"]
        for sql in forbidden:
            with bi.connect() as c, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                c.execute(sa.text(sql))
    finally:
        bi.dispose()
        with engine().begin() as c:
            c.exec_driver_sql(f"drop role {login}")
