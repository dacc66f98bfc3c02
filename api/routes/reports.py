"""Reports: yearly KPIs against the city's targets, as JSON or an administrative Excel file."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.audit import record_read
from api.deps import ConnDep, require_roles
from api.schemas import KpiReport
from gis.services.reports import kpi_report, kpi_report_xlsx
from models.domain.access import Principal

router = APIRouter(prefix="/api/reports", tags=["reports"])

ReportReader = Annotated[Principal, Depends(require_roles("planner", "command"))]
Year = Annotated[int, Query(ge=2000, le=2100)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE: dict[int | str, dict] = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}, "description": "Excel workbook"}
}


@router.get("/kpi", response_model=KpiReport)
def get_kpi(conn: ConnDep, user: ReportReader, year: Year) -> dict[str, Any]:
    """Drug-free share vs the 30 % / 60 % path, growth of problem communes, hotspots eradicated, recurrences."""
    return kpi_report(conn, year)


@router.get("/kpi.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def get_kpi_xlsx(request: Request, conn: ConnDep, user: ReportReader, year: Year) -> Response:
    """The KPI report in the Vietnamese administrative layout (.xlsx); the export is recorded in the access log."""
    export = kpi_report_xlsx(conn, year)
    record_read(request, conn, user, export.rows)
    return Response(
        export.content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="bao-cao-chi-tieu-{year}.xlsx"'},
    )
