"""Grid analyses over selected incidents: heat surface, Gi* cells, emerging hot-spot patterns.

The database selects and projects the incidents; the grid maths lives in models/. Results are
returned with their grid so that the API can render PNG overlays or GeoJSON cells in WGS84.
The heat surface follows the view; Gi* and emerging patterns are statistics against a city-wide
population, so they are computed once over the whole city on a grid anchored on the boundaries and
only then clipped to the user's area and view: a cell has the same bin for command and for the team
that owns it, and panning the map changes nothing but which cells are shown.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from gis.store.data_versions import data_versions
from gis.store.incidents import incident_frame, incident_points
from gis.store.provinces import loaded_provinces
from gis.store.scoping import TEAM_COMMUNES, UNRESTRICTED, AreaScope
from gis.store.selection import IncidentSelection
from models.analytics.emerging import EmergingOptions, EmergingResult, emerging_lattice
from models.analytics.gistar import GiStarResult, gistar_lattice
from models.analytics.grid import GridSpec
from models.analytics.kde import Kernel, fine_factor, kde_grid
from models.analytics.lattice import Lattice, cells_in_polygons, neighbourhood
from models.errors import InvalidRequest, NotFound
from models.lazy import lazy_module
from models.vocabulary import LOCAL_TZ, METRIC_DOMAIN, METRIC_SRID, WGS84_SRID

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
else:
    pd = lazy_module("pandas")

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
_TO_METRIC = Transformer.from_crs(WGS84_SRID, METRIC_SRID, always_xy=True)


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
    #: Selected incidents without a point (placed by commune code or address): not on the surface.
    n_without_point: int = 0
    #: Selected incidents farther than CITY_PAD_M from every commune (a stray record): listed, never gridded.
    n_outside_city: int = 0


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
    x: np.ndarray,
    y: np.ndarray,
    cell_m: float,
    pad_m: float,
    steps: int = 1,
    neighbours: int = 1,
    max_cost: int = MAX_COST,
) -> GridSpec:
    """The grid over the selected incidents' points, refused (before any work) when too large or too costly."""
    if x.size == 0:
        raise NoIncidents("không có vụ việc nào khớp bộ lọc", "no incident matches the filters")
    grid = GridSpec.from_points(x, y, cell_m, pad_m)
    cells = grid.nx * grid.ny
    if cells > MAX_CELLS:
        raise GridTooLarge(
            f"lưới quá lớn: {grid.nx}×{grid.ny} ô; hãy chọn ô lớn hơn hoặc thu hẹp vùng xem",
            "grid too large; use larger cells or a bbox",
        )
    _check_cost(cells, steps, neighbours, max_cost)
    return grid


def _check_cost(cells: int, steps: int, neighbours: int, max_cost: int) -> None:
    """Refuse (before the statistics run) an analysis of more than ``max_cost`` work units."""
    cost = cells * steps * neighbours
    if cost > max_cost:
        raise _too_large(
            cost,
            max_cost,
            f"{cells:,} ô × {steps} bước thời gian × {neighbours} (ô lân cận hoặc điểm lưới mịn mỗi ô)",
            f"{cells} cells x {steps} steps x {neighbours} (neighbours or fine grid nodes per cell)",
        )


#: Cache of city-wide results: ``memo(key, build)`` returns the value kept under key, else builds it.
Memo = Callable[[Hashable, Callable[[], Any]], Any]


def no_memo(key: Hashable, build: Callable[[], Any]) -> Any:
    """A Memo that keeps nothing: ``build()`` every time (callers without the server's cache, the CLI and tests)."""
    return build()


def heat_surface(
    conn: Connection,
    selection: IncidentSelection,
    cell_m: float = 100.0,
    bandwidth_m: float = 200.0,
    kernel: Kernel = "gaussian",
    max_cost: int = MAX_COST,
    memo: Memo | None = None,
) -> Surface:
    """Kernel density (per km²·incident share) of the selected incidents on a metric grid.

    The grid covers the selected incidents that lie in the city (its boundaries plus CITY_PAD_M): one stray
    record 1,000 km away (kept as ``outside`` by the import) must not stretch the grid over the sea and the
    mainland; it is counted in ``n_outside_city`` instead. One statement reads the points (incident_points); the
    city's extent is kept in ``memo`` under the boundaries' version read with them (over the national file's
    108,535 boundary pieces it takes 3.0–3.2 s, which every provincial heat map paid before).
    """
    points = incident_points(conn, selection)
    extent = (memo or no_memo)(("city_extent", points.boundaries_version), lambda: city_extent(conn))
    inside = extent.contains(points.x, points.y)
    away = int(points.x.size - np.count_nonzero(inside))
    x, y, n_without = points.x[inside], points.y[inside], points.n_without_point
    del points, inside  # the whole read is not kept while the density is computed
    # The density is binned onto a grid finer than the answer's: its nodes per cell are the work per cell.
    neighbours = fine_factor(cell_m, bandwidth_m, kernel) ** 2
    grid = _grid(x, y, cell_m, 3 * bandwidth_m, neighbours=neighbours, max_cost=max_cost)
    density = kde_grid(x, y, grid, bandwidth_m, kernel)
    # Expected incidents per km²: density (share per m²) × incidents × 1e6 m².
    density *= x.size * 1e6
    return Surface(grid, density, int(x.size), n_without, away)


@dataclass(frozen=True)
class Extent:
    """A metric box (EPSG:32648)."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    #: Memory held, for the cache's budget (four floats).
    nbytes = 32

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which points lie in the box (edges included)."""
        return (x >= self.xmin) & (x <= self.xmax) & (y >= self.ymin) & (y <= self.ymax)


def city_extent(conn: Connection, province: str | None = None) -> Extent:
    """The current boundaries' metric extent (of one province's, when given) plus CITY_PAD_M: where a grid analysis
    may lay cells."""
    pieces = AreaScope(province_code=province)  # every piece when None
    extent = conn.execute(
        text(f"""SELECT ST_Extent(ST_Transform(p.geom, {METRIC_SRID}))::box2d::text FROM admin_unit_parts p
                 WHERE {pieces.communes("p.code")}"""),
        pieces.params,
    ).scalar()
    if extent is None:
        raise NoIncidents("chưa có ranh giới hành chính", "no boundaries imported")
    xmin, ymin, xmax, ymax = map(float, extent[4:-1].replace(",", " ").split())
    return Extent(xmin - CITY_PAD_M, ymin - CITY_PAD_M, xmax + CITY_PAD_M, ymax + CITY_PAD_M)


class NoStudyProvince(InvalidRequest):
    """A nation-wide user asked for a per-province analysis without a view to say which province."""

    code = "no_study_province"


def study_province(conn: Connection, scope: AreaScope, bbox: tuple[float, float, float, float] | None) -> str | None:
    """The province whose boundaries a city-wide analysis (Gi*, emerging hot spots) covers: None when the database
    holds one province (its whole extent, as before provinces existed); else the user's province, a team's (the one
    holding most of its communes), or, for a nation-wide user, the province of the unit nearest the view's centre.

    Nationally one grid over the country would not do: at Gi*'s 250 m it is 51 M cells (refused by CITY_MAX_CELLS),
    and emerging hot spots' land cells at 500 m took 30-75 s to find (bench/bench_national.py's data, 2 cores).
    """
    if len(loaded_provinces(conn, 2)) < 2:
        return None
    if scope.province_code is not None:
        return scope.province_code
    if scope.team_id is not None:
        # One province since a team's area may not span two (gis.store.accounts); an older area that does is studied
        # in the province holding most of its communes (the smallest code on a tie), as README says.
        return conn.execute(
            text(f"""SELECT u.province_code FROM admin_units u WHERE u.valid_to IS NULL
                     AND u.code IN ({TEAM_COMMUNES}) GROUP BY u.province_code
                     ORDER BY count(*) DESC, u.province_code LIMIT 1"""),
            scope.params,
        ).scalar()
    if bbox is None:
        raise NoStudyProvince(
            "Gi* và điểm nóng mới nổi được tính cho từng tỉnh: hãy gửi vùng đang xem (bbox) để chọn tỉnh",
            "these analyses run per province: send the view (bbox) to choose one",
        )
    return conn.execute(
        text(f"""SELECT u.province_code FROM admin_unit_parts p JOIN admin_units u ON u.code = p.code
                   AND u.valid_to IS NULL
                 ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint(:x, :y), {WGS84_SRID}) LIMIT 1"""),
        {"x": (bbox[0] + bbox[2]) / 2, "y": (bbox[1] + bbox[3]) / 2},
    ).scalar()


#: Margin of the city grid around the current boundaries (coastal incidents assigned to the nearest commune).
CITY_PAD_M = 1_000.0
#: The city grid is virtual (only study-area cells are kept): Hải Phòng at 50 m is 8.5 M grid cells of which
#: 1.2 M are land, found in 3.5 s with their neighbour lists in 2.6 s (measured on the real boundaries).
CITY_MAX_CELLS = 20_000_000


@dataclass(frozen=True)
class CityCells:
    """The study-area cells of the city grid at one cell size and the commune each cell belongs to ('' if none).

    The grid is anchored on the boundaries' extent (origin on a multiple of the cell size), never on the
    incidents selected, so a cell is the same cell for every user, view and filter.
    """

    lattice: Lattice
    commune: np.ndarray

    @property
    def nbytes(self) -> int:
        """Memory held, for the cache's budget."""
        return int(self.lattice.cells.nbytes + self.commune.size * 8)

    def visible(self, communes: Collection[str] | None, bbox: tuple[float, float, float, float] | None) -> np.ndarray:
        """Cells a user sees: in the team's communes (None: all) and touching the lon/lat view (None: all)."""
        keep = np.ones(self.lattice.n, bool)
        if communes is not None:
            keep &= np.isin(self.commune, list(communes))
        if bbox is not None:
            # The view within the metric domain first (cells lie there): far from 105° E a corner projects to inf or
            # wraps, and a world-wide view had kept no cell. Its projected extent from its densified edges.
            lo_x, lo_y, hi_x, hi_y = METRIC_DOMAIN
            west, south, east, north = max(bbox[0], lo_x), max(bbox[1], lo_y), min(bbox[2], hi_x), min(bbox[3], hi_y)
            if west > east or south > north:
                return np.zeros(self.lattice.n, bool)
            x0, y0, x1, y1 = _TO_METRIC.transform_bounds(west, south, east, north, densify_pts=21)
            b = self.lattice.grid.cell_bounds()[self.lattice.cells]
            keep &= (b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1)
        return keep


def city_grid(conn: Connection, cell_m: float, province: str | None = None) -> GridSpec:
    """The city grid at ``cell_m`` (a province's, when given): the current boundaries' extent plus CITY_PAD_M, origin
    snapped to the cell size (so a cell is the same cell in every province's grid)."""
    box = city_extent(conn, province)
    x0 = np.floor(box.xmin / cell_m) * cell_m
    y0 = np.floor(box.ymin / cell_m) * cell_m
    grid = GridSpec.from_bounds(x0, y0, box.xmax, box.ymax, cell_m)
    if grid.nx * grid.ny > CITY_MAX_CELLS:
        raise GridTooLarge(
            f"lưới toàn thành phố quá lớn ở ô {cell_m:g} m ({grid.nx}×{grid.ny} ô); hãy chọn ô lớn hơn",
            "city grid too large; use larger cells",
        )
    return grid


def land_cells(conn: Connection, grid: GridSpec, province: str | None = None) -> CityCells:
    """Cells of ``grid`` whose centre lies in a current commune (of ``province``, when given; land and islands),
    with that commune's code."""
    pieces = AreaScope(province_code=province)  # every piece when None
    rows = conn.execute(
        text(f"""SELECT p.code, ST_AsBinary(ST_Transform(p.geom, {METRIC_SRID})) FROM admin_unit_parts p
                 WHERE {pieces.communes("p.code")} ORDER BY p.id"""),
        pieces.params,
    ).all()
    polygons = np.array([shapely.from_wkb(bytes(wkb)) for _, wkb in rows], dtype=object)
    lattice, codes = cells_in_polygons(grid, polygons, np.array([code for code, _ in rows], dtype=object))
    return CityCells(lattice, codes)


def city_cells(conn: Connection, cell_m: float, memo: Memo = no_memo, province: str | None = None) -> CityCells:
    """The land cells of the city grid at ``cell_m``, of one province when given (kept until the boundaries
    change)."""
    key = ("land", cell_m, province, data_versions(conn).boundaries)
    return memo(key, lambda: land_cells(conn, city_grid(conn, cell_m, province), province))


def _study_cells(land: CityCells, flat: np.ndarray, communes: np.ndarray, include_land: bool = True) -> CityCells:
    """The study-area cells: the land cells (unless only locations with data are asked for) and the cells holding
    incidents, named after their land commune or, off the land, after an incident's commune."""
    base = land.lattice.cells if include_land else land.lattice.cells[:0]
    lattice = Lattice.from_flat(land.lattice.grid, np.concatenate([base, flat]))
    commune = np.full(lattice.n, "", dtype=object)
    on_land = lattice.position(land.lattice.cells)
    commune[on_land[on_land >= 0]] = land.commune[on_land >= 0]
    at = lattice.position(flat)
    unnamed = (at >= 0) & (commune[np.maximum(at, 0)] == "")
    commune[at[unnamed]] = communes[unnamed]
    return CityCells(lattice, commune)


def _city_incidents(conn: Connection, selection: IncidentSelection, land: CityCells) -> tuple[pd.DataFrame, np.ndarray]:
    """The incidents of a city-wide analysis (the selection's dates and kinds, never a view or an area), with
    their flat index on the city grid (-1 outside it) and their commune code ('' if none)."""
    codes = sorted(set(land.commune))
    frame = incident_frame(conn, replace(selection, bbox=None, communes=None, scope=UNRESTRICTED), codes)
    if frame.empty:
        raise NoIncidents("không có vụ việc nào khớp bộ lọc", "no incident matches the filters")
    frame["flat"] = land.lattice.grid.flat_index(frame["x"].to_numpy(), frame["y"].to_numpy())
    return frame, frame["commune_code"].astype(object).fillna("").to_numpy(dtype=object)


@dataclass(frozen=True)
class CityGiStar:
    """Gi* of every study-area cell of the city (land and cells with incidents) for one selection."""

    cells: CityCells
    result: GiStarResult

    @property
    def nbytes(self) -> int:
        """Memory held, for the cache's budget."""
        return self.cells.nbytes + sum(a.nbytes for a in (self.result.z, self.result.p, self.result.bin))


def city_gistar(
    conn: Connection,
    selection: IncidentSelection,
    cell_m: float = 250.0,
    distance_cells: float = 1.5,
    fdr: bool = True,
    permutations: int = 0,
    memo: Memo = no_memo,
    max_cost: int = MAX_COST,
    province: str | None = None,
) -> CityGiStar:
    """Gi* z, p, bins and no-neighbour flags over the whole city (one province of several: ``study_province``),
    once per data version and parameters.

    Only the selection's dates and kinds matter: the view and the user's area clip the answer afterwards
    (CityCells.visible), so the same cell has the same bin for every user and every pan of the map.
    """
    versions = data_versions(conn)
    key = (
        *("gistar", selection.start, selection.end, selection.kinds, cell_m, distance_cells, fdr, permutations),
        province,
        versions.incidents,
        versions.boundaries,
    )

    def build() -> CityGiStar:
        land = city_cells(conn, cell_m, memo, province)
        frame, communes = _city_incidents(conn, selection, land)
        flat = frame["flat"].to_numpy()
        cells = _study_cells(land, flat, communes)
        _check_cost(cells.lattice.n, 1, neighbourhood_cells(distance_cells) * (1 + permutations), max_cost)
        at = cells.lattice.position(flat)
        counts = np.bincount(at[at >= 0], minlength=cells.lattice.n).astype(float)
        result = gistar_lattice(counts, cells.lattice.weights(distance_cells), fdr, permutations)
        return CityGiStar(cells, result)

    return memo(key, build)


def step_edges(end: datetime, steps: int, step: str) -> pd.DatetimeIndex:
    """Edges of `steps` equal time steps ('week' or 'month') ending at `end`, months of Hải Phòng's calendar whatever
    the zone `end` comes in (the latest incident comes in the database session's)."""
    freq = {"week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[step]
    stop = pd.Timestamp(end).tz_convert(LOCAL_TZ)
    return pd.DatetimeIndex([stop - freq * (steps - i) for i in range(steps + 1)])


@dataclass(frozen=True)
class CityEmerging:
    """Emerging hot-spot pattern of every study-area cell of the city for one selection and window."""

    cells: CityCells
    result: EmergingResult

    @property
    def nbytes(self) -> int:
        """Memory held, for the cache's budget."""
        return self.cells.nbytes + self.result.z.nbytes * 2 + self.result.pattern.size * 8


def city_emerging(
    conn: Connection,
    selection: IncidentSelection,
    end: datetime,
    steps: int = 12,
    step: str = "month",
    cell_m: float = 500.0,
    distance_cells: float = 1.5,
    options: EmergingOptions = EmergingOptions(),
    memo: Memo = no_memo,
    max_cost: int = MAX_COST,
    province: str | None = None,
) -> CityEmerging:
    """Emerging hot-spot patterns over the whole city (one province of several: ``study_province``) for `steps`
    steps ending at `end` (clipped by the caller)."""
    versions = data_versions(conn)
    key = (
        *("emerging", selection.kinds, end, steps, step, cell_m, distance_cells, options),
        province,
        versions.incidents,
        versions.boundaries,
    )

    def build() -> CityEmerging:
        edges = step_edges(end, steps, step)
        window = replace(selection, start=edges[0].to_pydatetime(), end=edges[-1].to_pydatetime())
        land = city_cells(conn, cell_m, memo, province)
        frame, communes = _city_incidents(conn, window, land)
        flat = frame["flat"].to_numpy()
        times = frame["occurred_at"].dt.as_unit("ns").astype("int64").to_numpy()
        which = np.searchsorted(edges.as_unit("ns").asi8, times, side="right") - 1
        ok = (which >= 0) & (which < steps) & (flat >= 0)
        # ArcGIS without an analysis mask: only locations with at least one incident in some step.
        cells = _study_cells(land, flat[ok], communes[ok], include_land=options.locations == "land")
        _check_cost(cells.lattice.n, steps, neighbourhood_cells(distance_cells), max_cost)
        at = cells.lattice.position(flat[ok])
        cube = np.zeros((steps, cells.lattice.n))
        np.add.at(cube, (which[ok], at), 1.0)
        return CityEmerging(cells, emerging_lattice(cube, cells.lattice.weights(distance_cells), options))

    return memo(key, build)


def cells_frame(
    grid: GridSpec, flat: np.ndarray, properties: dict[str, np.ndarray], max_cost: int = MAX_COST
) -> gpd.GeoDataFrame:
    """The cells of the given flat indices as WGS84 squares with their properties (one value per cell given);
    refused when answering so many cells would cost more than ``max_cost``."""
    import geopandas as gpd  # here: only GeoJSON cells need it, and every server process would carry it

    flat = np.asarray(flat, np.int64)
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
    return gpd.GeoDataFrame({k: np.asarray(v) for k, v in properties.items()}, geometry=squares, crs=4326)


def grid_bounds_lonlat(grid: GridSpec) -> list[list[float]]:
    """[[south, west], [north, east]] of the grid, as Leaflet image overlays expect."""
    x0, y0, x1, y1 = grid.bounds
    lon, lat = _TO_LONLAT.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
    return [[min(lat), min(lon)], [max(lat), max(lon)]]
