"""Migrations run up and down on a scratch database of the test cluster."""

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from gis.ops.postgres import ManagedCluster
from gis.store.db import alembic_config, migrate


@pytest.fixture
def scratch_url(cluster: ManagedCluster) -> Iterator[str]:
    url = cluster.url()
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS migrations_scratch")
        conn.execute("CREATE DATABASE migrations_scratch")
    yield url.rsplit("/", 1)[0] + "/migrations_scratch"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS migrations_scratch WITH (FORCE)")


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    engine = create_engine(scratch_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"admin_units", "admin_unit_parts", "incidents", "commune_indicators", "import_runs"} <= tables
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"spatial_ref_sys", "alembic_version"}
    migrate(engine)
    with engine.begin() as conn:
        command.check(alembic_config(conn))  # the models and the migrations agree
    engine.dispose()
