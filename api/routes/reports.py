"""Reports: yearly KPIs against the city's targets, and the periodic report (a period against the same period of the
previous year), each as JSON or an administrative Excel file."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.audit import record_read
from api.deps import ReadConnDep, ReplicaConnDep, require_roles
from api.downloads import disposition
from api.params import SaneDate, Version
from api.schemas import KpiReport, PeriodReport
from api.slots import heavy
from gis.services.reports import kpi_report, kpi_report_xlsx, period_report, period_report_xlsx
from models.domain.access import Principal, report_province
from models.domain.dates import FIRST_YEAR, LAST_YEAR, report_period

router = APIRouter(prefix="/api/reports", tags=["reports"])

ReportReader = Annotated[Principal, Depends(require_roles("planner", "command"))]
Year = Annotated[int, Query(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2025])]
Province = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_.-]{1,8}$",
        description="a province's code; default: the user's province, else every unit (the national report)",
    ),
]
PeriodFrom = Annotated[SaneDate, Query(alias="from", description="the period's first day (YYYY-MM-DD)")]
PeriodTo = Annotated[
    SaneDate, Query(alias="to", description="the period's last day, included; at most a year after `from`")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_RESPONSE: dict[int | str, dict] = {
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}, "description": "Excel workbook"}
}


@router.get("/kpi", response_model=KpiReport)
def get_kpi(
    conn: ReplicaConnDep, user: ReportReader, year: Year, province: Province = None, version: Version = None
) -> dict[str, Any]:
    """Drug-free share vs the path of the province's targets (Hải Phòng: 30 % → 60 %) or the national one (≥ 50 % by
    2030), growth of problem communes, hotspots eradicated, recurrences, of the classification version asked for
    (default: the newest approved, else the draft); a provincial user: their province only."""
    return kpi_report(conn, year, report_province(user, province), version)


@router.get("/kpi.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def get_kpi_xlsx(
    request: Request,
    conn: ReplicaConnDep,
    primary: ReadConnDep,
    user: ReportReader,
    year: Year,
    province: Province = None,
    version: Version = None,
) -> Response:
    """The KPI report in the Vietnamese administrative layout (.xlsx) of the classification version asked for (the
    one a page shows; default: the newest approved, else the draft), under the reader's heading (their province's
    police, or the Ministry's), named by year, classification version, draft or approved and province
    (``bao-cao-chi-tieu-2025-v1-da-phe-duyet.xlsx``); the export is recorded in the access log."""
    reported = report_province(user, province)
    export = heavy(
        request,
        lambda: kpi_report_xlsx(conn, year, reported, version, issuer=user.province_code, by=user.username),
    )
    record_read(request, primary, user, export.rows)
    return Response(
        export.content,
        media_type=XLSX,
        headers=disposition(export.name or ""),
    )


@router.get("/period", response_model=PeriodReport)
def get_period(
    conn: ReplicaConnDep, user: ReportReader, first: PeriodFrom, last: PeriodTo, province: Province = None
) -> dict[str, Any]:
    """The periodic report («báo cáo định kỳ») of local days [from, to]: incidents by kind, hotspots entering the
    register, eradicated and recurring, tasks per team, the communes with the most incidents, each beside the same
    period of the previous year and the change; a provincial user: their province only."""
    return period_report(conn, report_period(first, last), report_province(user, province))


@router.get("/period.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def get_period_xlsx(
    request: Request,
    conn: ReplicaConnDep,
    primary: ReadConnDep,
    user: ReportReader,
    first: PeriodFrom,
    last: PeriodTo,
    province: Province = None,
) -> Response:
    """The periodic report in the Vietnamese administrative layout (.xlsx), under the reader's heading, named by its
    days and province (``báo-cáo-định-kỳ-01-01-2026-đến-31-03-2026.xlsx``); the export is recorded in the access log,
    as the KPI report's is."""
    window, reported = report_period(first, last), report_province(user, province)
    export = heavy(
        request, lambda: period_report_xlsx(conn, window, reported, issuer=user.province_code, by=user.username)
    )
    record_read(request, primary, user, export.rows)
    return Response(export.content, media_type=XLSX, headers=disposition(export.name or ""))
