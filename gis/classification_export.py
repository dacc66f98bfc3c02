"""Export a year's classification as CSV, GeoJSON or an administrative Excel table."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gis.classification_store import classification_geojson, require_run, run_results
from gis.excel_layout import administrative_workbook
from models.classification_review import label_vi

FORMATS = ("csv", "geojson", "xlsx")
BASE_COLUMNS = ("commune_code", "name", "category", "level", "method", "confidence")
HEADERS_VI = {"commune_code": "Mã đơn vị", "name": "Tên đơn vị", "category": "Phân loại", "level": "Loại",
              "method": "Phương pháp", "confidence": "Độ tin cậy (mô hình)"}


def export_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per commune: the base columns, then each criterion's value and whether it was met."""
    long = pd.DataFrame([{"commune_code": code, **c} for code, criteria in zip(results["commune_code"], results["criteria"])
                         for c in criteria])
    values = long.pivot(index="commune_code", columns="criterion_id", values="value")
    met = long.pivot(index="commune_code", columns="criterion_id", values="met").add_suffix("_met")
    order = list(dict.fromkeys(long["criterion_id"]))
    wide = pd.concat([values[order], met[[f"{c}_met" for c in order]]], axis=1)
    return results.loc[:, list(BASE_COLUMNS)].join(wide, on="commune_code")


def export_classification(conn: Connection, year: int, fmt: str, version: int | None = None,
                          day: date | None = None) -> bytes:
    """The run's classification in the requested format, as bytes ready to write or send."""
    run = require_run(conn, year, version)
    if fmt == "geojson":
        features = classification_geojson(conn, run["id"])
        return json.dumps({"type": "FeatureCollection", "run": _run_meta(run), "features": features},
                          ensure_ascii=False, default=str).encode("utf-8")
    table = export_table(run_results(conn, run["id"]))
    if fmt == "csv":
        return table.to_csv(index=False).encode("utf-8-sig")
    if fmt == "xlsx":
        return _workbook(table, run, day or date.today())
    raise ValueError(f"định dạng không hỗ trợ (unsupported format {fmt!r}; one of {', '.join(FORMATS)})")


def _run_meta(run: dict[str, Any]) -> dict[str, Any]:
    """The run fields shown beside exported features."""
    return {k: run[k] for k in ("id", "year", "version", "status", "rules_version", "method", "created_by",
                                "created_at", "approved_by", "approved_at", "supersedes_id")}


def _workbook(table: pd.DataFrame, run: dict[str, Any], day: date) -> bytes:
    """The classification table in the administrative layout (Vietnamese headers, labels)."""
    shown = table.assign(category=[label_vi(c, lvl if isinstance(lvl, str) else None)
                                   for c, lvl in zip(table["category"], table["level"])])
    shown = shown.astype(object).where(shown.notna(), None)
    headers = [HEADERS_VI.get(c, c) for c in shown.columns]
    status = "đã phê duyệt" if run["status"] == "approved" else "bản nháp, chưa phê duyệt"
    return administrative_workbook(
        f"KẾT QUẢ PHÂN LOẠI ĐỊA BÀN XÃ, PHƯỜNG, ĐẶC KHU VỀ MA TÚY NĂM {run['year']}",
        f"Phiên bản {run['version']} ({status}); tiêu chí {run['rules_version']}",
        headers, list(shown.itertuples(index=False, name=None)), day=day)
