"""SYNTHETIC sample files in the shapes real police files come in (data/samples/): one table, four formats.

The same 1,000 generated incidents are written as an export from a Vietnamese office would be:
Vietnamese headers, day-first dates and Vietnamese kind names, as

- CSV, comma-separated, UTF-8 (decimal point),
- CSV, semicolon-separated, Windows-1258 (decimal comma; Excel's "CSV" in a Vietnamese locale),
- "Unicode text": UTF-16 with BOM, tab-separated, CRLF (decimal comma),
- .xlsx with real date and number cells, under a title row.

Every one of them imports to the same stored rows (tests/db/test_import_formats.py). Nothing in them is
real: the source column says "dữ liệu tổng hợp (synthetic)" and the file names start with "synthetic-".
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook

from gis.io.text_encodings import encode_cp1258
from models.synthetic.scenario import ScenarioConfig, generate_scenario
from models.vocabulary import IncidentKind

SOURCE = "dữ liệu tổng hợp (synthetic)"
#: Contract column → the Vietnamese header the samples use (each one is in the contract's alias table).
HEADERS = {
    "ref": "Số hiệu",
    "occurred_at": "Thời gian",
    "kind": "Loại vụ việc",
    "lon": "Kinh độ",
    "lat": "Vĩ độ",
    "substance": "Chất ma túy",
    "quantity_g": "Khối lượng (g)",
    "arrested": "Số người bị bắt",
    "source": "Nguồn",
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
