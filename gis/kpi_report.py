"""The yearly KPI report: approved classes and hotspot counts from PostGIS against the configured targets."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from gis.classification_store import final_classes, find_run
from gis.excel_layout import administrative_workbook
from gis.indicator_queries import hotspot_kpis
from models.classification_review import RunNotFound
from models.kpi import DEFAULT_TARGETS_PATH, compute_kpis, load_targets

HEADERS = ("STT", "Chỉ tiêu", "Kết quả", "Chỉ tiêu đề ra", "Đánh giá", "Ghi chú")


def kpi_report(conn: Connection, year: int) -> dict[str, Any]:
    """KPIs of a year from its newest approved classification (else its draft, marked as not approved)."""
    run = find_run(conn, year)
    if run is None:
        raise RunNotFound(f"chưa có kết quả phân loại năm {year} (no classification for {year})")
    targets = load_targets(DEFAULT_TARGETS_PATH)
    classes = final_classes(conn, year, approved_only=run["status"] == "approved")
    kpis = compute_kpis(year, classes, final_classes(conn, year - 1), hotspot_kpis(conn, year), targets)
    return {"year": year, "classification": {k: run[k] for k in ("id", "version", "status", "approved_by", "approved_at")},
            "approved": run["status"] == "approved", "targets_version": targets.version, "kpis": kpis}


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
    rows = [(i, k["label_vi"], _shown(k["value"], k["unit"]), _shown(k["target"], k["unit"]), verdict[k["met"]],
             k["note"]) for i, k in enumerate(report["kpis"], start=1)]
    status = "đã phê duyệt" if report["approved"] else "CHƯA PHÊ DUYỆT (bản nháp)"
    subtitle = (f"Kết quả phân loại năm {report['year']}, phiên bản {report['classification']['version']} ({status});"
                f" chỉ tiêu {report['targets_version']}")
    return administrative_workbook(f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU PHÒNG, CHỐNG MA TÚY NĂM {report['year']}",
                                   subtitle, HEADERS, rows, day=day, widths=(6, 48, 16, 16, 12, 48))
