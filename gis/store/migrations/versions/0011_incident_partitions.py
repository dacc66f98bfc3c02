"""Incidents partitioned by local calendar year; refs unique through `incident_refs`; metric coordinates stored
once; referential checks per statement instead of per row.

- `incidents` becomes `PARTITION BY RANGE (occurred_at)`, one partition per Hải Phòng calendar year
  (`incidents_y2024`) and a default partition for rows of a year that has none yet; the existing rows move
  into their years, stored month by month and, inside a month, along a Z-order curve (geohash order, as the
  import writes them), so that a map window over a period reads few pages.
- A unique key must include the partition key: `ref` is kept unique across partitions by `incident_refs`, which
  statement triggers on `incidents` keep in step (insert, delete; a changed ref by a row trigger that fires only
  when a ref changes). The primary key is (id, occurred_at).
- `x_m`/`y_m` are plain columns: two generated columns cost two ST_Transform per row. The import fills them from
  one; a row trigger fills them for any other writer that does not (its WHEN clause costs the import nothing),
  and a CHECK ties them to the point.
- No per-row foreign-key triggers: incidents → import_runs (10.8 s of a million-row import) and
  hotspot_incidents → incidents (impossible on a partitioned table) are checked set-based once per statement,
  deleting an incident drops it from hotspots, and a run still referenced cannot be deleted.

Revision ID: 0011
Revises: 0010
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Facts, written here as they were: Hải Phòng's time zone and the metric CRS (UTM zone 48N).
LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
METRIC_SRID = 32648

#: Columns of incidents in table order (old and new tables alike).
COLUMNS = (
    "id, ref, occurred_at, kind, substance, quantity_g, arrested, source, commune_code, assignment, import_id,"
    " geom, x_m, y_m, legacy_code, period_code, candidate_codes"
)
CREATE = """
CREATE TABLE incidents (
    id bigint NOT NULL DEFAULT nextval('incidents_id_seq'),
    ref varchar(64) NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind varchar(32) NOT NULL,
    substance text,
    quantity_g float8,
    arrested integer,
    source text,
    commune_code varchar(16),
    assignment varchar(16) NOT NULL,
    import_id integer,
    geom geometry(Point, 4326),
    x_m float8,
    y_m float8,
    legacy_code varchar(16),
    period_code varchar(16),
    candidate_codes varchar(16)[],
    CONSTRAINT incidents_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT ck_incidents_metric CHECK ((geom IS NULL) = (x_m IS NULL) AND (geom IS NULL) = (y_m IS NULL))
) PARTITION BY RANGE (occurred_at)
"""
#: CHECK constraints carried over from the old table (by name), before the old table is dropped.
CARRIED_CHECKS = (
    "ck_incidents_kind",
    "ck_incidents_assignment",
    "ck_incidents_point",
    "ck_incidents_ambiguous",
    "ck_incidents_quantity",
    "ck_incidents_arrested",
)
INDEXES = (
    "CREATE INDEX idx_incidents_geom ON incidents USING gist (geom)",
    "CREATE INDEX ix_incidents_commune_time ON incidents (commune_code, occurred_at)",
    "CREATE INDEX ix_incidents_occurred_at ON incidents (occurred_at)",
)
FUNCTIONS = (
    f"""
CREATE OR REPLACE FUNCTION incidents_metric() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p geometry := ST_Transform(NEW.geom, {METRIC_SRID});
BEGIN
    NEW.x_m := ST_X(p);
    NEW.y_m := ST_Y(p);
    RETURN NEW;
END $$""",
    """
CREATE OR REPLACE FUNCTION incidents_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO incident_refs (ref) SELECT ref FROM new_rows;
    IF EXISTS (SELECT 1 FROM (SELECT DISTINCT import_id FROM new_rows WHERE import_id IS NOT NULL) n
               WHERE NOT EXISTS (SELECT 1 FROM import_runs r WHERE r.id = n.import_id)) THEN
        RAISE EXCEPTION 'vụ việc trỏ tới lần nhập không tồn tại (incidents.import_id not in import_runs)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE OR REPLACE FUNCTION incidents_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM incident_refs r USING old_rows o WHERE r.ref = o.ref;
    DELETE FROM hotspot_incidents h USING old_rows o WHERE h.incident_id = o.id;
    RETURN NULL;
END $$""",
    """
CREATE OR REPLACE FUNCTION incidents_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE incident_refs, hotspot_incidents;
    RETURN NULL;
END $$""",
    """
CREATE OR REPLACE FUNCTION incidents_ref_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE incident_refs SET ref = NEW.ref WHERE ref = OLD.ref;
    RETURN NEW;
END $$""",
    """
CREATE OR REPLACE FUNCTION import_runs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM incidents i JOIN old_rows o ON i.import_id = o.id) THEN
        RAISE EXCEPTION 'lần nhập còn vụ việc, không xóa được (import run still referenced by incidents)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE OR REPLACE FUNCTION hotspot_incidents_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = n.incident_id)) THEN
        RAISE EXCEPTION 'điểm nóng trỏ tới vụ việc không tồn tại (hotspot_incidents.incident_id not in incidents)'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$""",
)
TRIGGERS = (
    # WHEN is evaluated without calling the function: the import, which fills x_m/y_m itself, pays nothing.
    "CREATE TRIGGER incidents_metric_insert BEFORE INSERT ON incidents FOR EACH ROW"
    " WHEN (NEW.geom IS NOT NULL AND (NEW.x_m IS NULL OR NEW.y_m IS NULL)) EXECUTE FUNCTION incidents_metric()",
    "CREATE TRIGGER incidents_metric_update BEFORE UPDATE OF geom ON incidents FOR EACH ROW"
    " WHEN (NEW.geom IS DISTINCT FROM OLD.geom) EXECUTE FUNCTION incidents_metric()",
    "CREATE TRIGGER incidents_inserted AFTER INSERT ON incidents REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION incidents_inserted()",
    "CREATE TRIGGER incidents_deleted AFTER DELETE ON incidents REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION incidents_deleted()",
    "CREATE TRIGGER incidents_truncated AFTER TRUNCATE ON incidents FOR EACH STATEMENT"
    " EXECUTE FUNCTION incidents_truncated()",
    "CREATE TRIGGER incidents_ref_changed AFTER UPDATE OF ref ON incidents FOR EACH ROW"
    " WHEN (NEW.ref IS DISTINCT FROM OLD.ref) EXECUTE FUNCTION incidents_ref_changed()",
    "CREATE TRIGGER incidents_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incidents"
    " FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()",
    "CREATE TRIGGER import_runs_deleted AFTER DELETE ON import_runs REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION import_runs_deleted()",
    "CREATE TRIGGER hotspot_incidents_inserted AFTER INSERT ON hotspot_incidents REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION hotspot_incidents_inserted()",
)
DROPPED_TRIGGERS = (
    ("incidents_metric_insert", "incidents"),
    ("incidents_metric_update", "incidents"),
    ("incidents_inserted", "incidents"),
    ("incidents_deleted", "incidents"),
    ("incidents_truncated", "incidents"),
    ("incidents_ref_changed", "incidents"),
    ("import_runs_deleted", "import_runs"),
    ("hotspot_incidents_inserted", "hotspot_incidents"),
)


def _year_start(year: int) -> str:
    return datetime(year, 1, 1, tzinfo=ZoneInfo(LOCAL_TZ_NAME)).isoformat()


def upgrade() -> None:
    op.execute("ALTER TABLE incidents DROP CONSTRAINT IF EXISTS incidents_import_id_fkey")
    op.execute("ALTER TABLE hotspot_incidents DROP CONSTRAINT IF EXISTS hotspot_incidents_incident_id_fkey")
    op.execute("DROP TRIGGER IF EXISTS incidents_data_version ON incidents")
    op.execute("ALTER SEQUENCE incidents_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE incidents RENAME TO incidents_0005")
    op.execute("ALTER TABLE incidents_0005 DROP CONSTRAINT incidents_pkey, DROP CONSTRAINT incidents_ref_key")
    for index in ("idx_incidents_geom", "ix_incidents_commune_time", "ix_incidents_occurred_at"):
        op.execute(f"DROP INDEX {index}")
    op.execute(CREATE)
    connection = op.get_bind()
    checks = dict(
        connection.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'incidents_0005'::regclass AND contype = 'c'"
        ).all()
    )
    for name in CARRIED_CHECKS:
        op.execute(f"ALTER TABLE incidents ADD CONSTRAINT {name} {checks[name]}")
    op.execute("ALTER SEQUENCE incidents_id_seq OWNED BY incidents.id")
    for statement in INDEXES:
        op.execute(statement)
    op.execute("CREATE TABLE incidents_default PARTITION OF incidents DEFAULT")
    years = connection.exec_driver_sql(
        f"SELECT DISTINCT extract(year FROM occurred_at AT TIME ZONE '{LOCAL_TZ_NAME}')::int FROM incidents_0005"
    ).scalars()
    for year in sorted(years):
        op.execute(
            f"CREATE TABLE incidents_y{year} PARTITION OF incidents"
            f" FOR VALUES FROM ('{_year_start(year)}') TO ('{_year_start(year + 1)}')"
        )
    op.execute("CREATE TABLE incident_refs (ref varchar(64) NOT NULL, CONSTRAINT incident_refs_pkey PRIMARY KEY (ref))")
    op.execute("INSERT INTO incident_refs (ref) SELECT ref FROM incidents_0005")
    # Month by month, and along a Z-order curve inside a month: geohash order is the import's order (see
    # gis.store.incident_partitions.z_order_key).
    op.execute(
        f"INSERT INTO incidents ({COLUMNS}) SELECT {COLUMNS} FROM incidents_0005"
        f" ORDER BY date_trunc('month', occurred_at AT TIME ZONE '{LOCAL_TZ_NAME}'), ST_GeoHash(geom), id"
    )
    op.execute("DROP TABLE incidents_0005")
    for statement in FUNCTIONS:
        op.execute(statement)
    # The rows moved above already have their refs; the triggers watch every later write.
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Back to one table with a unique ref, generated metric columns and foreign keys."""
    for name, table in DROPPED_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in (
        "incidents_metric",
        "incidents_inserted",
        "incidents_deleted",
        "incidents_truncated",
        "incidents_ref_changed",
        "import_runs_deleted",
        "hotspot_incidents_inserted",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TRIGGER IF EXISTS incidents_data_version ON incidents")
    op.execute("ALTER SEQUENCE incidents_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE incidents RENAME TO incidents_0006")
    for index in ("incidents_pkey", "idx_incidents_geom", "ix_incidents_commune_time", "ix_incidents_occurred_at"):
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_0006")
    op.execute(f"""
    CREATE TABLE incidents (
        id bigint NOT NULL DEFAULT nextval('incidents_id_seq') PRIMARY KEY,
        ref varchar(64) NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL,
        kind varchar(32) NOT NULL,
        substance text,
        quantity_g float8,
        arrested integer,
        source text,
        commune_code varchar(16),
        assignment varchar(16) NOT NULL,
        import_id integer REFERENCES import_runs (id),
        geom geometry(Point, 4326),
        x_m float8 GENERATED ALWAYS AS (ST_X(ST_Transform(geom, {METRIC_SRID}))) STORED,
        y_m float8 GENERATED ALWAYS AS (ST_Y(ST_Transform(geom, {METRIC_SRID}))) STORED,
        legacy_code varchar(16),
        period_code varchar(16),
        candidate_codes varchar(16)[]
    )""")
    connection = op.get_bind()
    checks = dict(
        connection.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'incidents_0006'::regclass AND contype = 'c'"
        ).all()
    )
    for name in CARRIED_CHECKS:
        op.execute(f"ALTER TABLE incidents ADD CONSTRAINT {name} {checks[name]}")
    op.execute("ALTER SEQUENCE incidents_id_seq OWNED BY incidents.id")
    kept = COLUMNS.replace(" x_m, y_m,", "")
    op.execute(f"INSERT INTO incidents ({kept}) SELECT {kept} FROM incidents_0006 ORDER BY id")
    op.execute("DROP TABLE incidents_0006")
    op.execute("DROP TABLE incident_refs")
    for statement in INDEXES:
        op.execute(statement)
    op.execute(
        "ALTER TABLE hotspot_incidents ADD CONSTRAINT hotspot_incidents_incident_id_fkey"
        " FOREIGN KEY (incident_id) REFERENCES incidents (id) ON DELETE CASCADE"
    )
    op.execute(
        "CREATE TRIGGER incidents_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incidents"
        " FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
    )
