"""Alembic environment: runs on the connection diaban hands over (see gis.store.db.migrate)."""

from alembic import context

from gis.store.tables import Base

_POSTGIS_OWNED = {"spatial_ref_sys"}


def _include(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001 - alembic hook signature
    return not (type_ == "table" and name in _POSTGIS_OWNED)


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, include_object=_include)
with context.begin_transaction():
    context.run_migrations()
