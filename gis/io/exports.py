"""File formats of the outputs: a year's classification as CSV, GeoJSON or an administrative Excel table, and the
KPI report as an Excel file (pure: data in, bytes out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from gis.io.excel import administrative_workbook
from models.vocabulary import class_label

FORMATS = ("csv", "geojson", "xlsx")


#: What makes a spreadsheet read a CSV cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a string starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell neutralised (numbers stay numbers)."""
    text = [c for c in table.columns if table[c].dtype == object]
    return table.assign(**{c: table[c].map(neutralised) for c in text})


@dataclass(frozen=True)
class ExportFile:
    """An export ready to write or send, and how many rows (communes, KPIs, hotspots) it holds: the access log
    records every export with its size."""

    content: bytes
    rows: int


BASE_COLUMNS = ("commune_code", "name", "category", "level", "method", "confidence")
HEADERS_VI = {
    "commune_code": "Mã đơn vị",
    "name": "Tên đơn vị",
    "category": "Phân loại",
    "level": "Loại",
    "method": "Phương pháp",
    "confidence": "Độ tin cậy (mô hình)",
}


def export_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per commune: the base columns, then each criterion's value and whether it was met."""
    long = pd.DataFrame(
        [
            {"commune_code": code, **c}
            for code, criteria in zip(results["commune_code"], results["criteria"])
            for c in criteria
        ]
    )
    values = long.pivot(index="commune_code", columns="criterion_id", values="value")
    met = long.pivot(index="commune_code", columns="criterion_id", values="met").add_suffix("_met")
    order = list(dict.fromkeys(long["criterion_id"]))
    wide = pd.concat([values[order], met[[f"{c}_met" for c in order]]], axis=1)
    return results.loc[:, list(BASE_COLUMNS)].join(wide, on="commune_code")


def run_meta(run: dict[str, Any]) -> dict[str, Any]:
    """The run fields shown beside exported features."""
    return {
        k: run[k]
        for k in (
            "id",
            "year",
            "version",
            "status",
            "rules_version",
            "method",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "supersedes_id",
        )
    }


def classification_workbook(table: pd.DataFrame, run: dict[str, Any], day: date) -> bytes:
    """The classification table in the administrative layout (Vietnamese headers, labels)."""
    shown = table.assign(
        category=[
            class_label(c, lvl if isinstance(lvl, str) else None) for c, lvl in zip(table["category"], table["level"])
        ]
    )
    shown = shown.astype(object).where(shown.notna(), None)
    headers = [HEADERS_VI.get(c, c) for c in shown.columns]
    status = "đã phê duyệt" if run["status"] == "approved" else "bản nháp, chưa phê duyệt"
    return administrative_workbook(
        f"KẾT QUẢ PHÂN LOẠI ĐỊA BÀN XÃ, PHƯỜNG, ĐẶC KHU VỀ MA TÚY NĂM {run['year']}",
        f"Phiên bản {run['version']} ({status}); tiêu chí {run['rules_version']}",
        headers,
        list(shown.itertuples(index=False, name=None)),
        day=day,
    )


KPI_HEADERS = ("STT", "Chỉ tiêu", "Kết quả", "Chỉ tiêu đề ra", "Đánh giá", "Ghi chú")


def _shown(value: Any, unit: str) -> str:
    """A KPI value as Vietnamese text (shares in %, decimal comma)."""
    if value is None:
        return "—"
    if unit == "tỷ lệ":
        return f"{value * 100:.1f} %".replace(".", ",")
    return f"{value} {unit}"


def kpi_workbook(report: dict[str, Any], day: date) -> bytes:
    """The KPI report as an administrative Excel file."""
    verdict = {True: "Đạt", False: "Không đạt", None: "—"}
    rows = [
        (i, k["label_vi"], _shown(k["value"], k["unit"]), _shown(k["target"], k["unit"]), verdict[k["met"]], k["note"])
        for i, k in enumerate(report["kpis"], start=1)
    ]
    status = "đã phê duyệt" if report["approved"] else "CHƯA PHÊ DUYỆT (bản nháp)"
    subtitle = (
        f"Kết quả phân loại năm {report['year']}, phiên bản {report['classification']['version']} ({status});"
        f" chỉ tiêu {report['targets_version']}"
    )
    return administrative_workbook(
        f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU PHÒNG, CHỐNG MA TÚY NĂM {report['year']}",
        subtitle,
        KPI_HEADERS,
        rows,
        day=day,
        widths=(6, 48, 16, 16, 12, 48),
    )
