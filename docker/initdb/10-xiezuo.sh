#!/bin/bash
# First start of the PostgreSQL container: databases and least-privilege roles.
#   airflow      Airflow's metadata DB (owner airflow)
#   xiezuo       the warehouse (owner xiezuo: the pipeline writes raw, builds and publishes marts)
#   metabase     Metabase's own application DB (owner metabase_app)
#   bi_reader    the BI login: a member of xiezuo_bi, which reads schema marts only (granted at
#                every publish by plugins/xiezuo/warehouse/roles.py)
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
create role airflow login password '${AIRFLOW_DB_PASSWORD}';
create role xiezuo login password '${XIEZUO_DB_PASSWORD}';
create role metabase_app login password '${BI_DB_PASSWORD}';
create role xiezuo_bi nologin;
create role bi_reader login password '${BI_DB_PASSWORD}' in role xiezuo_bi;
create database airflow owner airflow;
create database xiezuo owner xiezuo;
create database metabase owner metabase_app;
\connect xiezuo
revoke create on schema public from public;
revoke all on database xiezuo from public;
grant connect on database xiezuo to xiezuo_bi;
SQL
