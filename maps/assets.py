"""Where the pages' files are served and which basemap they draw: what the server needs at start, without folium
(imported only when a page is drawn, maps.base_map: ~90 MB a server process would carry otherwise)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

#: Stylesheets and scripts of the pages, and (copied by `make` from npm) the vendor libraries.
STATIC_DIR = Path(str(files("maps").joinpath("static")))
STATIC_URL = "/static"
#: The query parameter of a static file's version (its content's hash): a URL that carries it may be kept for ever.
VERSION_PARAM = "v"


@lru_cache(maxsize=64)
def _content_hash(path: Path, mtime_ns: int, size: int) -> str:
    """The first 12 hex digits of the file's SHA-256 (read again only when its time or size changes)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_version(relative: str, static_dir: Path = STATIC_DIR) -> str:
    """The version of a static file: its content's hash (the same file, the same version on every server)."""
    path = static_dir / relative
    stat = path.stat()
    return _content_hash(path, stat.st_mtime_ns, stat.st_size)


def static_url(relative: str, static_dir: Path = STATIC_DIR) -> str:
    """The URL of a static file with its version, e.g. /static/js/team.js?v=1a2b3c4d5e6f: the server lets browsers
    keep it a year without asking again (api.app.VersionedStatic), and a changed file gets a new URL. Before, the files
    went with no Cache-Control: a browser kept them only as long as its own guess (a tenth of their age since last
    modified), then a phone on a 150 ms link asked again for each of a page's 6 files (bench/bench_pages.py), and a
    guess still running after a deployment gave a new page the old scripts."""
    return f"{STATIC_URL}/{relative}?{VERSION_PARAM}={file_version(relative, static_dir)}"


#: Mainland Hải Phòng and Cát Bà; Bạch Long Vĩ (~130 km offshore) has its own button instead.
MAINLAND_BOUNDS = [[20.55, 106.05], [21.25, 107.15]]
BACH_LONG_VI = [20.135, 107.73]
#: How far the map may be panned: the city with Bạch Long Vĩ and a margin of 40-60 km (no grey world), wide enough
#: that a phone's view of the mainland (1.6° × 1.5° at zoom 8.75) is not pushed off it.
MAX_BOUNDS = [[19.6, 105.5], [21.9, 108.3]]
#: The widest view: the whole city with Bạch Long Vĩ on a phone; the deepest: a house (zoom 19).
MIN_ZOOM, MAX_ZOOM = 8, 19
#: How far beyond a view's units its map may be panned (Hải Phòng's tuned bounds leave 40-60 km).
VIEW_MARGIN_M = 50_000.0
#: The map a view's units must fit at its widest zoom: a phone's, 390 px wide less the page's margins.
PHONE_MAP_PX = 360
#: Web Mercator: the world is 256 px wide at zoom 0.
TILE_PX = 256
#: A lon/lat box: west, south, east, north.
LonLatBox = tuple[float, float, float, float]
#: Vietnam with Hoàng Sa and Trường Sa: the view before any boundary is loaded.
VIETNAM: LonLatBox = (102.1, 7.1, 117.9, 23.4)


@dataclass(frozen=True)
class MapView:
    """Where a page's map opens and how far it may go, in Leaflet's [[south, west], [north, east]]: ``mainland``
    (the opening fit and the «Đất liền» button), ``max_bounds`` (panning and the search's out-of-area check),
    ``min_zoom`` (the widest view), ``offshore`` (whether units lie outside the mainland fit) and ``island`` (the
    one far-off island with a button of its own, Hải Phòng's Bạch Long Vĩ)."""

    mainland: list[list[float]]
    max_bounds: list[list[float]]
    min_zoom: int
    offshore: bool = False
    island: list[float] | None = None

    def config(self) -> dict[str, object]:
        """The page script's keys."""
        return {
            "mainland": self.mainland,
            "maxBounds": self.max_bounds,
            "minZoom": self.min_zoom,
            "offshore": self.offshore,
            "bachLongVi": self.island,
        }


#: Hải Phòng's view, tuned by hand on a phone and a desktop before provinces existed (its computed extent,
#: 106.12-107.21 E × 20.60-21.24 N without Bạch Long Vĩ, lies within 0.07° of MAINLAND_BOUNDS).
HAI_PHONG_VIEW = MapView(MAINLAND_BOUNDS, MAX_BOUNDS, MIN_ZOOM, offshore=True, island=BACH_LONG_VI)
#: Views tuned by hand, by province code: the others are computed from their units (map_view).
TUNED_VIEWS = {"31": HAI_PHONG_VIEW}


def leaflet_bounds(box: LonLatBox) -> list[list[float]]:
    """A lon/lat box as Leaflet's [[south, west], [north, east]]."""
    return [[box[1], box[0]], [box[3], box[2]]]


def fitting_zoom(box: LonLatBox, px: int = PHONE_MAP_PX) -> int:
    """The deepest whole zoom at which ``box`` fits a square map of ``px`` pixels (Web Mercator): Hải Phòng with
    Bạch Long Vĩ fits a phone at 8, Vietnam with Hoàng Sa and Trường Sa at 4 (at 5 only its mainland)."""

    def mercator(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width = (box[2] - box[0]) / 360.0
    height = (mercator(box[3]) - mercator(box[1])) / (2 * math.pi)
    span = max(width, height, 1e-9)  # a point fits at any zoom
    return math.floor(math.log2(px / (TILE_PX * span)))


def map_view(province_code: str | None, mainland: LonLatBox | None, whole: LonLatBox | None) -> MapView:
    """The view of a province (None: of every province loaded): a tuned one (TUNED_VIEWS), else the units' mainland
    to open on, the whole extent widened by VIEW_MARGIN_M to pan in, and a widest zoom at which the whole extent
    fits a phone (never narrower than Hải Phòng's, MIN_ZOOM: a small province still shows its surroundings).
    Without units (None) the view is the country's."""
    if province_code in TUNED_VIEWS:
        return TUNED_VIEWS[province_code]
    if mainland is None or whole is None:
        mainland = whole = VIETNAM
    west, south, east, north = whole
    dy = VIEW_MARGIN_M / 111_320.0
    dx = dy / max(math.cos(math.radians((south + north) / 2)), 0.1)
    return MapView(
        mainland=leaflet_bounds(mainland),
        max_bounds=leaflet_bounds((west - dx, south - dy, east + dx, north + dy)),
        min_zoom=min(MIN_ZOOM, fitting_zoom(whole)),
        offshore=mainland != whole,
    )


#: Where the app serves an offline basemap file (api/routes/basemap.py).
OFFLINE_TILE_URL = "/tiles/base/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class Basemap:
    """A basemap tile server (the app's own offline file, or an intranet server); an empty URL leaves the base to
    the page script (communes as land over water-coloured ground, the city outline, commune names by zoom)."""

    tile_url: str = ""
    attribution: str = ""
    max_native_zoom: int | None = None
