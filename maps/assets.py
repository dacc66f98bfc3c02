"""Where the pages' files are served and which basemap they draw: what the server needs at start, without folium
(imported only when a page is drawn, maps.base_map: ~90 MB a server process would carry otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

#: Stylesheets and scripts of the pages, and (copied by `make` from npm) the vendor libraries.
STATIC_DIR = Path(str(files("maps").joinpath("static")))
STATIC_URL = "/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
#: Mainland Hải Phòng and Cát Bà; Bạch Long Vĩ (~130 km offshore) has its own button instead.
MAINLAND_BOUNDS = [[20.55, 106.05], [21.25, 107.15]]
BACH_LONG_VI = [20.135, 107.73]
#: How far the map may be panned: the city with Bạch Long Vĩ and a margin of 40-60 km (no grey world), wide enough
#: that a phone's view of the mainland (1.6° × 1.5° at zoom 8.75) is not pushed off it.
MAX_BOUNDS = [[19.6, 105.5], [21.9, 108.3]]
#: The widest view: the whole city with Bạch Long Vĩ on a phone; the deepest: a house (zoom 19).
MIN_ZOOM, MAX_ZOOM = 8, 19
#: Where the app serves an offline basemap file (api/routes/basemap.py).
OFFLINE_TILE_URL = "/tiles/base/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class Basemap:
    """A basemap tile server (the app's own offline file, or an intranet server); an empty URL leaves the base to
    the page script (communes as land over water-coloured ground, the city outline, commune names by zoom)."""

    tile_url: str = ""
    attribution: str = ""
    max_native_zoom: int | None = None
