"""The pages in a real browser (Debian's Chromium driven by Playwright), one role after another.

A scratch database on the session cluster holds a small synthetic city (incidents, hotspots, the
demo accounts and story, an approved and a draft year); the app runs in uvicorn on a loopback port.
Screenshots are kept under artifacts/ for people to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import migrate_as_owner, serve
from sqlalchemy import Engine, create_engine, text

from api.app import create_app
from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD, seed_demo_accounts
from gis.demo.classification import seed_demo_classification
from gis.demo.lifecycle import run_lifecycle_demo
from gis.io.scenario_files import write_scenario
from gis.ops.postgres import ManagedCluster
from gis.services.boundary_import import import_boundaries
from gis.services.detection import run_detection
from gis.services.incident_import import import_incidents
from gis.store.accounts import principal_by_username
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.synthetic.scenario import ScenarioConfig, generate_scenario

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def city(cluster: ManagedCluster, boundaries_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A scratch database with a small synthetic city and the demo accounts, dropped afterwards."""
    cluster.drop_database("browser_city")
    cluster.create_database("browser_city")
    migrate_as_owner(cluster, "browser_city")
    engine = create_engine(cluster.url("browser_city"))
    scenario = generate_scenario(gpd.read_file(boundaries_path), ScenarioConfig(seed=1, years=3, n_incidents=30_000))
    paths = write_scenario(scenario, tmp_path_factory.mktemp("city"))
    with engine.begin() as conn:
        import_boundaries(conn, boundaries_path)
        import_incidents(conn, paths["incidents"], imported_by="test")
        run_detection(conn, actor="test")
        seed_demo_accounts(conn, hash_password)
        run_lifecycle_demo(conn, hotspot_lifecycle(180), principal_by_username(conn, "chihuy"), 180)
        seed_demo_classification(conn, 2025, 2026, "thammuu")
    yield engine
    engine.dispose()
    cluster.drop_database("browser_city")


@pytest.fixture(scope="module")
def server(city: Engine) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port."""
    with serve(create_app(city)) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless (Playwright's own browser download does not work here)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_as(chromium, server: str, username: str, viewport: dict | None = None):
    """A logged-in page of `username` once its panel has loaded, and the errors the console reported."""
    page = chromium.new_page(viewport=viewport or {"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    shot(page, "login")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page, errors


def shot(page, name: str) -> None:
    """Keep a screenshot under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_command_sees_the_map_with_its_layers(chromium, server: str) -> None:
    page, errors = open_as(chromium, server, "chihuy")
    assert page.locator(".leaflet-control-layers").count() == 1
    assert page.locator("text=Mật độ vụ việc").count() >= 1
    page.wait_for_selector(".leaflet-overlay-pane canvas")  # communes and hotspots drawn (canvas renderer)
    assert page.locator("img.leaflet-image-layer").count() == 1  # the heat overlay
    assert "%" in page.locator("#kpi-drug-free").inner_text()
    assert "Mục tiêu 2025: 30%" in page.locator("#kpi-targets").inner_text()
    shot(page, "command-heat")
    with page.expect_response(lambda r: "/tiles/incidents/" in r.url) as tile:
        page.locator(".leaflet-control-layers >> text=Vụ việc (số vụ theo ô").click()
    assert tile.value.status == 200 and tile.value.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    with page.expect_response(lambda r: "/api/heat" in r.url) as heat:
        page.evaluate("() => { window.diaban.map.setView([20.86, 106.68], 14); }")
    assert "cell_m=25&" in heat.value.url and heat.value.status == 200  # ~9 m per pixel at zoom 14: 25 m cells
    page.wait_for_timeout(800)
    shot(page, "command-incidents-street")
    page.evaluate("() => { window.diaban.map.fitBounds(window.diaban.mainland); }")
    page.locator(".leaflet-control-layers >> text=Ô nóng Gi*").click()
    page.locator(".leaflet-control-layers >> text=Phân loại xã (năm đã duyệt gần nhất)").click()
    page.locator(".leaflet-control-layers >> text=Xu hướng điểm nóng").click()
    page.fill("#month", "24")
    page.dispatch_event("#month", "change")
    page.wait_for_function("document.getElementById('month-label').textContent.startsWith('Tháng')")
    page.wait_for_timeout(1500)
    shot(page, "command")
    assert errors == []
    page.close()


def test_command_assigns_a_hotspot_to_the_suggested_team(chromium, server: str, city: Engine) -> None:
    with city.connect() as conn:
        hotspot, team = conn.execute(
            text("""
            SELECT h.id, tm.name FROM hotspots h
            JOIN team_areas ta ON ta.commune_code = h.commune_code AND ta.valid_to IS NULL
            JOIN teams tm ON tm.id = ta.team_id
            WHERE h.status IN ('detected', 'verified', 'recurred')
              AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.hotspot_id = h.id)
            ORDER BY h.n_incidents DESC LIMIT 1""")
        ).one()
    page, errors = open_as(chromium, server, "chihuy")
    page.evaluate(
        """id => { window.diaban.map.eachLayer(l => {
        if (l.feature && l.feature.properties.id === id && l.openPopup) { l.openPopup(); } }); }""",
        hotspot,
    )
    page.click(".leaflet-popup button:has-text('Giao nhiệm vụ đấu tranh')")
    page.wait_for_selector(".leaflet-popup select[name=team]")
    assert team in page.locator(".leaflet-popup select[name=team]").inner_text()
    page.wait_for_timeout(300)  # the popup fades in
    shot(page, "command-assign")
    page.click(".leaflet-popup button[type=submit]")
    page.wait_for_selector("#message >> text=Đã giao nhiệm vụ", timeout=10_000)
    with city.connect() as conn:
        assert (
            conn.execute(text("SELECT state FROM tasks WHERE hotspot_id = :h"), {"h": hotspot}).scalar_one()
            == "assigned"
        )
    assert errors == []
    page.close()


def test_team_starts_a_task_on_a_phone(chromium, server: str, city: Engine) -> None:
    with city.connect() as conn:
        team_user = conn.execute(
            text("SELECT u.username FROM users u JOIN tasks t ON t.team_id = u.team_id ORDER BY t.id LIMIT 1")
        ).scalar_one()
    page, errors = open_as(chromium, server, team_user, viewport={"width": 390, "height": 844})
    task = page.locator("article.task").first
    task_id = task.get_attribute("data-task-id")
    assert task.locator("button").count() >= 1
    task.locator("button[data-to=in_progress]").click()
    page.wait_for_selector(f"article.task[data-task-id='{task_id}'] b.state:has-text('Đang thực hiện')", timeout=10_000)
    shot(page, "team-phone")
    with city.connect() as conn:
        assert (
            conn.execute(text("SELECT state FROM tasks WHERE id = :id"), {"id": int(task_id)}).scalar_one()
            == "in_progress"
        )
    assert errors == []
    page.close()


def test_planner_approves_the_draft_year(chromium, server: str, city: Engine) -> None:
    page, errors = open_as(chromium, server, "thammuu")
    page.select_option("#year", "2026")
    page.wait_for_selector("#run-status >> text=Bản dự thảo")
    assert page.locator("#communes tr").count() == 114, (page.locator("#message").inner_text(), errors)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#approve")
    page.wait_for_selector("#run-status >> text=Đã phê duyệt", timeout=15_000)
    assert page.locator("#communes tr").count() == 114, page.locator("#message").inner_text()
    page.locator("#communes tr").first.locator("details summary").click()
    shot(page, "planner")
    with city.connect() as conn:
        assert conn.execute(text("SELECT status FROM classification_runs WHERE year = 2026")).scalar_one() == "approved"
    assert errors == []
    page.close()
