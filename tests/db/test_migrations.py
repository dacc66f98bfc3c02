"""Migrations run up and down on a scratch database of the test cluster."""

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from gis.ops.postgres import ManagedCluster
from gis.store.db import alembic_config, migrate


@pytest.fixture
def scratch_url(cluster: ManagedCluster) -> Iterator[str]:
    """A fresh database owned by the owner role (who runs migrations)."""
    cluster.drop_database("migrations_scratch")
    cluster.create_database("migrations_scratch")
    yield cluster.owner_url("migrations_scratch")
    cluster.drop_database("migrations_scratch")


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
