"""The folium base map, served without internet: Leaflet and its plugin from the app's own static files."""

from __future__ import annotations

import folium

from maps.assets import HAI_PHONG_VIEW, MAX_ZOOM, VENDOR_URL, Basemap, MapView


class OfflineMap(folium.Map):
    """A folium map whose scripts and styles are the app's own copies (no CDN: police networks are closed)."""

    default_js = [
        ("leaflet", f"{VENDOR_URL}/leaflet/leaflet.js"),
        ("vectorgrid", f"{VENDOR_URL}/vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ]
    default_css = [("leaflet_css", f"{VENDOR_URL}/leaflet/leaflet.css")]


def base_map(basemap: Basemap = Basemap(), view: MapView = HAI_PHONG_VIEW) -> OfflineMap:
    """The map of a view, with the configured basemap if any (the page script fits it to the mainland once the
    stylesheet has sized it: a fit here would still be animating then, and undo that one)."""
    (south, west), (north, east) = view.mainland
    fmap = OfflineMap(
        location=[(south + north) / 2, (west + east) / 2],
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
            min_zoom=view.min_zoom,
            max_zoom=MAX_ZOOM,
            max_native_zoom=basemap.max_native_zoom,
        ).add_to(fmap)
    return fmap
