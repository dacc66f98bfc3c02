"""Demo classification: an approved year for the maps and KPIs, and a draft year for planners to review.

Idempotent, so that `make demo` can run again: an existing approved or draft run is left as it is.
"""

from __future__ import annotations

from sqlalchemy import Connection

from gis.services.classification import draft_year
from gis.store.classifications import approve, find_run


def seed_demo_classification(conn: Connection, approved_year: int, draft: int, actor: str, approver: str) -> list[str]:
    """Approve `approved_year` (drafted first by ``actor``, approved by ``approver``: four eyes, the approver is never
    who ran it) and leave `draft` as ``actor``'s draft; return what was done."""
    lines = []
    if find_run(conn, approved_year, approved_only=True) is None:
        draft_year(conn, approved_year, actor=actor, replace=True, note="demo: dữ liệu tổng hợp")
        run = approve(conn, approved_year, actor=approver)
        lines.append(f"Năm {approved_year}: {actor} chạy, {approver} đã phê duyệt phiên bản {run['version']}")
    if find_run(conn, draft) is None:
        run = draft_year(conn, draft, actor=actor, note="demo: dữ liệu tổng hợp")
        lines.append(f"Năm {draft}: bản nháp phiên bản {run['version']} chờ cán bộ tham mưu xem xét")
    return lines or ["Phân loại demo đã có sẵn (demo classification already present)"]
