"""The folium base map of Hải Phòng, served without internet: Leaflet and its plugin from the app's own static files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import folium

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


class OfflineMap(folium.Map):
    """A folium map whose scripts and styles are the app's own copies (no CDN: police networks are closed)."""

    default_js = [
        ("leaflet", f"{VENDOR_URL}/leaflet/leaflet.js"),
        ("vectorgrid", f"{VENDOR_URL}/vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ]
    default_css = [("leaflet_css", f"{VENDOR_URL}/leaflet/leaflet.css")]


@dataclass(frozen=True)
class Basemap:
    """A basemap tile server (the app's own offline file, or an intranet server); an empty URL leaves the base to
    the page script (communes as land over water-coloured ground, the city outline, commune names by zoom)."""

    tile_url: str = ""
    attribution: str = ""
    max_native_zoom: int | None = None


def base_map(basemap: Basemap = Basemap()) -> OfflineMap:
    """The city map, with the configured basemap if any (the page script fits it to the mainland once the stylesheet has
    sized it: a fit here would still be animating then, and undo that one)."""
    fmap = OfflineMap(
        location=[20.86, 106.68],
        zoom_start=10,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
        width="100%",
        height="100%",
    )
    if basemap.tile_url:
        folium.TileLayer(
            basemap.tile_url,
            attr=basemap.attribution or "bản đồ nền",
            name="Bản đồ nền",
            control=True,
            min_zoom=MIN_ZOOM,
            max_zoom=MAX_ZOOM,
            max_native_zoom=basemap.max_native_zoom,
        ).add_to(fmap)
    return fmap
