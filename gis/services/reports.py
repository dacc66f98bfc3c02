"""Reports of a province or of the whole country: the yearly KPI report (approved classes and hotspot counts from
PostGIS against the targets of that level, gis.reference.targets_for) and the periodic report (a period's counts
beside the same period of the previous year, models.domain.period_report)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from gis.io.exports import ExportFile, download_name, kpi_workbook, period_file_name, period_workbook
from gis.reference import criteria_basis, targets_for
from gis.store import period_counts
from gis.store.classifications import drug_free_by_province, final_classes, require_run, run_classes
from gis.store.indicators import conversion_kpis, hotspot_kpis
from gis.store.provinces import (
    current_units,
    document_heading,
    province_names,
    require_province,
    require_province_units,
    require_run_covers,
    sole_province,
)
from gis.store.scoping import AreaScope
from models.domain.dates import DayWindow, vn_day
from models.domain.kpi import compute_kpis
from models.domain.period_report import (
    TOP_COMMUNES,
    WRITTEN_HERE,
    compared_window,
    coverage_notes,
    data_until_lines,
    known,
    period_sections,
)
from models.errors import InvalidRequest
from models.vocabulary import AreaLevel, local_today


def yearly_hotspot_counts(conn: Connection, year: int, scope: AreaScope) -> dict[str, Any]:
    """The hotspot counts of a year in the scope (:func:`gis.store.indicators.hotspot_kpis`), each None when the
    hotspot records do not cover its calendar year whole — the periodic report's rule for the records written in the
    system (:func:`models.domain.period_report.known` with ``whole``): before the first hotspot was recorded there is
    no figure, not 0 —, with the day the records begin (``records_since``)."""
    counts: dict[str, Any] = dict(hotspot_kpis(conn, year, scope))
    since = period_counts.records_since(conn, scope)["hotspots"]
    covered = {y: known(since, _calendar_year(y), whole=True) for y in (year, year - 1)}
    for key, of_year in (("new", year), ("eradicated", year), ("recurred", year), ("eradicated_previous", year - 1)):
        if not covered[of_year]:
            counts[key] = None
    return {**counts, "records_since": since}


def _calendar_year(year: int) -> DayWindow:
    """The local days of a calendar year."""
    return DayWindow(date(year, 1, 1), date(year, 12, 31))


def kpi_report(
    conn: Connection, year: int, province_code: str | None = None, version: int | None = None
) -> dict[str, Any]:
    """KPIs of a year from its classification ``version`` (None: the newest approved one, else the draft, marked as
    not approved), for one province or (None) every unit in the database; a province the system holds no unit of, or
    none of which the run holds, is refused (NotFound), not reported as zeros; units the run does not hold are noted.

    Every unit of a one-province database belongs to that province: its report is the province's, measured against
    the province's targets (Hải Phòng's 30 % → 60 %), as before provinces existed. A national report adds each
    province's drug-free share against the target that applies to it.
    """
    if province_code is not None:
        require_province_units(conn, province_code)
    run = require_run(conn, year, version)
    if province_code is not None:
        require_run_covers(conn, run, province_code)
    area = province_code or sole_province(conn)
    scope = AreaScope(province_code=province_code)
    targets = targets_for(area)
    approved = run["status"] == "approved"
    classes = run_classes(conn, run["id"], scope)
    previous = final_classes(conn, year - 1, scope=scope)
    conversion = conversion_kpis(conn, year, targets.watch_months, scope)
    hotspots = yearly_hotspot_counts(conn, year, scope)
    kpis = compute_kpis(year, classes, previous, hotspots, targets, conversion, current_units(conn, scope))
    names = province_names(conn)
    report: dict[str, Any] = {
        "year": year,
        "classification": {k: run[k] for k in ("id", "version", "status", "approved_by", "approved_at")},
        "approved": approved,
        "level": AreaLevel.NATION if area is None else AreaLevel.PROVINCE,
        "province_code": area,
        "province": names.get(area) if area else None,
        "targets_version": targets.version,
        "basis": f"{targets.source}; phân loại: {criteria_basis(run['rules_version'])}",
        "targets_level": AreaLevel.NATION if targets.province_code is None else AreaLevel.PROVINCE,
        "kpis": kpis,
        "provinces": [],
    }
    if area is None:
        report["provinces"] = [_province_line(line, year) for line in drug_free_by_province(conn, run["id"])]
    return report


def _province_line(line: dict[str, Any], year: int) -> dict[str, Any]:
    """One province of the national report: its drug-free share against the target that applies to it."""
    share = line["drug_free"] / line["units"] if line["units"] else None
    target = targets_for(line["province_code"]).drug_free_target(year)
    met = None if share is None or target is None else share >= target
    return {**line, "drug_free_share": None if share is None else round(share, 4), "target": target, "met": met}


def kpi_report_xlsx(
    conn: Connection,
    year: int,
    province_code: str | None = None,
    version: int | None = None,
    *,
    issuer: str | None,
    by: str,
) -> ExportFile:
    """The year's KPI report (a province, or every unit; of classification ``version``, see :func:`kpi_report`) as an
    administrative Excel file exported now by ``by``, with its number of KPIs, named for download by the year, the
    classification run it is built on and the province; issued by the police of province ``issuer`` (the reader's;
    None: the Ministry)."""
    report = kpi_report(conn, year, province_code, version)
    content = kpi_workbook(report, document_heading(conn, issuer, by))
    name = download_name("báo-cáo-chỉ-tiêu", year, report["classification"], province_code, "xlsx")
    return ExportFile(content, len(report["kpis"]), name)


def period_report(conn: Connection, period: DayWindow, province_code: str | None = None) -> dict[str, Any]:
    """The periodic report of ``period`` for one province or (None) every unit in the database: incidents by kind,
    hotspots entering the register, eradicated and recurring, tasks per team, the communes with the most incidents —
    each beside the same period of the previous year (29/02 compared with 28/02) and the change. ``since``: the day
    each kind of record begins in the scope; a period ending before it has no figures (None), not zeros.
    ``data_until``: the scope's newest incident day, said beside the figures with a warning when the period goes on
    past it (``data_until_line``, ``data_gap``); a period beginning after it has no incident figures either, and one
    going on past it compares its incident figures with last year's same days up to the same day a year before
    (``incidents_previous``, said in ``compared_line``: :func:`models.domain.period_report.compared_window`) — the
    hotspot and task figures, written here, keep the whole windows. A period beginning after today is refused: it has
    no figures, and its hotspot and task lines read as counted («0 | 5 | −5», tasks overdue at an end still to come)."""
    today = local_today()
    if period.first > today:
        raise InvalidRequest(
            f"kỳ báo cáo bắt đầu ngày {vn_day(period.first)}, sau hôm nay ({vn_day(today)}): chưa có số liệu nào",
            "a report period begins after today",
        )
    if province_code is not None:
        require_province(conn, province_code)
    area = province_code or sole_province(conn)
    scope = AreaScope(province_code=province_code)
    previous = period.year_before()
    params = period_counts.window_params(period, previous)
    since = period_counts.records_since(conn, scope)
    data_until = period_counts.incidents_until(conn, scope)
    loaded_to = {"incidents": data_until}  # imported from the police's register; the other records are written here
    reach, gap = data_until_lines(data_until, period)
    compared, compared_line = compared_window(data_until, period)
    incident_params = period_counts.window_params(period, compared)
    before = {"incidents": compared}
    sections = period_sections(
        kinds=period_counts.incidents_by_kind(conn, incident_params, scope),
        hotspots=period_counts.hotspot_counts(conn, params, scope),
        teams=period_counts.task_counts(conn, params, scope),
        communes=period_counts.top_communes(conn, incident_params, scope, TOP_COMMUNES),
        known_now={kind: known(day, period, loaded_to.get(kind)) for kind, day in since.items()},
        known_before={
            kind: known(day, before.get(kind, previous), loaded_to.get(kind), whole=kind in WRITTEN_HERE)
            for kind, day in since.items()
        },
    )
    return {
        "period": {"from": period.first, "to": period.last, "days": period.days},
        "previous": {"from": previous.first, "to": previous.last, "days": previous.days},
        "incidents_previous": {"from": compared.first, "to": compared.last, "days": compared.days},
        "level": AreaLevel.NATION if area is None else AreaLevel.PROVINCE,
        "province_code": area,
        "province": province_names(conn).get(area) if area else None,
        "since": since,
        "data_until": data_until,
        "data_until_line": reach,
        "data_gap": gap,
        "compared_line": compared_line,
        "notes": coverage_notes(since, previous),
        "sections": sections,
    }


def period_report_xlsx(
    conn: Connection, period: DayWindow, province_code: str | None = None, *, issuer: str | None, by: str
) -> ExportFile:
    """The periodic report as an administrative Excel file exported now by ``by``, issued by the police of province
    ``issuer`` (the reader's; None: the Ministry), with its number of lines, named for download by its days and
    province (``báo-cáo-định-kỳ-01-01-2026-đến-31-03-2026.xlsx``)."""
    report = period_report(conn, period, province_code)
    content = period_workbook(report, document_heading(conn, issuer, by))
    rows = sum(len(section["lines"]) for section in report["sections"])
    return ExportFile(content, rows, period_file_name(period, province_code))
