"""Row-level validation of incident records against the import contract, vectorised with pandas.

Input is a table of raw strings (as read from CSV or GeoJSON) with the source line of each row;
output is the valid rows in canonical types and one reject per failed field with a human reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from models.domain.dates import EARLIEST
from models.domain.personal_names import name_like_rows, name_warning
from models.domain.row_checks import (
    COUNT_MAX,
    POINT_COLUMNS,
    READER_COLUMNS,
    UNIT_ALIASES,
    Rejects,
    ValidationResult,
    canonical_columns,
    compose_address,
    missing_columns,
    nulls_for_empty,
    parse_numbers,
    pass_over_rows,
    reject_structural,
    reject_unstorable,
    text_column,
    unknown_columns_warning,
    unknown_marks,
    unknown_marks_warning,
)
from models.numbers import vn_number
from models.vocabulary import INCIDENT_FIELD_LABELS, KIND_ALIASES, LOCAL_TZ_NAME, IncidentKind, normalise_kind

REF_MAX = 64
REQUIRED = ("ref", "occurred_at", "kind")
#: Where an incident happened, in order of precedence: a point wins over a commune code, a code over an address.
LOCATION = ("lon", "lat", "x", "y", "crs", "commune_code", "address", "commune", "district", "province")
#: The time of day kept in a column of its own beside a date («Ngày xảy ra» | «Giờ xảy ra»), joined to it.
TIME_OF_DAY = "time_of_day"
OPTIONAL = LOCATION + (TIME_OF_DAY, "substance", "quantity_g", "arrested", "source")
COLUMNS = REQUIRED + OPTIONAL
#: Header names accepted for each contract column (keys as `row_checks.header_key` writes them: no accents,
#: lower case, '_' for spaces and punctuation). Documented in the README ("Loading real data").
ALIASES: dict[str, str] = {
    **dict.fromkeys(("so_hieu", "ma_vu_viec", "so_vu_viec", "ma_vv", "so_hieu_vu_viec", "reference", "id"), "ref"),
    **dict.fromkeys(("thoi_gian", "ngay_xay_ra", "thoi_diem", "ngay_gio", "ngay", "date", "time"), "occurred_at"),
    **dict.fromkeys(("gio", "gio_xay_ra", "gio_phut", "thoi_gian_trong_ngay"), TIME_OF_DAY),
    **dict.fromkeys(("loai", "loai_vu_viec", "hanh_vi", "toi_danh"), "kind"),
    **dict.fromkeys(("kinh_do", "longitude", "lng", "long"), "lon"),
    **dict.fromkeys(("vi_do", "latitude"), "lat"),
    **dict.fromkeys(("toa_do_x",), "x"),
    **dict.fromkeys(("toa_do_y",), "y"),
    **dict.fromkeys(("he_toa_do", "epsg", "srid"), "crs"),
    **UNIT_ALIASES,
    **dict.fromkeys(("chat_ma_tuy", "loai_ma_tuy", "ma_tuy"), "substance"),
    **dict.fromkeys(("khoi_luong_g", "khoi_luong", "trong_luong", "khoi_luong_gam"), "quantity_g"),
    **dict.fromkeys(("so_nguoi_bi_bat", "so_doi_tuong_bi_bat", "so_nguoi_bat", "so_bi_bat"), "arrested"),
    **dict.fromkeys(("nguon", "don_vi", "nguon_tin"), "source"),
}
#: Columns stored as they are written (the others are parsed into numbers, times or codes, or rejected).
FREE_TEXT = ("ref", "substance", "source")
#: Columns whose text reaches PostgreSQL as written (stored, or matched to a commune): a NUL in an address made the
#: staging COPY fail for the whole file.
DATABASE_TEXT = FREE_TEXT + ("commune_code", "address", "commune", "district", "province")
#: Clock skew tolerated before a timestamp counts as "in the future".
FUTURE_TOLERANCE = timedelta(minutes=10)
#: A UTC offset after a time of day ("…T10:00:00+07:00", "…10:00Z"); a bare date's "-05" is its day, not an offset.
#: (No `\s`: pandas then leaves Arrow's regex engine for Python's, a row at a time — 6x slower, measured.)
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)? ?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
#: A time of day as offices write it: 14:30, 14:30:15, or 14h30 and 14h (the Vietnamese way).
_CLOCK = r"(\d{1,2})(?::(\d{2})(?::(\d{2}))?|[hH](\d{2})?)"
#: A day-first date, with its time of day after it («05/12/2025 14h30») or before it («14h30 ngày 05/12/2025»).
_DAY_FIRST = rf"^(?:{_CLOCK}[ ,]+(?:[nN]gày )?)?(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})(?:[ T,]+{_CLOCK})?$"
#: What a value read as a day-first date starts with: its day, or the time of day before it.
_DAY_FIRST_START = r"^\d{1,2}[/.:hH-]"
#: A date without its time of day, as written or as the reader gives an Excel date cell (its midnight), to which a time
#: of day given in its own column is joined.
_BARE_DAY = r"^(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2})(?:T00:00(?::00)?)?$"
#: An Excel time cell read as a moment of Excel's day zero (30/12/1899): its time of day.
_EXCEL_DAY_ZERO = r"^1899-12-3[01]T"
#: An ISO 8601 date down to the day (extended or basic form).
_WHOLE_DAY = r"^\d{4}-?\d{2}-?\d{2}"
#: What a coordinate in degrees must look like (a reason goes on with examples).
_DEGREES = "cần độ thập phân (dấu thập phân là chấm hoặc phẩy) hoặc độ-phút-giây, ví dụ"
#: Degrees, minutes and seconds as a GPS or a map writes them, read as the map's search box reads them (common.js
#: `parseSearch`): «20°51'36"N», «106°40′48″Đ», «20° 51' 36''», decimal minutes «20°51,6'»; the letter of the axis
#: (N/B or S for a latitude, E/Đ or W for a longitude) optional. Minutes and seconds below 60.
_DMS = re.compile(
    r"^(?P<deg>\d{1,3}(?:[.,]\d+)?)\s*°\s*(?:(?P<min>[0-5]?\d(?:[.,]\d+)?)\s*['′’]\s*)?"
    r"(?:(?P<sec>[0-5]?\d(?:[.,]\d+)?)\s*(?:[\"″”]|'')\s*)?(?P<side>[NSEWBĐ])?$"
)
#: The letters of each axis, and those that make it negative.
_DMS_SIDES = {"lon": ("EĐW", "W"), "lat": ("NBS", "S")}
#: Times before this are typing mistakes (a year 0225 for 2025), not police records (models.domain.dates.EARLIEST).
EARLIEST_TIME = pd.Timestamp(datetime.combine(EARLIEST, time()), tz=LOCAL_TZ_NAME).tz_convert("UTC")


def check_header(columns: list[str]) -> list[str]:
    """Raise ContractError for missing required columns; return warnings for unknown ones."""
    present = set(columns)
    named = {c: f"«{INCIDENT_FIELD_LABELS[c]}»" for c in COLUMNS}
    missing = [named[c] for c in REQUIRED if c not in present]
    has_lonlat = {"lon", "lat"} <= present
    has_xy = {"x", "y", "crs"} <= present
    has_unit = bool({"commune_code", "address", "commune"} & present)
    if not (has_lonlat or has_xy or has_unit):
        missing.append(
            f"{named['lon']} và {named['lat']} (hoặc {named['x']}, {named['y']} và {named['crs']}; hoặc"
            f" {named['commune_code']}, {named['address']})"
        )
    if missing:
        raise missing_columns(missing, present, INCIDENT_FIELD_LABELS)
    return unknown_columns_warning(present, COLUMNS)


def day_first_to_iso(text: pd.Series) -> pd.Series:
    """Vietnamese dates "dd/mm/yyyy[ hh:mm[:ss]]" (also with '-' or '.', and "14h30" for the time, before or after the
    date) as ISO 8601; other values unchanged (a value with a time both before and after its date too).

    The day always comes first, as in every Vietnamese form: 03/04/2024 is 3 April.
    """
    parts = text.str.extract(_DAY_FIRST)
    before, day, month, year, after = parts.iloc[:, 0:4], parts[4], parts[5], parts[6], parts.iloc[:, 7:11]
    before.columns = after.columns = ["hour", "minute", "second", "minute_h"]
    clock = after.where(after["hour"].notna(), before)
    found = day.notna() & ~(before["hour"].notna() & after["hour"].notna())
    iso = (
        year
        + "-"
        + month.str.zfill(2)
        + "-"
        + day.str.zfill(2)
        + "T"
        + clock["hour"].fillna("0").str.zfill(2)
        + ":"
        + clock["minute"].fillna(clock["minute_h"]).fillna("00")
        + ":"
        + clock["second"].fillna("00")
    )
    return text.where(~found, iso)


#: A number that may be an Excel serial date (days since 30/12/1899, a fraction of a day for the time), the decimal
#: mark either way: a date cell that lost its date format is written so by Excel, and read so by the reader.
_EXCEL_SERIAL = r"^\d{5}(?:[.,]\d+)?$"
#: Excel's day zero, and the serial numbers of the dates read as such: 01/01/1990 (`EARLIEST`) to 01/01/2100.
_EXCEL_DAY_ZERO_DATE = pd.Timestamp("1899-12-30")
_EXCEL_SERIALS = (32874, 73051)


def excel_serial_dates(text: pd.Series) -> pd.Series:
    """Excel serial dates of 1990–2100 («45721.6041666667», «45721,5») as ISO 8601 local times to the second
    («2025-03-05T14:30:00»); other values unchanged (a year alone, «2025», is no serial date and stays refused)."""
    serial = text.str.match(_EXCEL_SERIAL).to_numpy(dtype=bool)
    if not serial.any():
        return text
    days = pd.to_numeric(text[serial].str.replace(",", ".", regex=False), errors="coerce")
    days = days.where(days.between(*_EXCEL_SERIALS))
    moments = (_EXCEL_DAY_ZERO_DATE + pd.to_timedelta(days, unit="D")).dt.round("s")
    iso = moments.dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = text.copy()
    out[serial] = iso.where(days.notna(), text[serial])
    return out


def with_time_of_day(day: pd.Series, clock: pd.Series) -> pd.Series:
    """The dates of ``day`` with the time of day of ``clock`` (a column of its own: «Ngày xảy ra» | «Giờ xảy ra»)
    joined to each date that has none, as one day-first value («05/03/2025 14h30»), so that the clock may be written
    as offices write it and a wrong one is refused quoting both. A date with its own time keeps it; an empty clock
    leaves the date as it is (local midnight, as a bare date always reads)."""
    clock = clock.str.replace(_EXCEL_DAY_ZERO, "", regex=True)
    joined = ((day != "") & (clock != "")).to_numpy() & day.str.match(_BARE_DAY).to_numpy(dtype=bool)
    if not joined.any():
        return day
    date = day.str.replace(r"T00:00(?::00)?$", "", regex=True)
    iso = date.str.match(r"^\d{4}-")
    date = date.where(~iso, date.str[8:10] + "/" + date.str[5:7] + "/" + date.str[0:4])
    return day.where(~joined, date + " " + clock)


def _read_times(raw: pd.DataFrame, now: datetime) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """The incidents' times as written (a time-of-day column joined, `with_time_of_day`) and as read
    (`_parse_times`). Excel serial dates are looked for only among the values not read otherwise, and the column read
    again only when one is found: a regular expression over every value costs 0.5 s per million (measured)."""
    day = text_column(raw, "occurred_at")
    clock = text_column(raw, TIME_OF_DAY) if TIME_OF_DAY in raw else None
    when_text = day if clock is None else with_time_of_day(day, clock)
    occurred, unparsed, future = _parse_times(when_text, now)
    if unparsed.any():
        serial = excel_serial_dates(day[unparsed])
        if (serial != day[unparsed]).any():
            day = day.copy()
            day[unparsed] = serial
            when_text = day if clock is None else with_time_of_day(day, clock)
            occurred, unparsed, future = _parse_times(when_text, now)
    return when_text, occurred, unparsed, future


def _arrow_times(text: pd.Series) -> pd.Series | None:
    """A column of ISO 8601 times all with an offset, or all without one (local time), parsed by Arrow; else None.

    Arrow reads such a column 15x faster than pandas and to the same instants; a column mixing the two, or
    holding any value Arrow cannot read (a day-first date, a bad value), goes the general way.
    """
    values = nulls_for_empty(text)
    try:
        parsed = pc.cast(values, pa.timestamp("us", "UTC"))
    except pa.ArrowInvalid:
        try:
            local = pc.cast(values, pa.timestamp("us"))
            parsed = pc.assume_timezone(local, LOCAL_TZ_NAME, ambiguous="raise", nonexistent="raise")
        except pa.ArrowInvalid:
            return None
    return pd.Series(parsed.to_pandas(), index=text.index).dt.tz_convert("UTC")


def _parse_times(text: pd.Series, now: datetime) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """ISO 8601 or day-first dates to UTC; a value without offset is local time (Asia/Ho_Chi_Minh)."""
    fast = _arrow_times(text)
    if fast is not None:
        unparsed = fast.isna().to_numpy()
        return fast, unparsed, ~unparsed & (fast > pd.Timestamp(now + FUTURE_TOLERANCE)).to_numpy()
    has_offset = text.str.contains(_OFFSET, regex=True).to_numpy()
    # Microseconds, as Arrow gives: pandas reads a year such as 2400 or -268 at that unit, which nanoseconds cannot
    # hold (the import stopped with a traceback, found by fuzzing).
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    # ISO 8601 names a day here: pandas would read "2024" as 1 January and "2025-03" as 1 March (Arrow reads neither).
    whole_day = text.str.contains(_WHOLE_DAY, regex=True).to_numpy()
    if (iso := has_offset & whole_day).any():
        out[iso] = pd.to_datetime(text[iso], format="ISO8601", utc=True, errors="coerce").dt.as_unit("us")
    naive = ~has_offset & (text != "").to_numpy()
    if naive.any():
        local = pd.to_datetime(text[naive].where(whole_day[naive]), format="ISO8601", errors="coerce").dt.as_unit("us")
        # Only values ISO 8601 could not read are tried as day-first dates: an ISO file pays nothing for them.
        retry = local.isna() & text[naive].str.contains(_DAY_FIRST_START, regex=True)
        if retry.any():
            local[retry] = pd.to_datetime(day_first_to_iso(text[naive][retry]), format="ISO8601", errors="coerce")
        out[naive] = local.dt.tz_localize(LOCAL_TZ_NAME, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    unparsed = out.isna().to_numpy()
    future = ~unparsed & (out > pd.Timestamp(now + FUTURE_TOLERANCE)).to_numpy()
    return out, unparsed, future


def dms_degrees(text: pd.Series, axis: str) -> pd.Series:
    """Coordinates written in degrees-minutes-seconds (`_DMS`) as decimal degrees; NaN for any other value, and for
    one whose letter names the other axis («…"N» in a longitude's column)."""
    sides, negative = _DMS_SIDES[axis]

    def degrees(value: str) -> float:
        found = _DMS.match(value.strip().upper())
        if found is None or (found["side"] and found["side"] not in sides):
            return float("nan")
        deg, minutes, seconds = (float((found[p] or "0").replace(",", ".")) for p in ("deg", "min", "sec"))
        sign = -1.0 if found["side"] == negative else 1.0
        return sign * (deg + minutes / 60 + seconds / 3600)

    return pd.Series([degrees(v) for v in text.to_numpy(object)], index=text.index, dtype=float)


def _with_dms(text: pd.Series, axis: str) -> tuple[pd.Series, np.ndarray]:
    """`parse_numbers` of a coordinate column, the values it could not read tried as degrees-minutes-seconds (only
    those: a column of decimals pays nothing)."""
    values, bad = parse_numbers(text)
    if bad.any():
        dms = dms_degrees(text[bad], axis)
        read = dms.notna().to_numpy()
        if read.any():
            at = np.flatnonzero(bad)[read]
            values, bad = values.copy(), bad.copy()
            values.iloc[at] = dms[read].to_numpy()
            bad[at] = False
    return values, bad


def _degrees(values: pd.Series) -> pd.Series:
    """Coordinates as a refusal quotes them, with a decimal comma like every figure shown: «200», «20,8563» (was
    «200.0»)."""
    return values.map(lambda v: vn_number(v, 6, trim=True))


def _project(
    x: pd.Series, y: pd.Series, crs_text: pd.Series, rows: np.ndarray, rejects: Rejects, lon: pd.Series, lat: pd.Series
) -> None:
    """Fill lon/lat of `rows` from x/y in their EPSG code, one transformer per distinct CRS."""
    for code in crs_text[rows].unique():
        these = rows & (crs_text == code).to_numpy()
        try:
            crs = CRS.from_user_input(f"EPSG:{code}" if code.isdigit() else code)
        except CRSError:
            rejects.add(
                these,
                "crs",
                f"hệ tọa độ không hợp lệ: «{code}», cần mã EPSG, ví dụ 32648 là UTM vùng 48N, 4326 là WGS84"
                " (unknown CRS)",
            )
            continue
        transformer = Transformer.from_crs(crs, 4326, always_xy=True)
        lons, lats = transformer.transform(x[these].to_numpy(), y[these].to_numpy())
        # A CRS in degrees given metres (the VN-2000 datum named instead of its projected zone) gives no point: said
        # here, where the CRS is at fault, not as a longitude of «inf».
        lost = ~(np.isfinite(lons) & np.isfinite(lats))
        unprojected = np.zeros(len(these), dtype=bool)
        unprojected[np.flatnonzero(these)[lost]] = True
        rejects.add(
            unprojected,
            "crs",
            f"x/y không đổi được sang kinh độ, vĩ độ theo hệ tọa độ «{code}»: cần mã EPSG của hệ tọa độ phẳng (mét),"
            " ví dụ 3405 là VN-2000 / UTM vùng 48N, 32648 là WGS84 / UTM vùng 48N (x/y do not project to a point)",
        )
        lon[these], lat[these] = np.where(lost, np.nan, lons), np.where(lost, np.nan, lats)


#: How far a GeoJSON feature's point and the coordinates in its properties may lie apart and still be one place:
#: properties written to four decimals (about 11 m of latitude) or read off the point by a GIS tool agree within it.
POINT_AGREEMENT_M = 20.0
#: Metres per degree of latitude (and of longitude at the equator), for the distance between two near positions.
_METRES_PER_DEGREE = 111_320.0
#: The disagreeing features a warning lists with both positions.
_SHOWN_DISAGREEMENTS = 5


def disagreeing_points(raw: pd.DataFrame) -> list[str]:
    """A warning naming the GeoJSON features whose point lies more than `POINT_AGREEMENT_M` from the coordinates their
    properties give (``lon``/``lat`` or their aliases, «Kinh độ», «Vĩ độ»), with both positions; [] when none does.
    The point places the feature (`placed_by_points`), as the map shows it: one of the two is wrong, which the
    uploader alone can tell, and such a feature had been imported without a word. Properties that are no
    coordinates (not numbers) are not compared: only a point places the row then, as before."""
    if POINT_COLUMNS[0] not in raw or "lon" not in raw or "lat" not in raw:
        return []
    point_lon, _ = parse_numbers(text_column(raw, POINT_COLUMNS[0]))
    point_lat, _ = parse_numbers(text_column(raw, POINT_COLUMNS[1]))
    lon_text, lat_text = text_column(raw, "lon"), text_column(raw, "lat")
    lon, _ = _with_dms(lon_text, "lon")
    lat, _ = _with_dms(lat_text, "lat")
    both = (point_lon.notna() & point_lat.notna() & lon.notna() & lat.notna()).to_numpy()
    if not both.any():
        return []
    east = (lon - point_lon) * np.cos(np.radians(point_lat.clip(-90, 90))) * _METRES_PER_DEGREE
    north = (lat - point_lat) * _METRES_PER_DEGREE
    metres = np.hypot(east, north).to_numpy()
    apart = np.flatnonzero(both & (metres > POINT_AGREEMENT_M))
    if not len(apart):
        return []
    lines = raw["line"].to_numpy()
    shown = "; ".join(
        f"dòng {int(lines[i])}: điểm {_position(point_lon.iloc[i], point_lat.iloc[i])}, thuộc tính"
        f" {_position(lon.iloc[i], lat.iloc[i])} (cách {_distance(metres[i])})"
        for i in apart[:_SHOWN_DISAGREEMENTS]
    )
    more = f"; và {len(apart) - _SHOWN_DISAGREEMENTS} đối tượng khác" if len(apart) > _SHOWN_DISAGREEMENTS else ""
    return [
        f"{len(apart)} đối tượng có điểm khác tọa độ ghi trong thuộc tính kinh độ, vĩ độ ({shown}{more}): đã dùng điểm"
        " của đối tượng; nếu thuộc tính mới đúng, hãy sửa điểm trong phần mềm bản đồ và nạp lại"
    ]


def _position(lon: float, lat: float) -> str:
    """A position as a warning quotes it: «(106,68; 20,86)», longitude first as GeoJSON writes it."""
    return f"({vn_number(lon, 6, trim=True)}; {vn_number(lat, 6, trim=True)})"


def _distance(metres: float) -> str:
    """A distance in metres or kilometres, with a decimal comma: «35 m», «2,3 km»."""
    return f"{vn_number(round(metres))} m" if metres < 1000 else f"{vn_number(metres / 1000, 1, fixed=True)} km"


def placed_by_points(raw: pd.DataFrame) -> pd.DataFrame:
    """A GeoJSON's rows with their feature's point (`POINT_COLUMNS`) as their longitude and latitude, a feature without
    one placed by its properties (``lon``/``lat`` or their aliases, a commune, an address); other tables unchanged.
    The point is what a map shows of the feature: it had silently replaced a property «lon», and a property «Kinh độ»
    beside it refused the file («nhiều cột cùng nghĩa: «Kinh độ» ← kinh độ, lon»)."""
    if POINT_COLUMNS[0] not in raw:
        return raw
    pointed = raw[POINT_COLUMNS[0]].notna()
    placed = {
        name: raw[point].where(pointed, raw[name] if name in raw else None)
        for name, point in zip(("lon", "lat"), POINT_COLUMNS, strict=True)
    }
    return raw.drop(columns=list(POINT_COLUMNS)).assign(**placed)


def validate_incidents(
    raw: pd.DataFrame, now: datetime | None = None, places: Collection[str] = ()
) -> ValidationResult:
    """Validate raw incident rows (all strings plus a `line` column) against the import contract. A point far from
    the city is not rejected here: the import keeps it as ``outside`` and reports it (or refuses it with
    ``--outside reject``). ``places``: the known places' names, which the warning about names lets pass
    (models.domain.personal_names)."""
    now = now or datetime.now(UTC)
    raw, passed_over = pass_over_rows(raw)
    raw = canonical_columns(raw, ALIASES, COLUMNS, INCIDENT_FIELD_LABELS)
    disagreeing = disagreeing_points(raw)
    raw = placed_by_points(raw)
    # A GeoJSON without a feature has no columns: an empty file, said by the import, not a file lacking columns.
    empty_collection = raw.empty and not set(raw.columns) - set(READER_COLUMNS)
    warnings = passed_over + ([] if empty_collection else check_header(list(raw.columns))) + disagreeing
    raw = raw.reset_index(drop=True)
    raw["ref"] = text_column(raw, "ref")
    rej = Rejects(raw)

    reject_structural(raw, rej)
    reject_unstorable(raw, rej, DATABASE_TEXT)

    ref = raw["ref"]
    rej.add((ref == "").to_numpy(), "ref", "thiếu mã (ref is required)")
    rej.add((ref.str.len() > REF_MAX).to_numpy(), "ref", f"mã dài quá {REF_MAX} ký tự (ref longer than {REF_MAX})")

    when_text, occurred, unparsed, future = _read_times(raw, now)
    rej.add(unparsed & (when_text == "").to_numpy(), "occurred_at", "thiếu thời gian (occurred_at is required)")
    rej.add(
        unparsed & (when_text != "").to_numpy(),
        "occurred_at",
        "thời gian không hợp lệ: «{}», cần dạng ngày/tháng/năm, có thể kèm giờ:phút, ví dụ 05/12/2025 hoặc"
        " 05/12/2025 14:30, hoặc ISO 8601, ví dụ 2025-12-05T14:30 (unparseable time)",
        values=when_text,
    )
    rej.add(future, "occurred_at", "thời gian ở tương lai: «{}» (time is in the future)", values=when_text)
    rej.add(
        ~unparsed & (occurred < EARLIEST_TIME).to_numpy(),
        "occurred_at",
        f"thời gian trước {EARLIEST:%d/%m/%Y}, có lẽ gõ nhầm năm: «{{}}» (time before {EARLIEST:%Y}, a mistyped year?)",
        values=when_text,
    )

    kind_text = text_column(raw, "kind")
    kinds = kind_text.map({k: normalise_kind(k) for k in kind_text.unique()})
    allowed = ", ".join(IncidentKind.values() + tuple(KIND_ALIASES))
    rej.add(
        kinds.isna().to_numpy(),
        "kind",
        "loại vụ việc không hợp lệ: «{}» (unknown kind; allowed: " + allowed + ")",
        values=kind_text,
    )

    lon_t, lat_t = text_column(raw, "lon"), text_column(raw, "lat")
    x_t, y_t, crs_t = text_column(raw, "x"), text_column(raw, "y"), text_column(raw, "crs")
    use_xy = ((lon_t == "") & (lat_t == "") & (x_t != "") & (y_t != "")).to_numpy()
    lon, bad_lon = _with_dms(lon_t, "lon")
    lat, bad_lat = _with_dms(lat_t, "lat")
    rej.add(bad_lon, "lon", f"kinh độ không phải số: «{{}}», {_DEGREES} 106.6830 (lon is not a number)", values=lon_t)
    rej.add(bad_lat, "lat", f"vĩ độ không phải số: «{{}}», {_DEGREES} 20.8600 (lat is not a number)", values=lat_t)
    if use_xy.any():
        x, bad_x = parse_numbers(x_t)
        y, bad_y = parse_numbers(y_t)
        rej.add(
            use_xy & (bad_x | bad_y),
            "x/y",
            "tọa độ x/y không phải số: «{}», cần số mét trong hệ tọa độ của cột crs, ví dụ x 676000, y 2307000"
            " (x/y not numbers)",
            values="x " + x_t + ", y " + y_t,
        )
        rej.add(use_xy & (crs_t == "").to_numpy(), "crs", "thiếu mã EPSG cho x/y (crs is required with x/y)")
        ok_xy = use_xy & ~bad_x & ~bad_y & (crs_t != "").to_numpy()
        _project(x, y, crs_t, ok_xy, rej, lon, lat)
    code_t, address = text_column(raw, "commune_code"), compose_address(raw)
    no_point = (lon.isna() | lat.isna()).to_numpy()
    half = no_point & ~(lon.isna() & lat.isna()).to_numpy() & ~bad_lon & ~bad_lat
    rej.add(half, "lon/lat", "chỉ có một trong hai tọa độ (only one of lon/lat given)")
    unlocated = no_point & ~half & (code_t == "").to_numpy() & (address == "").to_numpy() & ~bad_lon & ~bad_lat
    rej.add(
        unlocated & ~rej.bad,
        "lon/lat",
        "thiếu vị trí: cần tọa độ, mã xã hoặc địa chỉ (location missing: no point, commune code or address)",
    )
    out_lon = ~lon.isna().to_numpy() & ((lon < -180) | (lon > 180) | ~np.isfinite(lon)).to_numpy()
    out_lat = ~lat.isna().to_numpy() & ((lat < -90) | (lat > 90) | ~np.isfinite(lat)).to_numpy()
    # Two mistakes of hand-typed sheets are named, so that the reason says what to fix: metres (VN-2000, UTM) typed
    # as degrees, and the two columns swapped (a latitude of 106.68 beside a longitude of 20.86).
    metres = out_lon & out_lat & (lon.abs() > 1000).to_numpy() & (lat.abs() > 1000).to_numpy()
    swapped = out_lat & ~out_lon & (lat.abs() <= 180).to_numpy() & (lon.abs() <= 90).to_numpy()
    rej.add(
        metres,
        "lon/lat",
        "kinh độ, vĩ độ «{}» giống tọa độ phẳng (mét): ghi vào cột x, y và crs (mã EPSG, ví dụ 3405 là VN-2000 / UTM"
        " vùng 48N) (lon/lat look like metres)",
        values=lon_t + ", " + lat_t,
    )
    rej.add(out_lon & ~metres, "lon", "kinh độ ngoài [-180, 180]: {} (lon out of range)", values=_degrees(lon))
    rej.add(
        swapped,
        "lat",
        "vĩ độ ngoài [-90, 90]: {}, có lẽ kinh độ và vĩ độ bị đổi chỗ (lat out of range: lon and lat swapped?)",
        values=_degrees(lat),
    )
    rej.add(out_lat & ~metres & ~swapped, "lat", "vĩ độ ngoài [-90, 90]: {} (lat out of range)", values=_degrees(lat))

    qty_t, unknown_qty = unknown_marks(text_column(raw, "quantity_g"))
    qty, bad_qty = parse_numbers(qty_t)
    rej.add(
        bad_qty,
        "quantity_g",
        "khối lượng không phải số: «{}», cần số gam, ví dụ 2,5 hoặc 2.5 (quantity_g is not a number)",
        values=qty_t,
    )
    rej.add((qty < 0).to_numpy(), "quantity_g", "khối lượng âm: {} (negative quantity_g)", values=qty_t)

    arr_t, unknown_arr = unknown_marks(text_column(raw, "arrested"))
    if (unknown_rows := unknown_qty | unknown_arr).any():
        warnings.append(unknown_marks_warning(raw["line"].to_numpy()[unknown_rows]))
    arrested, bad_arr = parse_numbers(arr_t, whole=True)
    not_int = ~bad_arr & ~arrested.isna().to_numpy() & (arrested.fillna(0) % 1 != 0).to_numpy()
    rej.add(
        bad_arr | not_int,
        "arrested",
        "số người bị bắt phải là số nguyên: «{}», ví dụ 2 (arrested must be an integer)",
        values=arr_t,
    )
    rej.add((arrested < 0).to_numpy(), "arrested", "số người bị bắt âm: {} (negative arrested)", values=arr_t)
    rej.add(
        (arrested > COUNT_MAX).to_numpy(),
        "arrested",
        f"số người bị bắt quá lớn: {{}} (arrested above {COUNT_MAX:,})",
        values=arr_t,
    )

    ok = ~rej.bad
    columns = {
        "line": raw["line"],
        "ref": ref,
        "occurred_at": occurred,
        "lon": lon.astype(float),
        "lat": lat.astype(float),
        "kind": kinds,
        "substance": text_column(raw, "substance").replace("", None),
        "quantity_g": qty.astype(float),
        "arrested": arrested.where(arrested.abs() <= COUNT_MAX).astype("Float64").astype("Int64"),
        "source": text_column(raw, "source").replace("", None),
        "commune_code": code_t.replace("", None),
        "address": address.replace("", None),
    }
    # Mask whole Series: keeps Arrow strings and tz-aware times without a trip through Python objects.
    valid = pd.DataFrame({name: series[ok].reset_index(drop=True) for name, series in columns.items()})
    for name in ("substance", "source"):
        named = name_like_rows(valid[name], places)
        if named.any():
            warnings.append(name_warning(INCIDENT_FIELD_LABELS[name], valid["line"].to_numpy()[named]))
    return ValidationResult(valid=valid, rejects=rej.frame(), warnings=warnings)
