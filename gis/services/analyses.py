"""Grid analyses over selected incidents: heat surface, Gi* cells, emerging hot-spot patterns.

The database selects and projects the incidents; the grid maths lives in models/. Results are
returned with their grid so that the API can render PNG overlays or GeoJSON cells in WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.store.incidents import incident_frame
from gis.store.selection import IncidentSelection
from models.analytics.emerging import EmergingResult, emerging_hotspots
from models.analytics.gistar import GiStarResult, gistar, neighbourhood
from models.analytics.grid import GridSpec
from models.analytics.kde import Kernel, fine_factor, kde_grid
from models.errors import InvalidRequest, NotFound
from models.vocabulary import METRIC_SRID, WGS84_SRID

#: Upper bound on grid cells per request (the city with Bạch Long Vĩ at 100 m is ~2.1 M cells).
MAX_CELLS = 4_000_000
#: Upper bound on the work units of one analysis (DIABAN_MAX_ANALYSIS_COST), checked twice: before computing, grid
#: cells × time steps × cells in a neighbourhood; before answering, OUTPUT_UNITS per cell answered as GeoJSON.
#: Measured by bench/bench_analysis_cost.py (30,000 incidents, 2 cores at load 3-4): Gi* ~94 ns and emerging ~21 ns
#: per unit, ~2 bytes of peak memory per unit; 150 M units allow the page's defaults (3 M and 35 M), 36 monthly
#: steps at 500 m (~2 s) and Gi* at 100 m, and refuse the issue-15 requests that took minutes and gigabytes.
MAX_COST = 150_000_000
#: Work units of one cell answered as a GeoJSON polygon (~75-110 µs to build and serialise: ~1,200 Gi* units), so
#: an answer holds at most 125,000 cells.
OUTPUT_UNITS = 1_200
_TO_LONLAT = Transformer.from_crs(METRIC_SRID, WGS84_SRID, always_xy=True)


class GridTooLarge(InvalidRequest):
    """The requested cell size over the selected extent gives too many cells."""

    code = "grid_too_large"


class AnalysisTooLarge(InvalidRequest):
    """The request would cost more work (cells × steps × neighbourhood) than one analysis may."""

    code = "analysis_too_large"


class NoIncidents(NotFound):
    """No incident matches the selection, so there is nothing to analyse."""

    code = "no_incidents"


@dataclass
class Surface:
    """A grid and one value per cell (row 0 = south)."""

    grid: GridSpec
    values: np.ndarray
    n_incidents: int


def neighbourhood_cells(distance_cells: float) -> int:
    """Cells in a Gi* neighbourhood of ``distance_cells`` (the middle one included)."""
    return int(neighbourhood(distance_cells).sum())


def _too_large(cost: int, max_cost: int, what_vi: str, what_en: str) -> AnalysisTooLarge:
    """The refusal of a too costly analysis, saying how to narrow it."""
    return AnalysisTooLarge(
        f"yêu cầu quá nặng: {what_vi} = {cost:,} > giới hạn {max_cost:,}; hãy chọn ô lớn hơn (cell_m), ít bước hơn"
        " (steps), khoảng lân cận nhỏ hơn (distance_cells), băng thông lớn hơn (bandwidth_m), bỏ all_cells,"
        " hoặc thu hẹp vùng (bbox) hay thời gian",
        f"analysis too large: {what_en} = {cost} work units > {max_cost}; use larger cells, fewer steps, a smaller"
        " distance, a wider bandwidth, no all_cells, or a smaller bbox or period",
    )


def _grid(
    frame: pd.DataFrame,
    cell_m: float,
    pad_m: float,
    steps: int = 1,
    neighbours: int = 1,
    max_cost: int = MAX_COST,
) -> GridSpec:
    """The grid over the selected incidents, refused (before any work) when too large or too costly."""
    if frame.empty:
        raise NoIncidents("không có vụ việc nào khớp bộ lọc", "no incident matches the filters")
    grid = GridSpec.from_points(frame["x"].to_numpy(), frame["y"].to_numpy(), cell_m, pad_m)
    cells = grid.nx * grid.ny
    if cells > MAX_CELLS:
        raise GridTooLarge(
            f"lưới quá lớn: {grid.nx}×{grid.ny} ô; hãy chọn ô lớn hơn hoặc thu hẹp vùng xem",
            "grid too large; use larger cells or a bbox",
        )
    cost = cells * steps * neighbours
    if cost > max_cost:
        raise _too_large(
            cost,
            max_cost,
            f"{cells:,} ô × {steps} bước thời gian × {neighbours} (ô lân cận hoặc điểm lưới mịn mỗi ô)",
            f"{cells} cells x {steps} steps x {neighbours} (neighbours or fine grid nodes per cell)",
        )
    return grid


def heat_surface(
    conn: Connection,
    selection: IncidentSelection,
    cell_m: float = 100.0,
    bandwidth_m: float = 200.0,
    kernel: Kernel = "gaussian",
    max_cost: int = MAX_COST,
) -> Surface:
    """Kernel density (per km²·incident share) of the selected incidents on a metric grid."""
    frame = incident_frame(conn, selection)
    # The density is binned onto a grid finer than the answer's: its nodes per cell are the work per cell.
    grid = _grid(
        frame, cell_m, 3 * bandwidth_m, neighbours=fine_factor(cell_m, bandwidth_m, kernel) ** 2, max_cost=max_cost
    )
    density = kde_grid(frame["x"].to_numpy(), frame["y"].to_numpy(), grid, bandwidth_m, kernel)
    # Expected incidents per km²: density (share per m²) × incidents × 1e6 m².
    return Surface(grid, density * len(frame) * 1e6, len(frame))


def study_area_mask(conn: Connection, grid: GridSpec) -> np.ndarray:
    """Cells whose centre lies in a current commune (land and islands), in grid shape."""
    wkb = conn.execute(
        text(
            f"SELECT ST_AsBinary(ST_Transform(ST_Union(geom), {METRIC_SRID})) FROM admin_unit_parts"
            f" WHERE geom && ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, {METRIC_SRID}), 4326)"
        ),
        dict(zip(("x0", "y0", "x1", "y1"), grid.bounds)),
    ).scalar()
    cx, cy = grid.centres()
    if wkb is None:
        return np.zeros(grid.shape, bool)
    area = shapely.from_wkb(bytes(wkb))
    shapely.prepare(area)
    return shapely.contains_xy(area, cx, cy)


def gistar_surface(
    conn: Connection,
    selection: IncidentSelection,
    cell_m: float = 250.0,
    distance_cells: float = 1.5,
    fdr: bool = True,
    max_cost: int = MAX_COST,
) -> tuple[GridSpec, GiStarResult, np.ndarray]:
    """Gi* z, p and bins on a grid of incident counts over the study area."""
    frame = incident_frame(conn, selection)
    grid = _grid(frame, cell_m, 2 * cell_m, neighbours=neighbourhood_cells(distance_cells), max_cost=max_cost)
    counts = grid.counts(frame["x"].to_numpy(), frame["y"].to_numpy())
    mask = study_area_mask(conn, grid) | (counts > 0)
    return grid, gistar(counts, mask, distance_cells, fdr=fdr), mask


def step_edges(end: datetime, steps: int, step: str) -> pd.DatetimeIndex:
    """Edges of `steps` equal time steps ('week' or 'month') ending at `end`."""
    freq = {"week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[step]
    stop = pd.Timestamp(end)
    return pd.DatetimeIndex([stop - freq * (steps - i) for i in range(steps + 1)])


def emerging_surface(
    conn: Connection,
    selection: IncidentSelection,
    end: datetime,
    steps: int = 12,
    step: str = "month",
    cell_m: float = 500.0,
    distance_cells: float = 1.5,
    max_cost: int = MAX_COST,
) -> tuple[GridSpec, EmergingResult]:
    """Emerging hot-spot pattern per cell over `steps` time steps ending at `end`."""
    edges = step_edges(end, steps, step)
    window = replace(selection, start=edges[0].to_pydatetime(), end=edges[-1].to_pydatetime())
    frame = incident_frame(conn, window)
    grid = _grid(frame, cell_m, 2 * cell_m, steps, neighbourhood_cells(distance_cells), max_cost)
    times = frame["occurred_at"].dt.as_unit("ns").astype("int64").to_numpy()
    which = np.searchsorted(edges.as_unit("ns").asi8, times, side="right") - 1
    flat = grid.flat_index(frame["x"].to_numpy(), frame["y"].to_numpy())
    ok = (which >= 0) & (which < steps) & (flat >= 0)
    cube = np.bincount(which[ok] * grid.nx * grid.ny + flat[ok], minlength=steps * grid.nx * grid.ny)
    cube = cube.reshape(steps, grid.ny, grid.nx).astype(float)
    mask = cube.sum(axis=0) > 0
    mask |= study_area_mask(conn, grid)
    return grid, emerging_hotspots(cube, mask, distance_cells)


def cells_frame(
    grid: GridSpec, keep: np.ndarray, properties: dict[str, np.ndarray], max_cost: int = MAX_COST
) -> gpd.GeoDataFrame:
    """The kept cells as WGS84 squares with per-cell properties (arrays in grid shape); refused when answering so
    many cells would cost more than ``max_cost``."""
    flat = np.flatnonzero(np.asarray(keep).ravel())
    if flat.size * OUTPUT_UNITS > max_cost:
        raise _too_large(
            flat.size * OUTPUT_UNITS,
            max_cost,
            f"{flat.size:,} ô trả về × {OUTPUT_UNITS:,}",
            f"{flat.size} cells answered x {OUTPUT_UNITS}",
        )
    b = grid.cell_bounds()[flat]
    squares = shapely.transform(
        shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]),
        lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])),
    )
    columns = {k: np.asarray(v).ravel()[flat] for k, v in properties.items()}
    return gpd.GeoDataFrame(columns, geometry=squares, crs=4326)


def grid_bounds_lonlat(grid: GridSpec) -> list[list[float]]:
    """[[south, west], [north, east]] of the grid, as Leaflet image overlays expect."""
    x0, y0, x1, y1 = grid.bounds
    lon, lat = _TO_LONLAT.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return [[min(lat), min(lon)], [max(lat), max(lon)]]
