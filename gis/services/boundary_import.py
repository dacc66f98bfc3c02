"""Import commune boundaries (GeoJSON, GeoPackage, Shapefile; any CRS) as versioned admin units.

Geometry is repaired, forced to MultiPolygon in EPSG:4326 and hashed: re-importing the same file
changes nothing; a changed boundary closes the old version (valid_to) and opens a new one.

With an end date (`valid_to`) a file is an earlier set of units (e.g. the communes before the 1 July 2025
reorganisation, when a user has their geometry): its versions are stored closed, beside the current ones,
never touching them; a version overlapping another of the same code in time is rejected. Incidents of the
period are then given the unit valid at their date (`incidents.period_code`, see `assign_periods`).

What is stored per commune follows the current boundaries in the same transaction (`replace_stored`): the incidents
with a point get the commune that now contains them (or the nearest one), the hotspots the commune of their
centroid (a history entry each), the suppression tasks not yet ended their hotspot's commune (a history entry each).
Nothing else is rewritten: an incident without a point keeps the unit its record names, an incident dated before
the new version keeps the unit of its date (`period_code`), classifications keep the communes they were made on
(an approved one is a record), team areas name codes (a unit's code outlives its boundary). Each import is recorded
in `import_runs` (dataset ``boundaries``: who, which file, units stored and rejected).

A file of current units may be declared the whole current set of the provinces it covers (``whole``, the command's
`--whole`): a current unit of those provinces missing from the file is then closed too (a commune merged into its
neighbour), and what is stored there follows the new boundaries like the rest. Team areas naming a closed unit are
counted, not changed: the administrator re-draws them (no unit names its successor).
"""

from __future__ import annotations

import getpass
import hashlib
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio.errors import DataSourceError
from sqlalchemy import Connection, text

from gis.io.readers import FileFormatError
from gis.settings import DataSettings
from gis.store.communes import closed_unit_heirs
from gis.store.hotspots import replace_hotspots
from gis.store.import_runs import ImportReport, dry_run_savepoint, finish_import_run, start_import_run
from gis.store.incident_load import follow_closed_units, replace_incidents
from gis.store.periods import assign_periods
from gis.store.sql import current_unit
from gis.store.tasks import follow_hotspots
from gis.store.unit_parts import refresh_unit_parts
from gis.unit_directory import unit_directory
from models.domain.dates import vn_day
from models.domain.unit_mapping import REFORM_DATE
from models.errors import Conflict, InvalidRequest
from models.vocabulary import METRIC_DOMAIN, METRIC_SRID, UnitKind, local_today

#: Default start of validity: the 1 July 2025 two-tier reorganisation.
DEFAULT_VALID_FROM = REFORM_DATE
#: Longest unit and province codes the tables hold.
CODE_MAX, PROVINCE_CODE_MAX = 16, 8
_KIND_PREFIX = {"phường": UnitKind.PHUONG, "xã": UnitKind.XA, "đặc khu": UnitKind.DAC_KHU}


@dataclass
class BoundaryReport:
    """What a boundary import did, and the features it could not use."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    #: Current units of the file's provinces missing from a file declared whole (`whole`), closed at its date.
    closed_missing: int = 0
    repaired: int = 0
    #: Units whose file named no province, given the one the unit directory knows for their code.
    provinces_from_directory: int = 0
    #: Units whose file named no province and whose code the directory does not know (a code made by a later
    #: reorganisation), given the province of the stored units they lie on.
    provinces_from_units: int = 0
    #: Units whose `kind` was not a unit kind, read from the type in their full name ("xã Bắc Sơn" → xã).
    kinds_from_name: int = 0
    #: Incidents whose unit at their date was (re)computed after an earlier set of units was imported.
    reassigned: int = 0
    #: Incidents with a point whose commune (or its assignment, or their unit at their date) the new current
    #: boundaries changed.
    incidents_moved: int = 0
    #: Incidents without a point whose commune the import closed, split across several current units: kept in no
    #: commune with those as candidates (`follow_closed_units`; those of a commune merged wholly into one current
    #: unit follow it and count in `incidents_moved`).
    incidents_ambiguous: int = 0
    #: Hotspots whose centroid now lies in another commune (or in none, or in one at last).
    hotspots_moved: int = 0
    #: Suppression tasks not yet ended that followed their hotspot into another commune.
    tasks_moved: int = 0
    #: Teams whose area, on the import's date or later, names a unit it closed as missing: to be re-drawn.
    team_areas_to_redraw: int = 0
    #: The import's row in `import_runs` (None in a dry run: it was rolled back with the rest).
    import_id: int | None = None
    rejects: list[dict] = field(default_factory=list)
    #: What the administrator must act on, in Vietnamese (`closed_warnings`): each team whose area names a unit the
    #: import closed, with the units that took its ground; each closed unit whose ground no current unit took.
    warnings: list[str] = field(default_factory=list)
    #: A dry run's report (`dry_run_savepoint`): what the import would do now; nothing was kept.
    dry_run: bool = False

    @property
    def nothing_usable(self) -> bool:
        """Every feature of the file was rejected: no unit stored, none found unchanged (the API answers 422)."""
        return bool(self.rejects) and not (self.inserted or self.updated or self.unchanged)

    def summary(self) -> dict[str, int]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "closed": self.closed,
            "closed_missing": self.closed_missing,
            "repaired": self.repaired,
            "provinces_from_directory": self.provinces_from_directory,
            "provinces_from_units": self.provinces_from_units,
            "kinds_from_name": self.kinds_from_name,
            "reassigned": self.reassigned,
            "incidents_moved": self.incidents_moved,
            "incidents_ambiguous": self.incidents_ambiguous,
            "hotspots_moved": self.hotspots_moved,
            "tasks_moved": self.tasks_moved,
            "team_areas_to_redraw": self.team_areas_to_redraw,
            "rejected": len(self.rejects),
        }


def _kind_from_name(full_name: str) -> str:
    lowered = unicodedata.normalize("NFC", full_name).lower()
    return next((kind for prefix, kind in _KIND_PREFIX.items() if lowered.startswith(prefix)), "")


def _polygonal(geoms: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Repair the geometries not ``valid`` and keep only their polygonal parts, as MultiPolygons (vectorised).

    make_valid returns a valid geometry unchanged (the same WKB for the 3,131 valid units of the national file) but
    checks its validity again, which the caller has done: 3 s saved on that file's read (load 7).
    """
    fixed = geoms.copy()
    fixed[~valid] = shapely.make_valid(geoms[~valid])
    parts, owner = shapely.get_parts(fixed, return_index=True)
    # make_valid may return collections mixing lines with polygons: flatten collections once more.
    nested, nested_owner = shapely.get_parts(parts, return_index=True)
    owner = owner[nested_owner]
    is_poly = shapely.get_type_id(nested) == 3
    out = np.full(len(geoms), None, dtype=object)
    if is_poly.any():
        present = np.unique(owner[is_poly])
        dense = np.searchsorted(present, owner[is_poly])
        out[present] = shapely.multipolygons(nested[is_poly], indices=dense)
    return out


@dataclass
class BoundaryFixes:
    """What reading a boundary file repaired or completed."""

    repaired: int = 0
    provinces_from_directory: int = 0
    kinds_from_name: int = 0


def _source(path: Path) -> str:
    """What GDAL opens: a gzip-compressed file (the national `communes.geojson.gz`) through its /vsigzip/ reader."""
    return f"/vsigzip/{path}" if path.suffix.lower() == ".gz" else str(path)


def read_boundary_file(path: Path) -> gpd.GeoDataFrame:
    """The features of a boundary file as GDAL reads them, or FileFormatError (InvalidInput) saying it cannot be read.

    An unclosed ring is closed, a geometry GEOS cannot build (a ring of one point) read as none and rejected with
    its feature: one such feature stopped the whole import with a traceback (found by fuzzing). Attribute names
    GDAL cannot decode (a binary file given for a boundary file) raise UnicodeDecodeError inside pyogrio. GDAL's
    guesses about a text file (RuntimeWarning, in English) are not shown: the error, if any, says what is wrong.
    A file without the ``code`` and ``name`` attributes (any case) is not a boundary file either. Attribute names
    are returned in lower case, so that every reader of the frame (import, demo data) finds ``CODE`` as ``code``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(_source(path), on_invalid="fix")
    except (DataSourceError, OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            "không đọc được tệp ranh giới: tệp hỏng hoặc không phải tệp bản đồ (ví dụ GeoJSON)",
            f"cannot read boundary file: {exc}",
        ) from exc
    frame = frame.rename(columns=lambda column: str(column).lower())  # GDAL names the geometry "geometry"
    if not {"code", "name"} <= set(frame.columns):
        raise FileFormatError(
            "tệp ranh giới thiếu thuộc tính mã đơn vị (code) hoặc tên đơn vị (name)", "boundary file needs code, name"
        )
    return frame


def read_boundaries(path: Path) -> tuple[gpd.GeoDataFrame, list[dict], BoundaryFixes]:
    """Read and normalise a boundary file; return units, rejects (feature, code, reason) and what was fixed.

    A unit without a province gets the one the unit directory (gis.unit_directory) knows for its code: Hải Phòng's
    file names none, its units are Hải Phòng's ("31").
    """
    frame = read_boundary_file(path)
    if frame.crs is None:
        raise FileFormatError(
            "tệp ranh giới không ghi hệ tọa độ: hãy xuất lại tệp kèm hệ tọa độ (ví dụ VN-2000 hoặc WGS 84)",
            "boundary file has no CRS",
        )
    frame = frame.to_crs(4326)
    out = pd.DataFrame({"feature": np.arange(1, len(frame) + 1)})
    for name in ("code", "name", "full_name", "name_en", "kind", "province_code", "province"):
        values = frame[name] if name in frame else pd.Series([None] * len(frame))
        out[name] = values.fillna("").astype(str).str.strip().to_numpy()
    out["full_name"] = out["full_name"].where(out["full_name"] != "", out["name"])
    fixes = BoundaryFixes()
    from_name = out["full_name"].map(_kind_from_name)
    # A kind outside the vocabulary ("other" for "xã Bắc Sơn" in the national file) yields to the name's type.
    renamed = (out["kind"] != "") & ~out["kind"].isin(UnitKind.values()) & (from_name != "")
    fixes.kinds_from_name = int(renamed.sum())
    out["kind"] = out["kind"].where((out["kind"] != "") & ~renamed, from_name)
    known = unit_directory().province_of
    looked_up = out["code"].map(lambda code: known.get(code, ""))
    missing = (out["province_code"] == "") & (looked_up != "")
    fixes.provinces_from_directory = int(missing.sum())
    out["province_code"] = out["province_code"].where(~missing, looked_up)
    raw_geoms = frame.geometry.to_numpy()
    valid_before = shapely.is_valid(raw_geoms) & ~shapely.is_missing(raw_geoms)
    geoms = _polygonal(np.where(shapely.is_missing(raw_geoms), shapely.Polygon(), raw_geoms), valid_before)
    # Nothing polygonal left (no geometry at all, an empty one): none, refused as such below — as an empty shape it
    # was counted repaired and refused as outside the metric region (its bounds are NaN).
    geoms[shapely.is_empty(geoms)] = None
    fixes.repaired = int((~valid_before & ~pd.isna(geoms)).sum())
    out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=4326))
    metric_area = out.geometry.to_crs(METRIC_SRID).area / 1e6
    area = pd.to_numeric(frame["area_km2"], errors="coerce") if "area_km2" in frame else metric_area
    out["area_km2"] = area.fillna(metric_area).round(4).to_numpy()

    reasons = pd.Series("", index=out.index)
    reasons[out["code"] == ""] = "thiếu mã đơn vị (code is required)"
    reasons[(reasons == "") & ~out["kind"].isin(UnitKind.values())] = (
        f"loại đơn vị không hợp lệ (kind must be one of {', '.join(UnitKind.values())})"
    )
    reasons[(reasons == "") & (out["code"].str.len() > CODE_MAX)] = f"mã dài quá {CODE_MAX} ký tự (code too long)"
    reasons[(reasons == "") & (out["province_code"].str.len() > PROVINCE_CODE_MAX)] = (
        f"mã tỉnh dài quá {PROVINCE_CODE_MAX} ký tự (province_code too long)"
    )
    reasons[(reasons == "") & out.geometry.isna()] = "không có hình học vùng (no polygon geometry)"
    x0, y0, x1, y1 = METRIC_DOMAIN
    bounds = out.geometry.bounds
    outside = ~(bounds["minx"].ge(x0) & bounds["miny"].ge(y0) & bounds["maxx"].le(x1) & bounds["maxy"].le(y1))
    reasons[(reasons == "") & outside] = (
        f"ranh giới nằm ngoài vùng kinh độ {x0:g}–{x1:g}, vĩ độ {y0:g}–{y1:g} của hệ tọa độ mét"
        " (boundary outside the region the metric coordinates cover)"
    )
    reasons[(reasons == "") & out["code"].duplicated(keep="first")] = "mã đơn vị trùng trong tệp (duplicate code)"
    bad = reasons != ""
    rejects = [
        {"feature": int(f), "code": c, "reason": r}
        for f, c, r in zip(out.loc[bad, "feature"], out.loc[bad, "code"], reasons[bad])
    ]
    units = out[~bad].reset_index(drop=True)
    wkb = shapely.to_wkb(shapely.set_precision(units.geometry.to_numpy(), 1e-7), hex=False)
    units["wkb"] = wkb
    units["geom_hash"] = [hashlib.sha256(w).hexdigest() for w in wkb]
    return units, rejects, fixes


_STAGE = text("""
CREATE TEMP TABLE unit_staging (code text, name text, full_name text, name_en text, kind text,
    province_code text, area_km2 float8, geom_hash text, wkb bytea) ON COMMIT DROP
""")

_APPLY = [
    # Same version (code, valid_from) already stored with another boundary or names: update it in place.
    (
        "updated",
        """
    UPDATE admin_units u SET name = s.name, full_name = s.full_name, name_en = s.name_en, kind = s.kind,
        province_code = s.province_code, area_km2 = s.area_km2, geom_hash = s.geom_hash,
        geom = ST_Multi(ST_GeomFromWKB(s.wkb, 4326)), source = :source
    FROM unit_staging s
    WHERE u.code = s.code AND u.valid_from = :valid_from
      AND (u.geom_hash, u.name, u.full_name, u.kind, coalesce(u.name_en, ''), coalesce(u.province_code, ''))
          IS DISTINCT FROM (s.geom_hash, s.name, s.full_name, s.kind, s.name_en, s.province_code)
    RETURNING u.id, u.code""",
    ),
    # A current version from an earlier date whose boundary or names differ: close it at the new date. A renamed
    # unit gets a new version too (before, a new name with an unchanged boundary was counted unchanged and dropped):
    # its old name stays the name of its past (registers, reports of earlier years), the new one is current.
    (
        "closed",
        f"""
    UPDATE admin_units u SET valid_to = :valid_from
    FROM unit_staging s
    WHERE u.code = s.code AND {current_unit("u")} AND u.valid_from < :valid_from
      AND (u.geom_hash, u.name, u.full_name, u.kind, coalesce(u.name_en, ''), coalesce(u.province_code, ''))
          IS DISTINCT FROM (s.geom_hash, s.name, s.full_name, s.kind, s.name_en, s.province_code)
    RETURNING u.id, u.code""",
    ),
    # Codes with no version valid at the new date get one.
    (
        "inserted",
        f"""
    INSERT INTO admin_units (code, name, full_name, name_en, kind, province_code, area_km2, valid_from,
                             valid_to, source, geom_hash, geom)
    SELECT s.code, s.name, s.full_name, nullif(s.name_en, ''), s.kind, nullif(s.province_code, ''), s.area_km2,
           :valid_from, NULL, :source, s.geom_hash, ST_Multi(ST_GeomFromWKB(s.wkb, 4326))
    FROM unit_staging s
    WHERE NOT EXISTS (SELECT 1 FROM admin_units u WHERE u.code = s.code AND {current_unit("u")})
      AND NOT EXISTS (SELECT 1 FROM admin_units u WHERE u.code = s.code AND u.valid_from = :valid_from)
    RETURNING id, code""",
    ),
]

#: A file declared whole: per province it covers, its current units, those missing from the file (`:present`, the
#: codes it names, rejected features included) and the missing ones current only from the file's date or later.
_MISSING = f"""
    SELECT coalesce(p.name, u.province_code), count(*), count(*) FILTER (WHERE u.code <> ALL(:present)),
           array_agg(u.code || ' (' || to_char(u.valid_from, 'DD/MM/YYYY') || ')' ORDER BY u.code)
               FILTER (WHERE u.code <> ALL(:present) AND u.valid_from >= :valid_from)
    FROM admin_units u LEFT JOIN provinces p ON p.code = u.province_code
    WHERE {current_unit("u")} AND u.province_code = ANY(:provinces)
    GROUP BY u.province_code, p.name ORDER BY u.province_code"""
#: ... closed at the file's date.
_CLOSE_MISSING = f"""
    UPDATE admin_units u SET valid_to = :valid_from
    WHERE {current_unit("u")} AND u.province_code = ANY(:provinces) AND u.code <> ALL(:present)
      AND u.valid_from < :valid_from
    RETURNING u.id, u.code"""
#: Teams whose area on the file's date or later names one of the units closed as missing (`:closed`).
_TEAMS_OF_CLOSED = """
    SELECT count(DISTINCT ta.team_id) FROM team_areas ta
    WHERE ta.commune_code = ANY(:closed) AND (ta.valid_to IS NULL OR ta.valid_to > :valid_from)"""

#: A new or changed current unit of the file (staged) sharing most of its ground, or of the other's, with a current
#: unit the import leaves current and the file does not name (not in `:present`; a file declared whole closes those
#: of its provinces, `:closing`): both codes and names, and the share of the smaller one's area they share.
_COVERING = f"""
    SELECT s.code, s.full_name, u.code, u.full_name, round((100 * o.shared / o.smaller)::numeric) AS percent
    FROM unit_staging s
    CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(s.wkb, 4326) AS geom) g
    JOIN admin_units u ON u.geom && g.geom AND {current_unit("u")} AND u.code <> ALL(:present)
         AND NOT coalesce(u.province_code = ANY(:closing), false)
    CROSS JOIN LATERAL (
        SELECT ST_Area(ST_Transform(ST_Intersection(g.geom, u.geom), {METRIC_SRID})) AS shared,
               nullif(least(ST_Area(ST_Transform(u.geom, {METRIC_SRID})), ST_Area(ST_Transform(g.geom, {METRIC_SRID}))),
                      0) AS smaller) o
    WHERE o.shared > :share * o.smaller
    ORDER BY s.code, u.code"""
#: The share of a unit's (or of the file's unit's) area another current unit may cover: a border moved or
#: surveyed anew overlaps a neighbour by a strip; more is one ground under two communes.
MAX_COVERED_SHARE = 0.5

#: An earlier set of units: versions overlapping another of the same code are refused, the rest inserted or updated.
_HISTORICAL = [
    (
        "overlapping",
        """
    SELECT s.code, min(u.valid_from)::text FROM unit_staging s JOIN admin_units u ON u.code = s.code
    WHERE u.valid_from <> :valid_from AND u.valid_from < :valid_to AND coalesce(u.valid_to, 'infinity') > :valid_from
    GROUP BY s.code ORDER BY s.code""",
    ),
    (
        "updated",
        """
    UPDATE admin_units u SET name = s.name, full_name = s.full_name, name_en = s.name_en, kind = s.kind,
        province_code = s.province_code, area_km2 = s.area_km2, geom_hash = s.geom_hash, valid_to = :valid_to,
        geom = ST_Multi(ST_GeomFromWKB(s.wkb, 4326)), source = :source
    FROM unit_staging s
    WHERE u.code = s.code AND u.valid_from = :valid_from
      AND (u.geom_hash, u.name, u.full_name, u.kind, coalesce(u.name_en, ''), coalesce(u.province_code, ''),
           u.valid_to)
          IS DISTINCT FROM (s.geom_hash, s.name, s.full_name, s.kind, s.name_en, s.province_code, :valid_to)
    RETURNING u.id""",
    ),
    (
        "inserted",
        """
    INSERT INTO admin_units (code, name, full_name, name_en, kind, province_code, area_km2, valid_from,
                             valid_to, source, geom_hash, geom)
    SELECT s.code, s.name, s.full_name, nullif(s.name_en, ''), s.kind, nullif(s.province_code, ''), s.area_km2,
           :valid_from, :valid_to, :source, s.geom_hash, ST_Multi(ST_GeomFromWKB(s.wkb, 4326))
    FROM unit_staging s
    WHERE NOT EXISTS (SELECT 1 FROM admin_units u WHERE u.code = s.code AND u.valid_from = :valid_from)
    RETURNING id""",
    ),
]


#: The advisory lock that keeps boundary imports one at a time (beside gis.store.db's migration lock, 7_312_025).
_IMPORT_LOCK = 7_312_028


def import_boundaries(
    conn: Connection,
    path: Path,
    *,
    valid_from: date = DEFAULT_VALID_FROM,
    valid_to: date | None = None,
    source: str | None = None,
    imported_by: str | None = None,
    nearest_m: float | None = None,
    whole: bool = False,
    allow_many_closed: bool = False,
    dry_run: bool = False,
) -> BoundaryReport:
    """Import boundaries in the caller's transaction; idempotent for the same file and dates.

    Without `valid_to` the file holds the current units; with it, an earlier set valid over [valid_from, valid_to).
    When current units change, what is stored per commune follows them (`replace_stored`, incidents placed as an
    import places them: the nearest commune within `nearest_m`, by default the settings' `nearest_commune_m`).
    The import is recorded in `import_runs` as ``imported_by``'s (by default the operating-system user running it),
    who is also the author of the history entries of what it moved.
    Imports run one at a time once their file is read (an advisory lock until the transaction ends): two at once of
    the national file each found its units missing, and the second failed on the unique key (an internal error,
    exit 70) when the first committed; it now waits and finds them unchanged.

    ``whole``: the file is the whole current set of the provinces it covers (those its units name); see
    `_check_whole` for what is closed and when the import is refused (``allow_many_closed``).

    ``dry_run`` («Kiểm tra tệp» on the administration page): the same import, rolled back at its end
    (:func:`dry_run_savepoint`); its report says what it would do now, its import run unnamed.
    """
    with dry_run_savepoint(conn, dry_run):
        report = _import(conn, path, valid_from, valid_to, source, imported_by, nearest_m, whole, allow_many_closed)
    if dry_run:
        report.dry_run, report.import_id = True, None
    return report


def _import(
    conn: Connection,
    path: Path,
    valid_from: date,
    valid_to: date | None,
    source: str | None,
    imported_by: str | None,
    nearest_m: float | None,
    whole: bool,
    allow_many_closed: bool,
) -> BoundaryReport:
    """`import_boundaries` in the caller's transaction (or a dry run's savepoint)."""
    if valid_from > local_today():
        # The stored set is today's: maps, team areas' communes and every incident's commune follow it from the
        # import on (an import dated 01/01/2027 had moved 107 incidents to other communes weeks before that day).
        raise InvalidRequest(
            f"ngày hiệu lực {vn_day(valid_from)} chưa đến: nhập ranh giới mới từ ngày nó có hiệu lực",
            "valid_from is in the future: import a boundary set on or after the day it takes effect",
        )
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidRequest("ngày hết hiệu lực phải sau ngày bắt đầu", "valid_to must be after valid_from")
    if whole and valid_to is not None:
        raise InvalidRequest(
            "chỉ tệp ranh giới hiện hành mới là toàn bộ đơn vị: không dùng cùng ngày hết hiệu lực",
            "whole applies to a file of current units, not with valid_to",
        )
    units, rejects, fixes = read_boundaries(path)
    report = BoundaryReport(
        rejects=rejects,
        repaired=fixes.repaired,
        provinces_from_directory=fixes.provinces_from_directory,
        kinds_from_name=fixes.kinds_from_name,
    )
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _IMPORT_LOCK})
    report.provinces_from_units = _provinces_from_units(conn, units)
    missing = _check_whole(conn, units, rejects, valid_from, allow_many_closed) if whole else None
    actor = imported_by or getpass.getuser()
    report.import_id = start_import_run(conn, "boundaries", path, actor)
    _add_provinces(conn, units)
    conn.execute(_STAGE)
    columns = ["code", "name", "full_name", "name_en", "kind", "province_code", "area_km2", "geom_hash", "wkb"]
    rows = units[columns].to_dict("records")
    if rows:
        conn.execute(
            text(
                "INSERT INTO unit_staging VALUES (:code, :name, :full_name, :name_en, :kind,"
                " :province_code, :area_km2, :geom_hash, :wkb)"
            ),
            rows,
        )
    source = source or path.name
    params = {"valid_from": valid_from, "valid_to": valid_to, "source": source}
    if valid_to is None:
        _check_covering(conn, units, rejects, missing)
    if valid_to is not None:
        _import_historical(conn, units, params, report)
    else:
        changed: list[int] = []
        codes: set[str] = set()
        updated: list[str] = []
        for name, sql in _APPLY:
            applied = conn.execute(text(sql), params).all()
            setattr(report, name, len(applied))
            codes.update(code for _, code in applied)
            if name != "closed":
                changed.extend(unit_id for unit_id, _ in applied)
            if name == "updated":
                updated = [code for _, code in applied]
        if missing is not None:
            closed = conn.execute(text(_CLOSE_MISSING), {**params, **missing}).all()
            report.closed_missing = len(closed)
            codes.update(code for _, code in closed)
            report.team_areas_to_redraw = conn.execute(
                text(_TEAMS_OF_CLOSED), {"closed": [code for _, code in closed], "valid_from": valid_from}
            ).scalar_one()
            report.warnings.extend(closed_warnings(conn, sorted(code for _, code in closed), valid_from))
        report.unchanged = len(units) - report.updated - report.inserted
        if updated:
            report.warnings.append(_rewritten_warning(sorted(updated), valid_from))
        if changed or report.closed or report.closed_missing:
            refresh_unit_parts(conn, changed)
            replace_stored(conn, sorted(codes), report, actor, source, nearest_m)
    conn.execute(text("DROP TABLE unit_staging"))
    finish_import_run(
        conn,
        ImportReport(
            imported=report.inserted + report.updated, rejected=len(report.rejects), import_id=report.import_id
        ),
    )
    return report


#: A file declared whole may close at most this share of a province's current units without ``allow_many_closed``.
MAX_CLOSED_SHARE = 0.5


def _check_whole(
    conn: Connection, units: pd.DataFrame, rejects: list[dict], valid_from: date, allow_many_closed: bool
) -> dict[str, list[str]]:
    """The parameters of `_CLOSE_MISSING` for a file declared the whole current set, once checked; refuses it
    before anything is written.

    Covered are the provinces the file's units name (a Hải Phòng file never closes a Quảng Ninh unit); a unit the
    file names, even in a feature it rejects, is not missing (a broken geometry must not close its commune).
    Refused:
    - a file that would close more than half (`MAX_CLOSED_SHARE`) of a province's current units, unless
      ``allow_many_closed``: a merger closes a few communes, such a file is much more likely a part of the province
      taken for the whole (one district's communes, a filtered export), and closing the rest would move every
      incident and hotspot there to the nearest remaining commune or to none;
    - a missing unit current only from the file's date or later: closing it then would leave it an empty (or
      inverted) period. It is refused rather than skipped, since a file said to be the whole set but leaving such a
      unit current is not what the user declared; a later date of validity closes it.
    """
    present = sorted(set(units["code"]) | {r["code"] for r in rejects if r["code"]})
    params = {"present": present, "provinces": sorted(set(units["province_code"]) - {""})}
    rows = conn.execute(text(_MISSING), {**params, "valid_from": valid_from}).all()
    if not allow_many_closed:
        for province, current, closing, _ in rows:
            if closing > current * MAX_CLOSED_SHARE:
                raise InvalidRequest(
                    f"tệp sẽ khép lại {closing} trong {current} đơn vị hiện hành của {province} (quá nửa): có lẽ tệp"
                    " chỉ là một phần của tỉnh, không phải toàn bộ; không nhập gì. Nếu đúng là vậy, hãy cho phép"
                    " khép lại nhiều đơn vị (lệnh: --allow-many-closed; trang quản trị: «Cho phép khép lại quá nửa số đơn vị»)",
                    f"whole file would close {closing} of {current} current units of province {province}",
                )
    later = [code for *_, codes in rows for code in codes or ()]
    if later:
        raise Conflict(
            f"đơn vị không có trong tệp nhưng có hiệu lực từ ngày {vn_day(valid_from)} trở về sau: {', '.join(later)};"
            " không khép lại được ở ngày đó, không nhập gì: hãy nhập với ngày hiệu lực sau ngày bắt đầu của chúng",
            "missing units valid from the file's date or later",
        )
    return params


#: The province of the stored units (any version) each unit (`:codes`, `:wkbs`) shares most ground with.
_PROVINCE_BENEATH = """
    SELECT x.code, (SELECT u.province_code FROM admin_units u
                    WHERE u.province_code IS NOT NULL AND u.geom && g.geom AND ST_Intersects(u.geom, g.geom)
                    ORDER BY ST_Area(ST_Intersection(u.geom, g.geom)) DESC, u.valid_to DESC NULLS FIRST LIMIT 1)
    FROM unnest(CAST(:codes AS text[]), CAST(:wkbs AS bytea[])) x(code, wkb)
    CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(x.wkb, 4326) AS geom) g"""


def _provinces_from_units(conn: Connection, units: pd.DataFrame) -> int:
    """Give a unit whose file names no province, and whose code the unit directory does not know either, the province
    of the stored units it lies on; how many were given one.

    The directory holds the units of the 1 July 2025 reorganisation: a unit coded by a later one (a merger under a
    new code) in a file naming no province (Hải Phòng's) was stored without one — left out of every provincial
    user's map and lists, counted as a province of its own, and a team's area holding it refused as spanning
    «Thành phố Hải Phòng» and «None». A unit lying on no stored unit keeps none, as before."""
    lacking = units.index[units["province_code"] == ""]
    if lacking.empty:
        return 0
    rows = conn.execute(
        text(_PROVINCE_BENEATH),
        {"codes": units.loc[lacking, "code"].tolist(), "wkbs": units.loc[lacking, "wkb"].tolist()},
    ).all()
    found = {code: province for code, province in rows if province}
    given = units["code"].map(lambda code: found.get(code, ""))
    units.loc[lacking, "province_code"] = given[lacking]
    return int((given[lacking] != "").sum())


#: Working teams whose area on the import's date or later names a closed unit (`:closed`): name, the closed codes,
#: and whether every commune of that area is closed.
_TEAMS_NAMING = f"""
    SELECT t.name, array_agg(DISTINCT ta.commune_code ORDER BY ta.commune_code),
           NOT EXISTS (SELECT 1 FROM team_areas o JOIN admin_units u ON u.code = o.commune_code AND {current_unit("u")}
                       WHERE o.team_id = t.id AND (o.valid_to IS NULL OR o.valid_to > :valid_from))
    FROM team_areas ta JOIN teams t ON t.id = ta.team_id AND t.dissolved_on IS NULL
    WHERE ta.commune_code = ANY(:closed) AND (ta.valid_to IS NULL OR ta.valid_to > :valid_from)
    GROUP BY t.id, t.name ORDER BY t.name"""


def closed_warnings(conn: Connection, closed: list[str], valid_from: date) -> list[str]:
    """What the administrator must act on after units were closed as missing from a whole file, in Vietnamese.

    Team areas name codes and are not changed (choosing who answers for a merged commune is the administrator's):
    before, the import only counted the teams concerned, so a team whose only commune was merged away was left with
    no area — seeing nothing but the tasks it holds — and nobody was told which team, or where its ground went. Each
    team is named with its closed units and the current units that took their ground; a closed unit whose ground no
    current unit took (left out of the file, not merged) is named too: what lay there is in no commune now."""
    if not closed:
        return []
    successors = closed_unit_heirs(conn, closed)
    warnings = []
    for team, codes, none_left in conn.execute(text(_TEAMS_NAMING), {"closed": closed, "valid_from": valid_from}):
        units = "; ".join(
            f"{code} «{successors[code][0]}»"
            + (f" (nay thuộc {', '.join(successors[code][1])})" if successors[code][1] else " (không còn đơn vị nào)")
            for code in codes
        )
        warnings.append(
            f"tổ «{team}»: địa bàn gồm đơn vị đã khép lại từ {vn_day(valid_from)}: {units}"
            + (" — tổ không còn xã/phường hiện hành nào" if none_left else "")
            + "; hãy vẽ lại địa bàn của tổ trên trang quản trị (tab «Tổ, địa bàn»)"
        )
    for code, (name, taken) in successors.items():
        if not taken:
            warnings.append(
                f"đơn vị {code} «{name}» đã khép lại mà không đơn vị hiện hành nào nhận vùng đất của nó: vụ việc,"
                " điểm nóng ở đó không còn thuộc xã/phường nào; nếu đơn vị đó vẫn tồn tại, hãy đưa nó vào tệp"
            )
    return warnings


def _rewritten_warning(codes: list[str], valid_from: date) -> str:
    """What an import that updated versions in place (same code and date of effect, another boundary or name) says:
    right for correcting a version, but a change imported without its own date of effect (the command's default
    is 01/07/2025) rewrites the version's whole past — its old name and boundary are gone from every earlier
    record, and nothing said so. The units are named (at most 10) with the way to keep the history."""
    named = ", ".join(codes[:10]) + (f" và {len(codes) - 10} đơn vị khác" if len(codes) > 10 else "")
    return (
        f"đã sửa tại chỗ {len(codes)} đơn vị của phiên bản có hiệu lực từ {vn_day(valid_from)} ({named}): tên, ranh"
        " giới cũ không còn giữ lại cho thời gian trước. Nếu đây là thay đổi mới (sáp nhập, đổi tên) chứ không phải"
        " sửa lỗi, hãy nhập lại tệp ranh giới cũ với ngày đó, rồi tệp mới với ngày thay đổi có hiệu lực (lệnh:"
        " --valid-from; trang quản trị: «Có hiệu lực từ ngày»)"
    )


def _check_covering(
    conn: Connection, units: pd.DataFrame, rejects: list[dict], missing: dict[str, list[str]] | None
) -> None:
    """Refuse a file of current units that would leave two current units over one ground, before anything of it is
    applied (the caller's transaction is rolled back with the import run it started).

    A file not declared whole updates only the codes it names: a merger given as the merged unit alone (under a new
    code, or the code of one of its parts), or a unit given a new code, left the units it replaces current beneath
    it — incidents and hotspots there stayed in one of them (the smallest code), while the classification, the
    drug-free share and the maps counted both units, their population and area twice, and nothing said so. Such a
    file is refused, naming each pair, and asked to be declared whole (the missing units are then closed). A unit
    covered by less than `MAX_COVERED_SHARE` of its area (a moved border) is not concerned; a unit of the file lying
    mostly in a current one it does not name (a split given as its new part alone) is refused likewise."""
    present = sorted(set(units["code"]) | {r["code"] for r in rejects if r["code"]})
    closing = missing["provinces"] if missing is not None else []
    rows = conn.execute(text(_COVERING), {"present": present, "closing": closing, "share": MAX_COVERED_SHARE}).all()
    if not rows:
        return
    named = "; ".join(
        f"{code} «{name}» và {other} «{other_name}» chung {percent} % diện tích"
        for code, name, other, other_name, percent in rows[:10]
    ) + (f"; và {len(rows) - 10} cặp khác" if len(rows) > 10 else "")
    raise Conflict(
        f"tệp có đơn vị trùng phần lớn với đơn vị hiện hành không có trong tệp: {named}. Nhập như vậy, một vùng đất"
        " thuộc hai xã/phường cùng lúc (vụ việc, dân số bị tính hai lần); không nhập gì. Nếu đơn vị không có trong"
        " tệp đã sáp nhập hoặc đổi mã, hãy nhập tệp là toàn bộ đơn vị hiện hành của tỉnh (lệnh: --whole; trang quản"
        " trị: «Tệp là toàn bộ đơn vị hiện hành của các tỉnh trong tệp») để nó được khép lại; nếu nó đã bị chia,"
        " hãy đưa cả nó với ranh giới mới vào tệp",
        "a unit of the file shares most of its ground with a current unit the file does not name",
    )


def replace_stored(
    conn: Connection, codes: list[str], report: BoundaryReport, actor: str, source: str, nearest_m: float | None
) -> None:
    """After the current units ``codes`` were inserted or changed (their parts refreshed), move what is stored per
    commune to the commune the new boundaries give it: incidents with a point, hotspots, then the unfinished
    suppression tasks of the hotspots (one set-based statement per table, counted in ``report``).

    A commander expects the register to follow the map from the import on: a hotspot whose centroid now lies in
    the neighbouring commune is that commune's, in its lists, counts, scope and tasks, and the incidents around it
    too. What recorded a past state stays as it was: an incident's unit at its date (`period_code`) before the
    new version, ended tasks, classification results (an approved one is a legal record), the audit trails."""
    metres = DataSettings().nearest_commune_m if nearest_m is None else nearest_m
    report.incidents_moved = replace_incidents(conn, codes, metres)
    followed, report.incidents_ambiguous = follow_closed_units(conn, codes)
    report.incidents_moved += followed
    report.hotspots_moved = replace_hotspots(conn, codes, actor, source)
    report.tasks_moved = follow_hotspots(conn, actor, source)


def _add_provinces(conn: Connection, units: pd.DataFrame) -> None:
    """Provinces the units name that the table lacks: named as the directory knows them, else as the file's
    `province` field (else by their code)."""
    named = units.loc[units["province_code"] != "", ["province_code", "province"]].drop_duplicates("province_code")
    if named.empty:
        return
    directory = unit_directory().provinces
    rows = [
        {"c": code, "n": directory.get(code, (given or code,))[0], "f": directory.get(code, ("", given or code))[1]}
        for code, given in zip(named["province_code"], named["province"])
    ]
    conn.execute(
        text("INSERT INTO provinces (code, name, full_name) VALUES (:c, :n, :f) ON CONFLICT (code) DO NOTHING"), rows
    )


def _import_historical(conn: Connection, units: gpd.GeoDataFrame, params: dict, report: BoundaryReport) -> None:
    """Store an earlier set of units as closed versions and give the period's incidents their unit."""
    overlapping = conn.execute(text(_HISTORICAL[0][1]), params).all()
    if overlapping:
        features = dict(zip(units["code"], units["feature"]))
        report.rejects.extend(
            {
                "feature": int(features[code]),
                "code": code,
                "reason": f"chồng lấn thời gian với phiên bản từ {start} (overlaps the version from {start})",
            }
            for code, start in overlapping
        )
        conn.execute(text("DELETE FROM unit_staging WHERE code = ANY(:codes)"), {"codes": [c for c, _ in overlapping]})
    for name, sql in _HISTORICAL[1:]:
        setattr(report, name, len(conn.execute(text(sql), params).scalars().all()))
    report.unchanged = len(units) - len(overlapping) - report.updated - report.inserted
    if report.updated or report.inserted:
        report.reassigned = assign_periods(conn, params["valid_from"], params["valid_to"])
