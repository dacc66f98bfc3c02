"""The folium base map, served without internet: Leaflet and its plugin from the app's own static files."""

from __future__ import annotations

from typing import Any

import folium

from maps.assets import HAI_PHONG_VIEW, MAX_ZOOM, Basemap, MapView, static_url

#: Leaflet.VectorGrid, for the pages that draw vector tiles (the command page's incidents): 48 KB (17.6 KB on the
#: wire) the other pages would load and run for nothing; bench/bench_pages.py, the team page on a phone: 271 → 256 KB.
VECTOR_GRID = ("vectorgrid", "vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js")


class OfflineMap(folium.Map):
    """A folium map whose scripts and styles are the app's own copies (no CDN: police networks are closed), each
    under its versioned URL (maps.assets.static_url)."""

    def __init__(self, *args: Any, vector_tiles: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scripts = [("leaflet", "vendor/leaflet/leaflet.js"), *([VECTOR_GRID] if vector_tiles else [])]
        self.default_js = [(name, static_url(path)) for name, path in scripts]
        self.default_css = [("leaflet_css", static_url("vendor/leaflet/leaflet.css"))]


def base_map(basemap: Basemap = Basemap(), view: MapView = HAI_PHONG_VIEW, vector_tiles: bool = False) -> OfflineMap:
    """The map of a view, with the configured basemap if any (the page script fits it to the mainland once the
    stylesheet has sized it: a fit here would still be animating then, and undo that one); ``vector_tiles`` loads
    Leaflet.VectorGrid too."""
    (south, west), (north, east) = view.mainland
    fmap = OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=False,
        prefer_canvas=True,
        width="100%",
        height="100%",
        vector_tiles=vector_tiles,
    )
    if basemap.tile_url:
        folium.TileLayer(
            basemap.tile_url,
            attr=basemap.attribution or "bản đồ nền",
            name="Bản đồ nền",
            control=True,
            min_zoom=view.min_zoom,
            max_zoom=MAX_ZOOM,
            max_native_zoom=basemap.max_native_zoom,
        ).add_to(fmap)
    return fmap
