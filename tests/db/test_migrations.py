"""Migrations run up and down on a scratch database of the test cluster."""

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from gis.ops.postgres import ManagedCluster
from gis.store.classifications import discard_draft, run_history
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
