"""Alembic environment: runs on the connection diaban hands over (see gis.store.db.migrate)."""

from alembic import context
from sqlalchemy import text

from gis.store.tables import Base

_POSTGIS_OWNED = {"spatial_ref_sys"}

connection = context.config.attributes["connection"]
#: Partitions of a partitioned table (the yearly `incidents_y2024` …) are the parent's storage, not models.
_PARTITIONS = set(connection.execute(text("SELECT relname FROM pg_class WHERE relispartition")).scalars())


def _include(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001 - alembic hook signature
    return not (type_ == "table" and (name in _POSTGIS_OWNED or name in _PARTITIONS))


context.configure(connection=connection, target_metadata=Base.metadata, include_object=_include)
with context.begin_transaction():
    context.run_migrations()
