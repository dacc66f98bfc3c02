"""The hotspots near a place (the command page's «Gần đây»: within 500 m, 1 km, 2 km of a searched place or of the
phone) are found through an index on the centroid as a geography, so that the distance is metres on the spheroid and
the search does not measure every hotspot of the country.

Revision ID: 0023
Revises: 0022
"""

from alembic import op
from sqlalchemy import text

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_hotspots_centroid_geography", "hotspots", [text("(centroid::geography)")], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_index("ix_hotspots_centroid_geography", table_name="hotspots")
