"""SYNTHETIC sample files in the shapes real police files come in (data/samples/): one table, four formats.

The same 1,000 generated incidents are written as an export from a Vietnamese office would be:
Vietnamese headers, day-first dates and Vietnamese kind names, as

- CSV, comma-separated, UTF-8 (decimal point),
- CSV, semicolon-separated, Windows-1258 (decimal comma; Excel's "CSV" in a Vietnamese locale),
- "Unicode text": UTF-16 with BOM, tab-separated, CRLF (decimal comma),
- .xlsx with real date and number cells, under a title row,

and a 2024 workbook keyed by the old (pre-2025) communes — codes, full old addresses, or name columns —
with a second sheet of 2024 indicators per old commune.

Every one of them imports to the same stored rows (tests/db/test_import_formats.py). Nothing in them is
real: the source column says "dữ liệu tổng hợp (synthetic)" and the file names start with "synthetic-".
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from openpyxl import Workbook

from gis.io.text_encodings import encode_cp1258
from gis.unit_directory import UnitDirectory
from models.synthetic.scenario import ScenarioConfig, generate_scenario
from models.vocabulary import INCIDENT_FIELD_LABELS, IncidentKind

SOURCE = "dữ liệu tổng hợp (synthetic)"
#: Contract column → the Vietnamese header the samples use (the contract's names: each one is in its alias table).
HEADERS = {
    column: INCIDENT_FIELD_LABELS[column]
    for column in ("ref", "occurred_at", "kind", "lon", "lat", "substance", "quantity_g", "arrested", "source")
}
FORMAT_FILES = {
    "csv_utf8": "synthetic-incidents-comma-utf8.csv",
    "csv_cp1258": "synthetic-incidents-semicolon-cp1258.csv",
    "utf16_text": "synthetic-incidents-unicode-text.txt",
    "xlsx": "synthetic-incidents.xlsx",
}


def sample_incidents(communes: gpd.GeoDataFrame, n: int = 1000, seed: int = 14) -> pd.DataFrame:
    """`n` synthetic incidents over the communes, one year, with refs that say they are synthetic."""
    incidents = generate_scenario(communes, ScenarioConfig(seed=seed, years=1, n_incidents=n)).incidents
    return incidents.assign(source=SOURCE)


def _number(value: float, comma: bool) -> str:
    if pd.isna(value):
        return ""
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    return text.replace(".", ",") if comma else text


def police_table(incidents: pd.DataFrame, decimal_comma: bool) -> pd.DataFrame:
    """The incidents as an office's export: Vietnamese headers and kinds, dd/mm/yyyy hh:mm local times."""
    labels = IncidentKind.labels()
    table = pd.DataFrame(
        {
            "ref": incidents["ref"],
            "occurred_at": incidents["occurred_at"].dt.strftime("%d/%m/%Y %H:%M"),
            "kind": incidents["kind"].map(labels),
            "lon": [_number(v, decimal_comma) for v in incidents["lon"]],
            "lat": [_number(v, decimal_comma) for v in incidents["lat"]],
            "substance": incidents["substance"].fillna(""),
            "quantity_g": [_number(v, decimal_comma) for v in incidents["quantity_g"]],
            "arrested": [_number(v, decimal_comma) for v in incidents["arrested"]],
            "source": incidents["source"],
        }
    )
    return table.rename(columns=HEADERS)


def write_format_samples(incidents: pd.DataFrame, out: Path) -> dict[str, Path]:
    """The same incidents in the four formats of `FORMAT_FILES`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / file for name, file in FORMAT_FILES.items()}
    police_table(incidents, decimal_comma=False).to_csv(paths["csv_utf8"], index=False, encoding="utf-8")
    semicolon = police_table(incidents, decimal_comma=True).to_csv(index=False, sep=";", lineterminator="\r\n")
    paths["csv_cp1258"].write_bytes(encode_cp1258(semicolon))
    unicode_text = police_table(incidents, decimal_comma=True).to_csv(index=False, sep="\t", lineterminator="\r\n")
    paths["utf16_text"].write_bytes(unicode_text.encode("utf-16"))
    _write_workbook(incidents, paths["xlsx"])
    return paths


def _write_workbook(incidents: pd.DataFrame, path: Path) -> None:
    """A sheet as typed by hand: a title row, a blank row, then the table with real date and number cells."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Vụ việc"
    sheet.append(["DANH SÁCH VỤ VIỆC — DỮ LIỆU TỔNG HỢP (SYNTHETIC), KHÔNG PHẢI SỐ LIỆU THẬT"])
    sheet.append([])
    sheet.append(list(HEADERS.values()))
    labels = IncidentKind.labels()
    for row in incidents.itertuples(index=False):
        sheet.append(
            [
                row.ref,
                row.occurred_at.tz_localize(None).to_pydatetime(),
                labels[row.kind],
                row.lon,
                row.lat,
                None if pd.isna(row.substance) else row.substance,
                None if pd.isna(row.quantity_g) else row.quantity_g,
                int(row.arrested),
                row.source,
            ]
        )
    book.save(path)


LEGACY_FILE = "synthetic-2024-legacy-communes.xlsx"
LEGACY_INCIDENT_SHEET = "Vụ việc 2024"
LEGACY_INDICATOR_SHEET = "Chỉ số 2024"
_STREETS = ("Lê Lợi", "Trần Phú", "Nguyễn Trãi", "Hai Bà Trưng", "Lạch Tray", "Tôn Đức Thắng", "Quang Trung")


def legacy_units(directory: UnitDirectory, current: set[str]) -> pd.DataFrame:
    """The old (pre-2025) communes lying in the loaded current units: code, names, current candidates."""
    rows = [
        (code, *directory.legacy_names[code].split(", ", 2), candidates)
        for code, candidates in sorted(directory.legacy.items())
        if set(candidates) <= current
    ]
    return pd.DataFrame(rows, columns=["code", "commune", "district", "province", "candidates"])


def legacy_year_tables(units: pd.DataFrame, n: int = 300, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 2024 incident table keyed by old communes (a third by code, a third by full address, a third by
    name columns) and a 2024 indicator table with one row per old commune; all values invented."""
    rng = np.random.default_rng(seed)
    picks = units.iloc[rng.integers(0, len(units), n)].reset_index(drop=True)
    how = np.arange(n) % 3
    days = rng.integers(0, 366, n)
    minutes = rng.integers(0, 24 * 60, n)
    kinds = rng.choice(list(IncidentKind), n)
    streets = [f"Số {rng.integers(1, 300)} đường {rng.choice(_STREETS)}" for _ in range(n)]
    full = picks["commune"] + ", " + picks["district"] + ", " + picks["province"]
    incidents = pd.DataFrame(
        {
            "Số hiệu": [f"SYN-2024-{i + 1:04d}" for i in range(n)],
            "Thời gian": [
                (pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d), minutes=int(m))).strftime("%d/%m/%Y %H:%M")
                for d, m in zip(days, minutes)
            ],
            "Loại vụ việc": [IncidentKind(k).label for k in kinds],
            "Mã xã": np.where(how == 0, picks["code"], ""),
            "Địa chỉ": np.where(
                how == 1, [f"{s}, {a}" for s, a in zip(streets, full)], np.where(how == 2, streets, "")
            ),
            "Xã/phường": np.where(how == 2, picks["commune"], ""),
            "Quận/huyện": np.where(how == 2, picks["district"], ""),
            "Tỉnh/thành phố": np.where(how == 2, picks["province"], ""),
            "Nguồn": SOURCE,
        }
    )
    population = rng.integers(2_000, 25_000, len(units))
    indicators = pd.DataFrame(
        {
            "Năm": 2024,
            "Mã xã": units["code"],
            "Tên xã": units["commune"],
            "Dân số": population,
            "Người có hồ sơ quản lý": rng.poisson(population * 0.004),
            "Số cây bị phá hủy": np.where(rng.random(len(units)) < 0.05, rng.integers(100, 4_000, len(units)), 0),
            "Diện tích trồng (m2)": 0,
            "Trên tuyến trọng điểm": np.where(rng.random(len(units)) < 0.1, "có", "không"),
            "Nguồn": SOURCE,
        }
    )
    return incidents, indicators


def write_legacy_workbook(incidents: pd.DataFrame, indicators: pd.DataFrame, path: Path) -> Path:
    """Both 2024 tables in one workbook, a sheet each, under a title row saying they are synthetic."""
    book = Workbook()
    book.remove(book.active)
    for title, table in ((LEGACY_INCIDENT_SHEET, incidents), (LEGACY_INDICATOR_SHEET, indicators)):
        sheet = book.create_sheet(title)
        sheet.append([f"{title.upper()} THEO ĐƠN VỊ HÀNH CHÍNH CŨ — DỮ LIỆU TỔNG HỢP (SYNTHETIC)"])
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([v.item() if isinstance(v, np.generic) else (v if v != "" else None) for v in row])
    book.save(path)
    return path


def write_samples(communes: gpd.GeoDataFrame, directory: UnitDirectory, out: Path) -> dict[str, Path]:
    """Every sample of data/samples/: the four formats of one table and the 2024 legacy-commune workbook."""
    paths = write_format_samples(sample_incidents(communes), out)
    units = legacy_units(directory, set(communes["code"].astype(str)))
    paths["legacy_2024"] = write_legacy_workbook(*legacy_year_tables(units), out / LEGACY_FILE)
    return paths
