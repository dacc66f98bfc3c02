"""PostGIS tables (SQLAlchemy 2 + GeoAlchemy2). Geometry is stored in EPSG:4326 with GiST indexes."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gis.store.sql import LOCAL_TODAY, current_unit, in_values, reassigned_from
from models.vocabulary import (
    POINT_ASSIGNMENTS,
    PROVINCIAL_ROLES,
    TASK_CLOSED,
    WGS84_SRID,
    AdminAction,
    Assignment,
    Category,
    DraftEnd,
    HotspotKind,
    HotspotStatus,
    IncidentKind,
    IndicatorMethod,
    Level,
    LineageKind,
    Role,
    RunStatus,
    SessionEnd,
    TaskKind,
    TaskPriority,
    TaskState,
    UnitKind,
)

SRID = WGS84_SRID
#: An incident has metric coordinates exactly when it has a point.
METRIC_CHECK = "(geom IS NULL) = (x_m IS NULL) AND (geom IS NULL) = (y_m IS NULL)"
_in = in_values


class Base(DeclarativeBase):
    """Declarative base of all diaban tables."""


class Province(Base):
    """A province or centrally-run city (34 since 1 July 2025): the level above the commune-level units."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: Short name ("Hải Phòng") and full name ("Thành phố Hải Phòng").
    name: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)


class AdminUnit(Base):
    """One version of a commune-level unit's boundary, valid over [valid_from, valid_to)."""

    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("code", "valid_from", name="uq_admin_units_code_valid_from"),
        CheckConstraint(_in("kind", UnitKind), name="ck_admin_units_kind"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_admin_units_period"),
        Index("ix_admin_units_current", "code", postgresql_where=current_unit(None), unique=True),
        Index("ix_admin_units_province", "province_code", "code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    province_code: Mapped[str | None] = mapped_column(ForeignKey("provinces.code", name="fk_admin_units_province"))
    area_km2: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    geom_hash: Mapped[str] = mapped_column(String(64))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class AdminUnitPart(Base):
    """Subdivided pieces of current boundaries (gis.store.unit_parts) so that point-in-commune joins stay fast."""

    __tablename__ = "admin_unit_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("POLYGON", srid=SRID, spatial_index=True), nullable=False)


class ImportRun(Base):
    """One import of a file: who, what, when and its counts (the import's own audit record, append-only: started
    unfinished, finished once with its counts, never deleted)."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    outside: Mapped[int] = mapped_column(Integer, default=0)
    by_code: Mapped[int] = mapped_column(Integer, server_default="0")
    by_address: Mapped[int] = mapped_column(Integer, server_default="0")
    ambiguous: Mapped[int] = mapped_column(Integer, server_default="0")
    #: Written once, with the counts, at the end of the import (migration 0030: nothing else of a run ever changes).
    finished: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Incident(Base):
    """A recorded drug incident: a time, a kind and a place — a point, or (without coordinates) the commune its
    code or address names. No names of people are ever stored; no point is ever invented.

    Partitioned by local calendar year of `occurred_at` (migration 0006, `gis.store.incident_partitions`): a year
    loaded whole is built apart, indexed and attached; a daily file touches only its year's indexes. A key must
    include the partition key, so `ref` is unique through `incident_refs` and the primary key is (id, occurred_at).
    """

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(_in("kind", IncidentKind), name="ck_incidents_kind"),
        CheckConstraint(_in("assignment", Assignment), name="ck_incidents_assignment"),
        CheckConstraint(
            f"(geom IS NOT NULL) = ({_in('assignment', sorted(POINT_ASSIGNMENTS))})", name="ck_incidents_point"
        ),
        CheckConstraint(
            f"(assignment = '{Assignment.AMBIGUOUS}') = (candidate_codes IS NOT NULL)"
            f" AND (assignment <> '{Assignment.AMBIGUOUS}' OR commune_code IS NULL)",
            name="ck_incidents_ambiguous",
        ),
        CheckConstraint("quantity_g IS NULL OR quantity_g >= 0", name="ck_incidents_quantity"),
        CheckConstraint("arrested IS NULL OR arrested >= 0", name="ck_incidents_arrested"),
        CheckConstraint(METRIC_CHECK, name="ck_incidents_metric"),
        Index("ix_incidents_occurred_at", "occurred_at"),
        Index("ix_incidents_commune_time", "commune_code", "occurred_at"),
        Index("ix_incidents_without_point", "commune_code", postgresql_where=text("geom IS NULL")),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Sequence("incidents_id_seq"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    substance: Mapped[str | None] = mapped_column(Text)
    quantity_g: Mapped[float | None] = mapped_column(Float)
    arrested: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    commune_code: Mapped[str | None] = mapped_column(String(16))
    assignment: Mapped[str] = mapped_column(String(16))
    #: The pre-2025 unit the row named (code, or the unit its old-form address names), if any.
    legacy_code: Mapped[str | None] = mapped_column(String(16))
    #: The unit valid at the incident's date (an earlier boundary version, or the unit its record names).
    period_code: Mapped[str | None] = mapped_column(String(16))
    #: The current units an ambiguous row may belong to (its old unit was split); NULL otherwise.
    candidate_codes: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    #: The import run that brought the row. No foreign key: a per-row trigger for a value the import knows valid
    #: once cost 10.8 s per million rows; a statement trigger checks the new rows' runs set-based instead (0006).
    import_id: Mapped[int | None] = mapped_column(Integer)
    #: NULL for an incident located by code or address: it has no point and takes no part in point analyses.
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)
    #: Metric coordinates (EPSG:32648), so that grid analyses read them without a transform: filled from one
    #: ST_Transform per row by the import (two generated columns cost two), by a trigger for any other writer.
    x_m: Mapped[float | None] = mapped_column(Float)
    y_m: Mapped[float | None] = mapped_column(Float)


class IncidentRef(Base):
    """Every stored incident's `ref`, unique across all partitions (kept by triggers on `incidents`, see 0006)."""

    __tablename__ = "incident_refs"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class DataVersion(Base):
    """A counter per table, raised by a trigger on every statement that changes it: the key of cached results."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CommuneIndicator(Base):
    """Imported yearly figures of a commune (population, records, cultivation, route; overrides).

    NULL is *unknown* (a blank cell of the imported table), never zero: the criteria report it.
    """

    __tablename__ = "commune_indicators"
    __table_args__ = (
        CheckConstraint("population IS NULL OR population > 0", name="ck_indicators_population"),
        CheckConstraint(_in("method", IndicatorMethod), name="ck_indicators_method"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    population: Mapped[int | None] = mapped_column(Integer)
    users_with_records: Mapped[int | None] = mapped_column(Integer)
    plants_destroyed: Mapped[int | None] = mapped_column(Integer)
    cultivation_m2: Mapped[float | None] = mapped_column(Float)
    on_drug_route: Mapped[bool | None] = mapped_column(Boolean)
    organizing_places: Mapped[int | None] = mapped_column(Integer)
    arrested_offenders: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))
    #: Given per current commune, or summed from the legacy communes in `legacy_codes` (years before 2025).
    method: Mapped[str] = mapped_column(String(16), primary_key=True, server_default=IndicatorMethod.DIRECT.value)
    legacy_codes: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))


class DetectionRun(Base):
    """One run of hotspot detection: its window, parameters and outcome counts."""

    __tablename__ = "detection_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    window_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    params: Mapped[dict] = mapped_column(JSONB)
    n_clusters: Mapped[int] = mapped_column(Integer, default=0)
    n_new: Mapped[int] = mapped_column(Integer, default=0)
    n_updated: Mapped[int] = mapped_column(Integer, default=0)
    n_recurred: Mapped[int] = mapped_column(Integer, default=0)


class Hotspot(Base):
    """A drug spot, den or organising place: where, how big, since when, and its lifecycle status."""

    __tablename__ = "hotspots"
    __table_args__ = (
        CheckConstraint(_in("status", HotspotStatus), name="ck_hotspots_status"),
        CheckConstraint(_in("kind", HotspotKind), name="ck_hotspots_kind"),
        Index("ix_hotspots_status", "status"),
        Index("ix_hotspots_commune", "commune_code"),
        # «Gần đây»: ST_DWithin on the spheroid, in metres (gis.store.selection.NEAR_POINT).
        Index("ix_hotspots_centroid_geography", text("(centroid::geography)"), postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    origin: Mapped[str] = mapped_column(String(16))
    n_incidents: Mapped[int] = mapped_column(Integer, default=0)
    kinds: Mapped[dict] = mapped_column(JSONB, default=dict)
    first_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    radius_m: Mapped[float] = mapped_column(Float)
    commune_code: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
    centroid = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    footprint = mapped_column(Geometry("POLYGON", srid=SRID, spatial_index=True))


class HotspotEvent(Base):
    """Append-only history of a hotspot (created, updated, recurred, transitions, comments)."""

    __tablename__ = "hotspot_events"
    __table_args__ = (
        Index(
            "uq_hotspot_events_actor_client_key",
            "actor",
            "client_key",
            unique=True,
            postgresql_where=text("client_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    #: The client's key of a hotspot reported by hand (``Idempotency-Key``): one creation per user and key.
    client_key: Mapped[str | None] = mapped_column(Text)


class HotspotLineage(Base):
    """How hotspots descend from one another: ``parent`` merged into ``child``, or ``child`` split off ``parent``."""

    __tablename__ = "hotspot_lineage"
    __table_args__ = (
        CheckConstraint(_in("kind", LineageKind), name="ck_hotspot_lineage_kind"),
        CheckConstraint("parent_id <> child_id", name="ck_hotspot_lineage_distinct"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("detection_runs.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HotspotIncident(Base):
    """Incidents that made up a hotspot at its latest detection."""

    __tablename__ = "hotspot_incidents"

    #: No foreign keys: one to incidents(id) is impossible with time partitioning, and one to hotspots(id) checked
    #: and locked the hotspot once per row of a detection run's list. A statement trigger checks each statement's
    #: new rows set-based; deleted incidents and hotspots leave the lists by trigger (migrations 0011, 0013).
    hotspot_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class Team(Base):
    """A field team (tổ công tác) with an area of responsibility over time (team_areas)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: The Hải Phòng day the team was dissolved, its area ending (migration 0024); kept for its tasks' history.
    dissolved_on: Mapped[date | None] = mapped_column(Date)


class TeamArea(Base):
    """One commune in a team's area of responsibility, valid over [valid_from, valid_to)."""

    __tablename__ = "team_areas"
    __table_args__ = (
        UniqueConstraint("team_id", "commune_code", "valid_from", name="uq_team_areas_team_commune_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_team_areas_period"),
        Index("ix_team_areas_commune", "commune_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    commune_code: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date, server_default=text(LOCAL_TODAY))
    valid_to: Mapped[date | None] = mapped_column(Date)


class User(Base):
    """A login: argon2 password hash, role, team (team role only) and failed-login lockout."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="ck_users_role"),
        CheckConstraint("(role = 'team') = (team_id IS NOT NULL)", name="ck_users_team_role"),
        CheckConstraint(f"province_code IS NULL OR {_in('role', PROVINCIAL_ROLES)}", name="ck_users_province_role"),
        CheckConstraint("failed_logins >= 0", name="ck_users_failed_logins"),
        # A login name is unique up to letter case (migration 0021): logins find it whatever the case typed.
        Index("uq_users_username_folded", text("lower(username)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    #: A command or planner user limited to one province (None: the whole country).
    province_code: Mapped[str | None] = mapped_column(ForeignKey("provinces.code", name="fk_users_province"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The password was given by an administrator (a new account, a reset): its user must change it before anything
    #: else (migration 0022).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    #: When the user last logged in (None: never since migration 0032 found no session of theirs).
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoginSource(Base):
    """Failed logins from one client address: the progressive delay that throttles guessing from it."""

    __tablename__ = "login_sources"
    __table_args__ = (CheckConstraint("failures >= 0", name="ck_login_sources_failures"),)

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A login: the id its token carries, checked on every request; revoked at logout, password change, deactivation,
    a new role (by a trigger on users) or by an administrator."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL) AND (revoked_reason IS NULL OR "
            + _in("revoked_reason", SessionEnd)
            + ")",
            name="ck_sessions_revoked",
        ),
        Index("ix_sessions_user_open", "user_id", postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(16))


class AccessLine(Base):
    """Who read which incident-level data or exported what, when, with which parameters and how many rows: one
    append-only line per read (the personal-data law wants detailed reads attributable)."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_at", "at"),
        Index("ix_access_log_username_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB)
    rows: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(64))


class Task(Base):
    """A suppression task for a hotspot or a conversion task for a commune and year, assigned to a team."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(_in("kind", TaskKind), name="ck_tasks_kind"),
        CheckConstraint(_in("state", TaskState), name="ck_tasks_state"),
        CheckConstraint(_in("priority", TaskPriority), name="ck_tasks_priority"),
        CheckConstraint("kind <> 'suppression' OR hotspot_id IS NOT NULL", name="ck_tasks_suppression_hotspot"),
        CheckConstraint("kind <> 'conversion' OR year IS NOT NULL", name="ck_tasks_conversion_year"),
        Index(
            "ix_tasks_open_suppression",
            "hotspot_id",
            unique=True,
            postgresql_where=f"kind = 'suppression' AND NOT ({_in('state', sorted(TASK_CLOSED))})",
        ),
        Index(
            "ix_tasks_open_conversion",
            "commune_code",
            "year",
            unique=True,
            postgresql_where=f"kind = 'conversion' AND NOT ({_in('state', sorted(TASK_CLOSED))})",
        ),
        Index("ix_tasks_team_state", "team_id", "state"),
        Index("ix_tasks_commune", "commune_code"),
        #: A hotspot's newest task, joined for every hotspot of the register: 5,000 hotspots took 1.06 s without it,
        #: 0.12 s with it (bench/bench_register.py, load average 2.4 on 2 cores).
        Index("ix_tasks_hotspot", "hotspot_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    hotspot_id: Mapped[int | None] = mapped_column(ForeignKey("hotspots.id"))
    commune_code: Mapped[str] = mapped_column(String(16))
    year: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    checklist: Mapped[list] = mapped_column(JSONB, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TaskEvent(Base):
    """Append-only history of a task: creation, transitions, (re)assignment, comments."""

    __tablename__ = "task_events"
    __table_args__ = (
        Index("ix_task_events_team_at", "team_id", "at"),
        #: The inbox, newest first by the time each event happened (migration 0031).
        Index("ix_task_events_at", "at", "id"),
        #: A team's inbox tells it of the tasks reassignments took from it.
        Index(
            "ix_task_events_reassigned_from",
            text(reassigned_from(None)),
            postgresql_where=text("event = 'reassigned'"),
        ),
        CheckConstraint("made_at <= at", name="ck_task_events_made_before_recorded"),
        Index(
            "uq_task_events_actor_client_key",
            "actor",
            "client_key",
            unique=True,
            postgresql_where=text("client_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    actor_team_id: Mapped[int | None] = mapped_column(Integer)
    #: The task's assignee team when the event happened (whose inbox it reaches).
    team_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    #: The client's key of a comment or transition it may send again (``Idempotency-Key``): one event per user and key.
    client_key: Mapped[str | None] = mapped_column(Text)
    #: When a change kept on a phone without signal was made (None: sent as it was made; migration 0033).
    made_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClassificationRun(Base):
    """One version of a year's commune classification; approved versions are immutable (DB trigger)."""

    __tablename__ = "classification_runs"
    __table_args__ = (
        UniqueConstraint("year", "version", name="uq_classification_runs_year_version"),
        CheckConstraint(_in("status", RunStatus), name="ck_classification_runs_status"),
        CheckConstraint(
            "(status = 'approved') = (approved_at IS NOT NULL AND approved_by IS NOT NULL)",
            name="ck_classification_runs_approval",
        ),
        Index("ix_classification_runs_one_draft", "year", unique=True, postgresql_where="status = 'draft'"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("classification_runs.id"))
    note: Mapped[str | None] = mapped_column(Text)
    #: Who last overrode a commune's class in the run before it was approved, and when (four-eyes record).
    last_override_by: Mapped[str | None] = mapped_column(Text)
    last_override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClassificationResult(Base):
    """A commune's class in a run: legal, learned and final (with override), indicators and criteria."""

    __tablename__ = "classification_results"
    __table_args__ = (
        CheckConstraint(_in("category", Category), name="ck_classification_results_category"),
        CheckConstraint(_in("legal_category", Category), name="ck_classification_results_legal_category"),
        CheckConstraint(
            "(category = 'trong_diem') = (level IS NOT NULL) AND (level IS NULL OR " + _in("level", Level) + ")",
            name="ck_classification_results_level",
        ),
        CheckConstraint(
            "method <> 'override' OR length(btrim(override_reason)) > 0",
            name="ck_classification_results_override_reason",
        ),
        CheckConstraint(  # migration 0027 (NOT VALID: rows stored before are not checked)
            "method = 'override' OR (category = legal_category AND level IS NOT DISTINCT FROM legal_level)",
            name="ck_classification_results_final_class",
        ),
        CheckConstraint(
            f"NOT (incomplete AND category = '{Category.DRUG_FREE}')", name="ck_classification_results_incomplete"
        ),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("classification_runs.id", ondelete="CASCADE"), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    legal_category: Mapped[str] = mapped_column(String(16))
    legal_level: Mapped[str | None] = mapped_column(String(4))
    learned_category: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    risk_next_year: Mapped[float | None] = mapped_column(Float)
    leaving_drug_free: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(4))
    method: Mapped[str] = mapped_column(String(16))
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(Text)
    override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    indicators: Mapped[dict] = mapped_column(JSONB)
    sources: Mapped[dict] = mapped_column(JSONB)
    criteria: Mapped[list] = mapped_column(JSONB)
    explanation: Mapped[str] = mapped_column(Text)
    #: Some criterion could not be decided for lack of data ("thiếu dữ liệu"): never drug-free.
    incomplete: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    #: A more severe level the commune would reach if the missing data met their criteria.
    possible_level: Mapped[str | None] = mapped_column(String(4))


class ClassificationTrail(Base):
    """Append-only record of every draft that ended unapproved: discarded («Bỏ bản nháp») or replaced by a new run of
    its year, with who ended it and when, and each override it held (commune, class before and after, reason, who,
    when). The draft itself is deleted from classification_runs, so that nothing reads it as the year's result; kept by
    its run id without a foreign key: the record outlives its run."""

    __tablename__ = "classification_trail"
    __table_args__ = (
        CheckConstraint(_in("ended", DraftEnd), name="ck_classification_trail_ended"),
        Index("ix_classification_trail_year", "year"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    rules_version: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    supersedes_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    ended: Mapped[str] = mapped_column(String(16))
    ended_by: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Each override the draft held when it ended: commune_code, from_category, from_level (the draft's own class),
    #: to_category, to_level, reason, by, at.
    overrides: Mapped[list] = mapped_column(JSONB)


class ClassificationOverrideLog(Base):
    """Append-only copy of every override of a commune's class (migration 0027, written by a trigger on
    classification_results): the class it replaced, the class given, the reason, who and when. A draft holds only the
    newest override of a commune; the ones a later override replaced are read from here. Kept by run id without a
    foreign key, like the trail: it outlives a discarded draft."""

    __tablename__ = "classification_override_log"
    __table_args__ = (Index("ix_classification_override_log_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[str] = mapped_column(String(16))
    #: 'override', or the method a change by hand left (an override undone: 'legal').
    method: Mapped[str] = mapped_column(Text)
    from_category: Mapped[str | None] = mapped_column(String(16))
    from_level: Mapped[str | None] = mapped_column(String(4))
    to_category: Mapped[str] = mapped_column(String(16))
    to_level: Mapped[str | None] = mapped_column(String(4))
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AdminAudit(Base):
    """Append-only record of every administrator action, user's change of their own password and restore of a backup
    (who, when, what, on which user or team, details).

    The user or team is kept by id and by the name it had, without a foreign key: the record outlives its subject."""

    __tablename__ = "admin_audit"
    __table_args__ = (
        CheckConstraint(_in("action", AdminAction), name="ck_admin_audit_action"),
        Index("ix_admin_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    target_user_id: Mapped[int | None] = mapped_column(Integer)
    target_user: Mapped[str | None] = mapped_column(Text)
    target_team_id: Mapped[int | None] = mapped_column(Integer)
    target_team: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, default=dict)


class TaskPhoto(Base):
    """Photo evidence attached to a progress note (a task event); served only to users who may see the task."""

    __tablename__ = "task_photos"
    __table_args__ = (CheckConstraint("byte_size > 0", name="ck_task_photos_size"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("task_events.id"), index=True)
    media_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: The team chose to keep the place the photo was taken (EXIF GPS) in the stored file.
    location_kept: Mapped[bool] = mapped_column(Boolean)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
