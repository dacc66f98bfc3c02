"""Read-your-writes without replicas: a user's write through one worker shows at once in their own reads through
another, which still trusts the data versions it remembered (DIABAN_DATA_VERSION_SECONDS); others' reads there keep
the remembered versions until they expire (what the setting trades). An import's dry run, which writes nothing,
makes the process forget nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from api.replicas import WROTE_COOKIE
from gis.ops.postgres import ManagedCluster
from gis.store.accounts import create_user
from tests.conftest import bearer_headers, requests_in_savepoints, scratch_database

#: The zoom-12 tile over Hải Phòng's centre (106.68 E, 20.86 N), and a new incident inside it.
TILE = "/tiles/incidents/12/3261/1805.mvt"
NEW = "ref,occurred_at,lon,lat,kind,substance,quantity_g,arrested,source\nGHI-1,01/11/2026 10:00,106.68,20.86,tin_bao,,,0,thử\n"


@pytest.fixture
def workers(engine: Engine, conn: Connection) -> Iterator[tuple[TestClient, TestClient]]:
    """Two workers of one server on the test's transaction, each trusting the versions it read for a minute."""
    from api.app import create_app
    from api.cache import Memo

    apps: list[FastAPI] = []
    for _ in range(2):
        app = create_app(engine)
        requests_in_savepoints(app, conn)
        app.state.data_versions = Memo(60)
        apps.append(app)
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        yield a, b


def test_an_import_through_one_worker_shows_at_once_to_its_maker_on_the_other(workers, conn, make_user) -> None:
    a, b = workers
    maker, other = (bearer_headers(a.app, conn, make_user(name, "command")) for name in ("nguoi-nhap", "nguoi-xem"))
    before = b.get(TILE, headers=maker)  # worker B reads the versions, and trusts them for a minute
    assert before.status_code == 200
    imported = a.post("/api/imports/incidents", headers=maker, files={"file": ("moi.csv", NEW.encode())})
    assert imported.status_code == 200 and imported.json()["counts"]["imported"] == 1, imported.text
    wrote = imported.cookies.get(WROTE_COOKIE)
    assert wrote and wrote.isdigit()
    b.cookies.set(WROTE_COOKIE, wrote)
    after = b.get(TILE, headers=maker)
    # Before, B answered its remembered versions' tile, without the incident its maker had just imported.
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert after.content != before.content
    b.cookies.clear()
    assert b.get(TILE, headers=other).headers["ETag"] == before.headers["ETag"]  # others: within the setting's delay


def test_an_import_dry_run_committed_by_the_app_keeps_the_remembered_data_versions(
    cluster: ManagedCluster, password_hash: str
) -> None:
    """The app's own commit (api.deps._commit, which the rolled-back test transaction never runs): a dry run wrote
    nothing (`NOTHING_WRITTEN`), so the process keeps the data versions it remembered and answers no write cookie; the
    import itself makes it forget them. Real commits here (a scratch database)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.cache import Memo

    with scratch_database(cluster, "own_writes_commit") as engine:
        with engine.begin() as conn:
            maker = create_user(conn, "nguoi-nhap-that", password_hash, "command", None)
        app = create_app(engine)
        with engine.begin() as conn:
            headers = bearer_headers(app, conn, maker)
        with TestClient(app) as client:
            memo = app.state.data_versions = Memo(600)
            assert client.get(TILE, headers=headers).status_code == 200
            assert memo.fresh() is not None  # the versions the tile read, remembered
            for dry_run in (True, False):
                params = {"dry_run": "true"} if dry_run else {}
                files = {"file": ("moi.csv", NEW.encode())}
                imported = client.post("/api/imports/incidents", headers=headers, params=params, files=files)
                assert imported.status_code == 200 and imported.json()["counts"]["imported"] == 1, imported.text
                assert imported.json()["dry_run"] is dry_run
                assert (memo.fresh() is not None) is dry_run
                assert (WROTE_COOKIE in imported.cookies) is not dry_run
                client.cookies.clear()
