"""Migrations run up and down on a scratch database of the test cluster."""

import re
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Connection, Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from gis.ops.postgres import ManagedCluster
from gis.store.classifications import discard_draft, run_history
from gis.store.db import MIGRATIONS, alembic_config, migrate
from gis.store.sessions import SESSIONS_CHANNEL
from gis.store.tables import Base


@pytest.fixture
def scratch_url(cluster: ManagedCluster) -> Iterator[str]:
    """A fresh database owned by the owner role (who runs migrations)."""
    cluster.drop_database("migrations_scratch")
    cluster.create_database("migrations_scratch")
    yield cluster.owner_url("migrations_scratch")
    cluster.drop_database("migrations_scratch")


#: What a revision builds, each a query of (object, definition) rows: PostGIS's own objects left out, a function's
#: body with its white space collapsed (0020's downgrade writes 0010's function back over more lines).
CATALOG = {
    "columns": """SELECT c.relname || '.' || a.attname, concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN 'NOT NULL' END, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
                  AND a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT IN ('spatial_ref_sys', 'geometry_columns',
                  'geography_columns')""",
    "constraints": """SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE connamespace = 'public'::regnamespace AND conrelid <> 'spatial_ref_sys'::regclass""",
    "indexes": """SELECT indexname, indexdef FROM pg_indexes
                  WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'""",
    "functions": """SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                    btrim(regexp_replace(p.prosrc, '\\s+', ' ', 'g'))
                    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND NOT EXISTS
                    (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')""",
    "triggers": "SELECT tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
}


#: Two spellings PostgreSQL gives one IN list: as a migration wrote it, and as 0011's downgrade writes back the check
#: of the partitioned table (each item cast, not the array).
_ITEM_CAST = re.compile(r"\('((?:[^']|'')*)'::character varying\)::text")
_ARRAY_CAST = re.compile(r"\(ARRAY\[([^\]]*)\]\)::text\[\]")


def schema_of(engine: Engine, exact: bool = True) -> dict[str, set[tuple[str, str]]]:
    """The database's columns, constraints, indexes, functions and triggers, as sets (a column a downgrade added back
    comes last, which changes nothing). Not ``exact``: a constraint's NOT VALID left out (the downgrades of the audit's
    action list give the older check NOT VALID, as lines written with a newer action stay) and its IN lists spelled
    one way."""
    with engine.connect() as conn:
        found = {name: {tuple(row) for row in conn.execute(text(query))} for name, query in CATALOG.items()}
    if not exact:
        found["constraints"] = {(name, one_spelling(d).removesuffix(" NOT VALID")) for name, d in found["constraints"]}
    return found


def one_spelling(definition: str) -> str:
    """A check's IN lists spelled one way."""
    return _ARRAY_CAST.sub(r"ARRAY[\1]", _ITEM_CAST.sub(r"'\1'::character varying", definition))


def revisions() -> list[str]:
    """Every revision, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def test_every_revision_up_and_down_one_step_at_a_time(scratch_url: str) -> None:
    """Up one revision at a time, then down one at a time: each downgrade gives back the schema its revision's
    upgrade found (what a revision writes is frozen, not read from today's vocabulary); up again, the same head, which
    the models agree with."""
    engine = create_engine(scratch_url)
    built: dict[str, dict[str, set[tuple[str, str]]]] = {}
    steps = revisions()
    for revision in steps:
        migrate(engine, revision)
        built[revision] = schema_of(engine, exact=False)
    head = schema_of(engine)
    assert {"admin_units", "admin_unit_parts", "incidents", "commune_indicators", "import_runs"} <= set(
        inspect(engine).get_table_names()
    )
    for revision, below in zip(reversed(steps), [*reversed(steps[:-1]), "base"], strict=True):
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), below)
        if below != "base":
            after = schema_of(engine, exact=False)
            for part, objects in built[below].items():
                assert after[part] == objects, (revision, below, part, after[part] ^ objects)
    assert set(inspect(engine).get_table_names()) <= {"spatial_ref_sys", "alembic_version"}
    migrate(engine)
    assert schema_of(engine) == head
    with engine.begin() as conn:
        command.check(alembic_config(conn))  # the models and the migrations agree
    engine.dispose()


def test_incidents_move_into_yearly_partitions_and_back(scratch_url: str) -> None:
    """0011 on a database holding incidents: every row, id, metric point and hotspot member kept, each row in its
    year, refs recorded, the table stored month by month; the downgrade gives the single table back."""
    engine = create_engine(scratch_url)
    migrate(engine, "0010")
    with engine.begin() as conn:
        run = conn.execute(
            text(
                "INSERT INTO import_runs (dataset, file_name, file_sha256, imported_by, imported, duplicates, rejected,"
                " outside) VALUES ('incidents', 'f.csv', 'x', 't', 3, 0, 0, 0) RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, import_id, geom) VALUES
            ('M-2', '2024-03-01T10:00:00+07:00', 'tip', 'inside', '10507', :r, ST_SetSRID(ST_MakePoint(106.68, 20.86), 4326)),
            ('M-1', '2023-12-31T23:30:00+07:00', 'tip', 'outside', NULL, :r, ST_SetSRID(ST_MakePoint(106.7, 20.9), 4326)),
            ('M-3', '2024-01-15T10:00:00+07:00', 'tip', 'inside', '10507', :r, ST_SetSRID(ST_MakePoint(106.6, 20.8), 4326))"""),
            {"r": run},
        )
        conn.execute(
            text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, commune_code, legacy_code, geom)
            VALUES ('M-4', '2024-02-01', 'tip', 'legacy_code', '10507', '11311', NULL)""")
        )
        hotspot = conn.execute(
            text("""INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, version, centroid)
            VALUES ('detected', 'spot', 'manual', 1, '{}', 100, 1, ST_SetSRID(ST_MakePoint(106.68, 20.86), 4326))
            RETURNING id""")
        ).scalar_one()
        conn.execute(
            text("INSERT INTO hotspot_incidents SELECT :h, id FROM incidents WHERE ref = 'M-2'"), {"h": hotspot}
        )
        before = conn.execute(text("SELECT ref, id, x_m, y_m FROM incidents ORDER BY ref")).all()
    migrate(engine)
    with engine.begin() as conn:
        after = conn.execute(text("SELECT ref, id, x_m, y_m FROM incidents ORDER BY ref")).all()
        assert after == before
        years = dict(conn.execute(text("SELECT ref, tableoid::regclass::text FROM incidents")).all())
        assert years == {
            "M-1": "incidents_y2023",
            "M-2": "incidents_y2024",
            "M-3": "incidents_y2024",
            "M-4": "incidents_y2024",
        }
        assert list(conn.execute(text("SELECT ref FROM incidents_y2024")).scalars()) == ["M-3", "M-4", "M-2"]
        assert conn.execute(text("SELECT count(*) FROM incident_refs")).scalar_one() == 4
        assert conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one() == 1
        conn.execute(text("DELETE FROM incidents WHERE ref = 'M-2'"))  # the triggers of 0011 are in place
        assert conn.execute(text("SELECT count(*) FROM hotspot_incidents")).scalar_one() == 0
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0010")
    with engine.begin() as conn:
        back = conn.execute(text("SELECT ref, id, x_m, y_m FROM incidents ORDER BY ref")).all()
        assert back == [row for row in before if row[0] != "M-2"]
        assert not conn.execute(text("SELECT relispartition FROM pg_class WHERE relname = 'incidents'")).scalar()
    migrate(engine)
    engine.dispose()


def draft_with_an_override(engine: Engine, run_id: int) -> None:
    """A 2025 draft (run ``run_id``) holding one override: 10507 from the criteria's drug-free to at risk."""
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO classification_runs (id, year, version, status, rules_version, method, params, created_by)
            VALUES (:r, 2025, 1, 'draft', 'r1', 'm', '{}', 'tham.muu')"""),
            {"r": run_id},
        )
        conn.execute(
            text("""INSERT INTO classification_results (run_id, commune_code, legal_category, leaving_drug_free,
            category, method, override_reason, override_by, override_at, indicators, sources, criteria, explanation)
            VALUES (:r, '10507', 'drug_free', false, 'at_risk', 'override', 'Tin báo mới', 'tham.muu',
                    '2025-12-01T09:00:00+07:00', '{}', '{}', '[]', '')"""),
            {"r": run_id},
        )


def test_the_trail_of_classification_drafts_up_down_up(scratch_url: str) -> None:
    """0025 on a database holding a year's draft with an override: the upgrade and a downgrade while the trail is
    empty keep the draft as it was; upgraded again, the discarded draft is kept with its override in the trail, which
    not even the owner may change or delete (the downgrade refusing while it holds rows: AUDIT_ROWS)."""
    engine = create_engine(scratch_url)
    migrate(engine, "0024")
    draft_with_an_override(engine, 7)
    draft = "SELECT r.id, r.version, r.status, c.category, c.override_reason FROM classification_runs r JOIN classification_results c ON c.run_id = r.id"
    with engine.connect() as conn:
        before = conn.execute(text(draft)).all()
    for revision in ("0025", "0024"):
        if revision == "0025":
            migrate(engine, "0025")  # 0027 copies the standing overrides into its log, which no downgrade drops
        else:
            with engine.begin() as conn:
                command.downgrade(alembic_config(conn), revision)
        with engine.connect() as conn:
            assert conn.execute(text(draft)).all() == before, revision
    assert "classification_trail" not in inspect(engine).get_table_names()
    migrate(engine)
    with engine.begin() as conn:
        assert discard_draft(conn, 2025, actor="tham.muu.2")["overrides"] == 1
    with engine.connect() as conn:
        assert conn.execute(text(draft)).all() == []
        kept = conn.execute(text("SELECT run_id, version, ended, ended_by, overrides FROM classification_trail")).one()
        assert kept[:4] == (7, 1, "discarded", "tham.muu.2")
        assert [(o["commune_code"], o["from_category"], o["to_category"], o["reason"]) for o in kept[4]] == [
            ("10507", "drug_free", "at_risk", "Tin báo mới")
        ]
    for statement in ("UPDATE classification_trail SET ended_by = 'x'", "DELETE FROM classification_trail"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()


def test_the_overrides_standing_when_0027_migrates_open_its_log(scratch_url: str) -> None:
    """0027 copies each override standing in a draft into the append-only log (as replacing the criteria's class), so
    that an override made after it, of the same commune, shows the earlier one as replaced: the history's rule."""
    engine = create_engine(scratch_url)
    migrate(engine, "0026")
    draft_with_an_override(engine, 8)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE classification_results SET category = 'drug_free', override_reason = 'Chưa xác minh',
            override_by = 'tham.muu.2', override_at = '2025-12-02T09:00:00+07:00' WHERE run_id = 8""")
        )
        (draft,) = run_history(conn, 2025)
        assert [(o["reason"], o["by"]) for o in draft["overrides"]] == [("Chưa xác minh", "tham.muu.2")]
        assert [
            (o["from_category"], o["to_category"], o["reason"], o["replaced_by"]) for o in draft["replaced_overrides"]
        ] == [("drug_free", "at_risk", "Tin báo mới", "tham.muu.2")]
    # By hand, a class other than the criteria's can no longer be set without an override, and an override undone
    # shows in the history as undone by nobody known.
    with pytest.raises(DBAPIError, match="ck_classification_results_final_class"), engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE classification_results SET method = 'legal', category = 'at_risk', override_reason = NULL WHERE run_id = 8"
            )
        )
    with engine.begin() as conn:
        conn.execute(
            text("""UPDATE classification_results SET method = 'legal', category = legal_category, override_reason = NULL,
            override_by = NULL, override_at = NULL WHERE run_id = 8""")
        )
        (draft,) = run_history(conn, 2025)
        assert draft["overrides"] == []
        assert [(o["reason"], o["replaced_by"]) for o in draft["replaced_overrides"]] == [
            ("Tin báo mới", "tham.muu.2"),
            ("Chưa xác minh", None),
        ]
    engine.dispose()


#: One row of each audit trail (after the rows it refers to), and the revision below the one that made it.
AUDIT_ROWS = {
    "access_log": (
        ["INSERT INTO access_log (username, route, params) VALUES ('x', 'GET /api/incidents', '{}')"],
        "0009",
    ),
    "admin_audit": (["INSERT INTO admin_audit (actor, action, details) VALUES ('x', 'create_user', '{}')"], "0008"),
    "classification_trail": (
        [
            """INSERT INTO classification_trail (run_id, year, version, rules_version, method, params, created_by,
               created_at, ended, ended_by, overrides) VALUES (1, 2025, 1, 'r', 'm', '{}', 'x', now(), 'discarded',
               'y', '[]')"""
        ],
        "0024",
    ),
    "classification_override_log": (
        [
            """INSERT INTO classification_override_log (run_id, commune_code, method, to_category, reason, "by", "at")
               VALUES (1, '10507', 'override', 'at_risk', 'r', 'x', now())"""
        ],
        "0026",
    ),
    "hotspot_events": (
        [
            """INSERT INTO hotspots (status, kind, origin, n_incidents, kinds, radius_m, version, centroid)
               VALUES ('detected', 'spot', 'manual', 0, '{}', 50, 1, ST_SetSRID(ST_MakePoint(106.7, 20.8), 4326))""",
            "INSERT INTO hotspot_events (hotspot_id, actor, event, details) SELECT id, 'x', 'created', '{}' FROM hotspots",
        ],
        "0001",
    ),
}


@pytest.mark.parametrize("table", AUDIT_ROWS)
def test_a_downgrade_never_drops_an_audit_trail_that_holds_rows(scratch_url: str, table: str) -> None:
    rows, below = AUDIT_ROWS[table]
    engine = create_engine(scratch_url)
    migrate(engine)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row))
    with pytest.raises(DBAPIError, match="audit trail"), engine.begin() as conn:
        command.downgrade(alembic_config(conn), below)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    engine.dispose()


def test_import_runs_become_append_only_and_back(scratch_url: str) -> None:
    """0030 on a database holding a run: the run is finished (every stored run committed its counts) and neither
    changed nor deleted any more, even by the owner; the downgrade gives the table back as it was, run kept."""
    engine = create_engine(scratch_url)
    migrate(engine, "0029")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO import_runs (id, dataset, file_name, file_sha256, imported_by, imported, duplicates,"
                " rejected, outside) VALUES (5, 'indicators', 'f.csv', 'x', 't', 3, 0, 0, 0)"
            )
        )
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT imported, finished FROM import_runs")).one() == (3, True)
    for statement in ("UPDATE import_runs SET imported = 4", "DELETE FROM import_runs"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0029")
    with engine.begin() as conn:
        assert "finished" not in {c["name"] for c in inspect(conn).get_columns("import_runs")}
        assert conn.execute(text("UPDATE import_runs SET imported = 4")).rowcount == 1
        assert conn.execute(text("DELETE FROM import_runs")).rowcount == 1
        assert conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'finish_import_run_once'")).scalar() == 0
    migrate(engine)
    engine.dispose()


def _as_stored(conn: Connection, table: str, kind: str, definition: str, column: str = "") -> str:
    """How PostgreSQL writes ``definition`` (a model's check, partial-index condition or column default) on ``table``:
    made there for a moment under a scratch name (an index on ``column``; a column of type ``column``), read back,
    dropped (the caller's transaction rolls back anyway)."""
    if kind == "check":
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT zz_model CHECK ({definition})"))
        read = f"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'zz_model' AND conrelid = '{table}'::regclass"
        drop = f"ALTER TABLE {table} DROP CONSTRAINT zz_model"
    elif kind == "where":
        conn.execute(text(f"CREATE INDEX zz_model ON {table} ({column}) WHERE {definition}"))
        read = "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'zz_model'::regclass"
        drop = "DROP INDEX zz_model"
    else:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN zz_model {column} DEFAULT {definition}"))
        read = f"SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = '{table}'::regclass AND adnum = \
            (SELECT attnum FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = 'zz_model')"
        drop = f"ALTER TABLE {table} DROP COLUMN zz_model"
    stored = conn.execute(text(read)).scalar_one()
    conn.execute(text(drop))
    return stored


def test_the_database_at_head_holds_todays_vocabulary(scratch_url: str) -> None:
    """Every check (IN lists spelled one way, NOT VALID aside), partial-index condition and column default of the
    models, which read today's vocabulary, is the one the migrations made: a value added to a vocabulary (or a list such as TASK_CLOSED changed) without a migration of
    its own is caught here, as the migrations are frozen. The sessions' channel likewise."""
    engine = create_engine(scratch_url)
    migrate(engine)
    differ = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for check in (c for c in table.constraints if isinstance(c, CheckConstraint)):
                stored = conn.execute(
                    text(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n AND conrelid = :t ::regclass"
                    ),
                    {"n": check.name, "t": table.name},
                ).scalar_one()
                model = one_spelling(_as_stored(conn, table.name, "check", str(check.sqltext)))
                if one_spelling(stored).removesuffix(" NOT VALID") != model:
                    differ.append(f"{check.name}: {stored} ≠ {model}")
            for index in table.indexes:
                if (where := index.dialect_options["postgresql"]["where"]) is None:
                    continue
                stored = conn.execute(
                    text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = :i ::regclass"),
                    {"i": index.name},
                ).scalar_one()
                model = _as_stored(conn, table.name, "where", str(where), table.c[0].name)
                if stored != model:
                    differ.append(f"{index.name}: {stored} ≠ {model}")
            for column in table.columns:
                if column.server_default is None or not hasattr(column.server_default, "arg"):
                    continue
                arg = column.server_default.arg
                definition = f"'{arg}'" if isinstance(arg, str) else str(arg)
                stored, kind = conn.execute(
                    text("""SELECT pg_get_expr(d.adbin, d.adrelid), format_type(a.atttypid, a.atttypmod)
                            FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                            WHERE a.attrelid = :t ::regclass AND a.attname = :c"""),
                    {"t": table.name, "c": column.name},
                ).one()
                model = _as_stored(conn, table.name, "default", definition, kind)
                if stored != model:
                    differ.append(f"{table.name}.{column.name} DEFAULT {stored} ≠ {model}")
        notify = conn.execute(text("SELECT prosrc FROM pg_proc WHERE proname = 'notify_session_change'")).scalar_one()
        if notify.count(f"pg_notify('{SESSIONS_CHANNEL}'") != 2:
            differ.append(f"notify_session_change does not notify on {SESSIONS_CHANNEL}")
        conn.rollback()
    engine.dispose()
    assert not differ, "the vocabulary changed without a migration:\n" + "\n".join(differ)


def test_0012_gives_units_stored_before_it_their_province(scratch_url: str) -> None:
    """0012 on a database holding units without a province: a commune the directory knows gets its province (Hải
    Phòng's 10507: 31), one it does not know keeps none; the 34 provinces are there either way."""
    engine = create_engine(scratch_url)
    migrate(engine, "0011")
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO admin_units (code, name, full_name, kind, area_km2, valid_from, geom_hash, geom)
            SELECT c, 'X', 'Xã X', 'xa', 1, '2025-07-01', c,
                   ST_Multi(ST_MakeEnvelope(106.6, 20.8, 106.7, 20.9, 4326)) FROM unnest(ARRAY['10507', '99999']) c""")
        )
    migrate(engine, "0012")
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT code, province_code FROM admin_units")).all()) == {
            "10507": "31",
            "99999": None,
        }
        assert conn.execute(text("SELECT count(*) FROM provinces")).scalar_one() == 34
        assert (
            conn.execute(text("SELECT full_name FROM provinces WHERE code = '31'")).scalar_one()
            == "Thành phố Hải Phòng"
        )
    engine.dispose()


@pytest.mark.parametrize("below", ["0027", "0025"])
def test_audit_lines_of_newer_actions_survive_a_downgrade_and_the_upgrade_back(scratch_url: str, below: str) -> None:
    """A database holding audit lines of actions a later revision added (a restore, a user's own new password),
    migrated down below those revisions and up again: each intermediate upgrade's narrower check holds for new lines
    only (its data violates it), and the head's, which allows them all, is validated again. Before, 0028's upgrade
    failed on those lines and left the database where no command could start."""
    engine = create_engine(scratch_url)
    migrate(engine)
    with engine.begin() as conn:
        for action in ("restore_backup", "change_own_password"):
            conn.execute(
                text("INSERT INTO admin_audit (actor, action, details) VALUES ('x', :action, '{}')"), {"action": action}
            )
        command.downgrade(alembic_config(conn), below)
    migrate(engine, "0028")
    validated = "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_admin_audit_action'"
    with engine.connect() as conn:
        assert conn.execute(text(validated)).scalar() is False  # 0028's list lacks them: new lines checked only
    migrate(engine)
    with engine.begin() as conn:
        assert conn.execute(text(validated)).scalar() is True
        assert conn.execute(text("SELECT count(*) FROM admin_audit")).scalar() == 2
        with pytest.raises(DBAPIError, match="ck_admin_audit_action"), conn.begin_nested():
            conn.execute(text("INSERT INTO admin_audit (actor, action, details) VALUES ('x', 'no_such_action', '{}')"))
    engine.dispose()
