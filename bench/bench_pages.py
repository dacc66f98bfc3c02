"""Benchmark (not a test): every role's page — the team page on a cheap phone over a weak mobile link, the command
page on a desktop and on that phone, the planner's and the administrator's pages on that phone — and, with
``--national``, the Ministry's command and planner pages over the whole country on a desktop, as Debian's Chromium
loads them from ``diaban serve``, this code beside a baseline checkout.

Set-up: a throwaway PostGIS with a small synthetic city (``--incidents``, detection, the demo accounts, the lifecycle
story, an approved and a draft year and a suppression task for each of the 200 largest hotspots, as bench_api seeds
them); the team page is opened as the demo team with most open tasks, the command page as ``chihuy``, the planner's
as ``thammuu``, the administrator's as ``quantri``. ``--national``: a second database of the same cluster with the
national boundary file's 3,321 units, no incidents, last year approved and this year's draft, opened as the
Ministry's command (``bo-chihuy``), planner (``bo-thammuu``) and an administrator (``bo-quantri``: the area editor
draws every unit).

Profiles: *phone*: 360×740, CPU slowed 4× (``Emulation.setCPUThrottlingRate``) and the link 1.6 Mbit/s down,
750 kbit/s up, 150 ms round trip (``Network.emulateNetworkConditions``); *desktop*: 1400×900, no throttling.

Each page is opened after login with an empty browser cache (*cold*: a first visit), then again in the same browser
(*warm*: every later visit). Printed per page, profile and code: bytes on the wire (compressed, headers included) per
resource type, requests (and how many the cache answered), times from navigation to the first task card (team) or
the first hotspot / commune drawn on the map, to the last API answer received before the page was ready (*data*), to
the page's ``data-ready``, to the end of the first frame painted after it (*drawn*: what the page drew by then, the
maps' polygons and the tables, on screen) and to the load event, and long tasks (PerformanceObserver ``longtask``); for the phone and the Ministry's pages, the JS
functions with most self time (the CDP sampling profiler, in a separate load: the profiler slows what it measures).
The load average is printed beside each figure.

Baseline for the ratio: the same browser and link loading a bare page of the same origin with Leaflet's script and
stylesheet and one polygon, no data and no page script: what any Leaflet map costs, so the ratio says what the
page adds over the map library a user would get anyway. Before/after: ``--baseline REF`` (default ``main``) is
served from a ``git archive`` of that commit (with this checkout's vendored Leaflet) on the same database.

Run: ``.venv/bin/python bench/bench_pages.py [--incidents 30000] [--repeat 3] [--baseline main] [--national]``
(``--national-only``: the Ministry's pages alone, without seeding the city).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_api import ROOT, free_port, load_average, ours, seed_tasks, team_tasks
from common import import_as_owner, incident_csv, prepared_engine
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from api.security import hash_password
from gis.demo.accounts import DEMO_PASSWORD, DEMO_PLANNERS, seed_demo_accounts
from gis.demo.classification import seed_demo_classification
from gis.demo.lifecycle import run_lifecycle_demo
from gis.ops.postgres import APP_ROLE, ManagedCluster, temporary_cluster
from gis.services.boundary_import import import_boundaries
from gis.services.classification import draft_year
from gis.services.detection import run_detection
from gis.settings import DataSettings
from gis.store.accounts import create_user, principal_by_username
from gis.store.classifications import approve
from gis.store.db import migrate
from models.domain.hotspot_lifecycle import hotspot_lifecycle
from models.vocabulary import Role, local_today

#: Debian's Chromium as the browser tests launch it (tests/browser/test_browser.py).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@dataclass(frozen=True)
class Profile:
    """A device and its link: viewport, CPU slow-down and network (None: unthrottled)."""

    name: str
    viewport: dict[str, int]
    cpu_rate: float = 1.0
    network: dict[str, float] | None = None


PHONE = Profile(
    "phone",
    {"width": 360, "height": 740},
    cpu_rate=4.0,
    network={"latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8},
)
DESKTOP = Profile("desktop", {"width": 1400, "height": 900})

#: Before any script of the page: long tasks, and the first moment each landmark of the page is in the DOM.
WATCH = """window.benchMarks = {}; window.benchLong = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.benchLong.push(e.duration); })
  .observe({ type: "longtask", buffered: true });
const benchLandmarks = { card: "article.task", map: ".leaflet-map-pane path, .leaflet-map-pane canvas",
  ready: "body[data-ready=true]" };
new MutationObserver(() => {
  for (const [name, selector] of Object.entries(benchLandmarks)) {
    if (!(name in window.benchMarks) && document.querySelector(selector)) {
      window.benchMarks[name] = performance.now();
      // What the page drew until it said ready, painted: the end of the first frame after (a callback of the next
      // frame runs before its paint, a task queued from it after)
      if (name === "ready") requestAnimationFrame(() => setTimeout(() => { window.benchMarks.drawn = performance.now(); }));
    }
  }
}).observe(document, { subtree: true, childList: true, attributes: true });"""

#: When the data the page waited for had come: the last API answer received before the page said it was ready.
DATA_ARRIVED = """Math.max(0, ...performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.startsWith("/api/") && e.responseEnd <= window.benchMarks.ready)
  .map((e) => e.responseEnd))"""

#: The alternative: Leaflet alone on a page of the same origin (served by the browser from this text).
BARE = """<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"><script src="/static/vendor/leaflet/leaflet.js"></script>
<style>html, body, #map { height: 100%; margin: 0 }</style></head><body><div id="map"></div><script>
const map = L.map("map", { preferCanvas: true }).setView([20.86, 106.68], 10);
L.polygon([[20.8, 106.6], [20.9, 106.6], [20.9, 106.75]]).addTo(map);
document.body.dataset.ready = "true";
</script></body></html>"""


@dataclass
class Load:
    """One page load: bytes and requests per resource type, cache answers, landmark times (ms), long tasks (ms)."""

    bytes_by_type: Counter[str] = field(default_factory=Counter)
    requests_by_type: Counter[str] = field(default_factory=Counter)
    from_cache: int = 0
    marks: dict[str, float] = field(default_factory=dict)
    long_tasks: list[float] = field(default_factory=list)
    waterfall: list[tuple[float, float, int, str]] = field(default_factory=list)


class Recorder:
    """The CDP network events of a page: what each request was, how many bytes it took on the wire."""

    def __init__(self, cdp: Any) -> None:
        self.types: dict[str, str] = {}
        self.started: dict[str, tuple[float, str]] = {}
        self.load = Load()
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestServedFromCache", lambda e: self._cached(e["requestId"]))

    def _sent(self, event: dict) -> None:
        self.started[event["requestId"]] = (event["timestamp"], event["request"]["url"])

    def _response(self, event: dict) -> None:
        if not event["response"]["url"].startswith("data:"):
            self.types[event["requestId"]] = event["type"]
            if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
                self._cached(event["requestId"])

    def _cached(self, request_id: str) -> None:
        self.load.from_cache += 1

    def _finished(self, event: dict) -> None:
        kind = self.types.pop(event["requestId"], None)
        if kind is not None:
            self.load.bytes_by_type[kind] += int(event["encodedDataLength"])
            self.load.requests_by_type[kind] += 1
            start, url = self.started.pop(event["requestId"])
            self.load.waterfall.append((start, event["timestamp"], int(event["encodedDataLength"]), url))

    def reset(self) -> Load:
        """The load recorded so far; start a new one."""
        done, self.load = self.load, Load()
        return done


def throttle(cdp: Any, profile: Profile) -> None:
    """Slow the page's CPU and link to the profile's."""
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_rate})
    if profile.network:
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **profile.network})


def visit(page: Any, recorder: Recorder, url: str) -> Load:
    """Open ``url`` and wait for the page to be ready and its requests done; what the load cost."""
    recorder.reset()
    page.goto(url, wait_until="load", timeout=300_000)
    page.wait_for_selector("body[data-ready=true]", timeout=300_000)
    page.wait_for_load_state("networkidle", timeout=300_000)
    page.wait_for_function("'drawn' in window.benchMarks", timeout=300_000)
    load = recorder.reset()
    load.marks = page.evaluate("window.benchMarks")
    if arrived := page.evaluate(DATA_ARRIVED):  # none on the bare page
        load.marks["data"] = arrived
    load.marks["load"] = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    load.long_tasks = page.evaluate("window.benchLong")
    return load


def logged_in_page(browser: Any, base: str, username: str | None, profile: Profile) -> tuple[Any, Any, Any]:
    """A fresh browser context (empty cache) with ``username`` logged in (None: nobody), throttled afterwards."""
    context = browser.new_context(viewport=profile.viewport)
    if not username:  # routing turns the browser's HTTP cache off: only for the bare page, which has no warm visit
        context.route(f"{base}/bench-bare", lambda route: route.fulfill(content_type="text/html", body=BARE))
    page = context.new_page()
    page.add_init_script(WATCH)
    if username:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        page.wait_for_load_state("networkidle")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    throttle(cdp, profile)
    return context, page, cdp


def measure(browser: Any, base: str, username: str | None, profile: Profile) -> tuple[Load, Load]:
    """A first visit (empty cache) and the next one (the browser's cache as the first left it)."""
    context, page, cdp = logged_in_page(browser, base, username, profile)
    recorder = Recorder(cdp)
    url = f"{base}/" if username else f"{base}/bench-bare"
    try:
        return visit(page, recorder, url), visit(page, recorder, url)
    finally:
        context.close()


def hottest_functions(browser: Any, base: str, username: str, profile: Profile, top: int = 6) -> list[str]:
    """The JS functions with most self time in a first visit on ``profile`` (CDP sampling profiler)."""
    context, page, cdp = logged_in_page(browser, base, username, profile)
    try:
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        cdp.send("Profiler.start")
        visit(page, Recorder(cdp), f"{base}/")
        profile_data = cdp.send("Profiler.stop")["profile"]
    finally:
        context.close()
    interval_ms = (profile_data["endTime"] - profile_data["startTime"]) / 1000 / max(len(profile_data["samples"]), 1)
    hits: Counter[str] = Counter()
    for node in profile_data["nodes"]:
        frame = node["callFrame"]
        if not frame["url"]:  # (program), (idle), (garbage collector): not a script's
            if frame["functionName"] in ("(garbage collector)",):
                hits["(garbage collector)"] += node.get("hitCount", 0)
            continue
        where = f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1].split('?')[0]}"
        hits[f"{where}:{frame['lineNumber'] + 1}"] += node.get("hitCount", 0)
    return [f"{name} {count * interval_ms:.0f} ms" for name, count in hits.most_common(top)]


def median_load(loads: list[Load]) -> Load:
    """Bytes and requests of the first load (they do not vary), the median of each time, all long tasks' median."""
    out = loads[0]
    names = set().union(*(load.marks for load in loads))
    out.marks = {n: statistics.median(load.marks[n] for load in loads if n in load.marks) for n in names}
    out.long_tasks = sorted(loads, key=lambda load: sum(load.long_tasks))[len(loads) // 2].long_tasks
    return out


def describe(load: Load) -> str:
    """One load in a line: KB and requests per type, cache answers, landmarks, long tasks."""
    total = sum(load.bytes_by_type.values()) / 1024
    kinds = ", ".join(
        f"{kind.lower()} {size / 1024:.1f} KB/{load.requests_by_type[kind]}"
        for kind, size in load.bytes_by_type.most_common()
    )
    marks = " ".join(
        f"{name} {load.marks[name] / 1000:.2f} s"
        for name in ("card", "map", "data", "ready", "drawn", "load")
        if name in load.marks
    )
    long = (
        f"long tasks {len(load.long_tasks)} = {sum(load.long_tasks):.0f} ms (max {max(load.long_tasks, default=0):.0f})"
    )
    requests = sum(load.requests_by_type.values())
    return f"{total:7.1f} KB in {requests:2} requests ({load.from_cache} from cache) [{kinds}]\n        {marks}; {long}"


def waterfall(load: Load) -> str:
    """Each request of a load: when it started and ended (s from the first), its bytes and path."""
    first = min(start for start, *_ in load.waterfall)
    return "\n".join(
        f"    {start - first:6.2f} → {end - first:6.2f} s {size / 1024:7.1f} KB  {url.split('/', 3)[-1][:90]}"
        for start, end, size, url in sorted(load.waterfall)
    )


def ratio(page: Load, bare: Load) -> str:
    """A page's bytes, requests and time to ready over the bare Leaflet page's."""
    size = sum(page.bytes_by_type.values()) / max(sum(bare.bytes_by_type.values()), 1)
    requests = sum(page.requests_by_type.values()) / max(sum(bare.requests_by_type.values()), 1)
    return (
        f"{size:.1f}× bytes, {requests:.1f}× requests, {page.marks['ready'] / bare.marks['ready']:.1f}× time to ready"
    )


def baseline_tree(ref: str, into: Path) -> Path:
    """The source tree of commit ``ref`` under ``into``, with this checkout's vendored Leaflet (gitignored)."""
    archive = into / "baseline.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref], check=True)
    root = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    shutil.copytree(ROOT / "maps/static/vendor", root / "maps/static/vendor", dirs_exist_ok=True)
    return root


def seed_city(cluster: ManagedCluster, incidents: int, tmp: Path) -> str:
    """The browser tests' city (incidents, detection, demo accounts, story, classification) and bench_api's tasks;
    the demo team login with most open tasks."""
    engine = prepared_engine(cluster)
    import_as_owner(cluster, incident_csv(incidents, tmp, seed=1))
    with engine.begin() as conn:
        run_detection(conn, actor="bench")
        seed_demo_accounts(conn, hash_password)
        run_lifecycle_demo(conn, hotspot_lifecycle(180), principal_by_username(conn, "chihuy"), 180)
        seed_demo_classification(conn, 2025, 2026, *DEMO_PLANNERS)
    seed_tasks(engine)  # after the story: it needs hotspots nobody has worked on yet
    team = max(team_tasks(engine).items(), key=lambda kv: len(kv[1]))
    engine.dispose()
    print(f"team page as {team[0]} ({len(team[1])} open tasks); {load_average()}", flush=True)
    return team[0]


def measure_pages(
    browser: Any, code: str, root: Path, url: str, cases: list[tuple[str, str, Profile]], args: argparse.Namespace
) -> None:
    """Serve the tree ``root`` on the database ``url`` and print each case's first visit and revisit (with the bare
    Leaflet page's beside them)."""
    port = free_port()
    with ours(port, url, 1, root=root):
        base = f"http://127.0.0.1:{port}"
        measure(browser, base, cases[0][1], DESKTOP)  # the server's first pages (imports, caches) unmeasured
        bare = {}
        for profile in {profile.name: profile for *_, profile in cases}.values():
            bare[profile.name] = median_load([measure(browser, base, None, profile)[0] for _ in range(args.repeat)])
            print(f"{code}: bare Leaflet page, {profile.name} ({load_average()})")
            print(f"  cold {describe(bare[profile.name])}", flush=True)
        for name, user, profile in cases:
            loads = [measure(browser, base, user, profile) for _ in range(args.repeat)]
            cold, warm = (median_load([pair[i] for pair in loads]) for i in (0, 1))
            print(f"{code}: {name} page, {profile.name}, median of {args.repeat} ({load_average()})")
            print(f"  cold {describe(cold)}\n  warm {describe(warm)}")
            print(f"  cold over the bare Leaflet page: {ratio(cold, bare[profile.name])}", flush=True)
            if args.waterfall:
                print(f"  cold:\n{waterfall(cold)}\n  warm:\n{waterfall(warm)}")
            if (profile is PHONE or name.startswith("national")) and code == "now":
                print("  hottest JS (self time, cold, profiled apart):")
                for line in hottest_functions(browser, base, user, profile):
                    print(f"    {line}")


#: The database of ``--national``, beside the city's in the same cluster.
NATION_DB = "bench_nation"


def seed_nation(cluster: ManagedCluster) -> None:
    """The national boundary file's units, the Ministry's command and planner, last year approved, this year's draft
    (no incidents: every unit drug-free, the classification's size is the units')."""
    national = DataSettings().national_boundaries
    if national is None or not national.exists():
        raise SystemExit("the national boundary file is missing (../shared/data/vietnam/communes.geojson.gz)")
    cluster.create_database(NATION_DB)
    owner = create_engine(cluster.owner_url(NATION_DB), poolclass=NullPool)
    migrate(owner, app_role=APP_ROLE)
    owner.dispose()
    engine = create_engine(cluster.url(NATION_DB), poolclass=NullPool)
    this_year = local_today().year
    with engine.begin() as conn:
        import_boundaries(conn, national)
        create_user(conn, "bo-chihuy", hash_password(DEMO_PASSWORD), Role.COMMAND, None)
        create_user(conn, "bo-thammuu", hash_password(DEMO_PASSWORD), Role.PLANNER, None)
        create_user(conn, "bo-quantri", hash_password(DEMO_PASSWORD), Role.ADMIN, None)
        draft_year(conn, this_year - 1, actor="bo-thammuu")
        approve(conn, this_year - 1, actor="bo-thammuu")
        draft_year(conn, this_year, actor="bo-thammuu")
    engine.dispose()
    print(f"national database: 3,321 units, {this_year - 1} approved, {this_year} draft; {load_average()}", flush=True)


def run(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, temporary_cluster("diaban-bench-pages-") as cluster:
        cases: list[tuple[str, str, str, Profile]] = []
        if not args.national_only:
            team_user = seed_city(cluster, args.incidents, Path(tmp))
            cases += [
                (cluster.url(), "team", team_user, PHONE),
                (cluster.url(), "command", "chihuy", PHONE),
                (cluster.url(), "command", "chihuy", DESKTOP),
                (cluster.url(), "planner", "thammuu", PHONE),
                (cluster.url(), "admin", "quantri", PHONE),
            ]
        if args.national or args.national_only:
            seed_nation(cluster)
            cases += [
                (cluster.url(NATION_DB), "national command", "bo-chihuy", DESKTOP),
                (cluster.url(NATION_DB), "national planner", "bo-thammuu", DESKTOP),
                (cluster.url(NATION_DB), "national admin", "bo-quantri", DESKTOP),
            ]
        trees = {"before": baseline_tree(args.baseline, Path(tmp)), "now": ROOT} if args.baseline else {"now": ROOT}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for code, root in trees.items():
                for url in dict.fromkeys(url for url, *_ in cases):
                    measure_pages(browser, code, root, url, [case[1:] for case in cases if case[0] == url], args)
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3, help="loads of each page and profile (times: the median)")
    parser.add_argument("--waterfall", action="store_true", help="print each request of a first visit")
    parser.add_argument("--baseline", default="main", help="git ref served beside this code ('' for none)")
    parser.add_argument("--national", action="store_true", help="the Ministry's pages over the national units too")
    parser.add_argument("--national-only", action="store_true", help="the Ministry's pages alone (no city seeded)")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
