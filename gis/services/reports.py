"""The yearly KPI report: approved classes and hotspot counts from PostGIS against the configured targets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gis.io.exports import ExportFile, kpi_workbook
from gis.reference import load_targets
from gis.store.classifications import final_classes, find_run
from gis.store.indicators import hotspot_kpis
from models.domain.classification import RunNotFound
from models.domain.kpi import compute_kpis
from models.vocabulary import local_today


def kpi_report(conn: Connection, year: int) -> dict[str, Any]:
    """KPIs of a year from its newest approved classification (else its draft, marked as not approved)."""
    run = find_run(conn, year)
    if run is None:
        raise RunNotFound(f"chưa có kết quả phân loại năm {year} (no classification for {year})")
    targets = load_targets()
    classes = final_classes(conn, year, approved_only=run["status"] == "approved")
    kpis = compute_kpis(year, classes, final_classes(conn, year - 1), hotspot_kpis(conn, year), targets)
    return {
        "year": year,
        "classification": {k: run[k] for k in ("id", "version", "status", "approved_by", "approved_at")},
        "approved": run["status"] == "approved",
        "targets_version": targets.version,
        "kpis": kpis,
    }


def kpi_report_xlsx(conn: Connection, year: int) -> ExportFile:
    """The year's KPI report as an administrative Excel file dated today (Hải Phòng), with its number of KPIs."""
    report = kpi_report(conn, year)
    return ExportFile(kpi_workbook(report, local_today()), len(report["kpis"]))
