"""Hotspot membership checked per statement: no per-row foreign key from hotspot_incidents to hotspots.

A detection run writes its clusters' incident lists in one statement; the foreign key's trigger looked up and
locked the hotspot once per row. The statement trigger of 0011 now also checks, once per statement, that every
hotspot the new rows name exists, and locks those hotspots (FOR KEY SHARE, as the foreign key did) so that none
is deleted before the transaction ends. Deleting a hotspot still takes its incident list with it (a statement
trigger instead of ON DELETE CASCADE).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CHECK_INCIDENTS = """
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = n.incident_id)) THEN
        RAISE EXCEPTION 'điểm nóng trỏ tới vụ việc không tồn tại (hotspot_incidents.incident_id not in incidents)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""
CHECK_HOTSPOTS = """
    WITH named AS (SELECT DISTINCT hotspot_id FROM new_rows),
         locked AS (SELECT h.id FROM hotspots h JOIN named n ON n.hotspot_id = h.id FOR KEY SHARE OF h)
    SELECT (SELECT count(*) FROM named) - (SELECT count(*) FROM locked) INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'danh sách vụ việc trỏ tới điểm nóng không tồn tại (hotspot_incidents.hotspot_id not in hotspots)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""


def _inserted(body: str, declare: str = "") -> str:
    return f"""
CREATE OR REPLACE FUNCTION hotspot_incidents_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
{declare}BEGIN{body}
    RETURN NULL;
END $$"""


def upgrade() -> None:
    op.execute("ALTER TABLE hotspot_incidents DROP CONSTRAINT IF EXISTS hotspot_incidents_hotspot_id_fkey")
    op.execute(_inserted(CHECK_HOTSPOTS + CHECK_INCIDENTS, "DECLARE missing bigint;\n"))
    op.execute("""
CREATE OR REPLACE FUNCTION hotspots_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM hotspot_incidents m USING old_rows o WHERE m.hotspot_id = o.id;
    RETURN NULL;
END $$""")
    op.execute(
        "CREATE TRIGGER hotspots_deleted AFTER DELETE ON hotspots REFERENCING OLD TABLE AS old_rows"
        " FOR EACH STATEMENT EXECUTE FUNCTION hotspots_deleted()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS hotspots_deleted ON hotspots")
    op.execute("DROP FUNCTION IF EXISTS hotspots_deleted()")
    op.execute(_inserted(CHECK_INCIDENTS))
    op.execute(
        "ALTER TABLE hotspot_incidents ADD CONSTRAINT hotspot_incidents_hotspot_id_fkey"
        " FOREIGN KEY (hotspot_id) REFERENCES hotspots (id) ON DELETE CASCADE"
    )
