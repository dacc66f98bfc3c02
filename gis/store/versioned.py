"""Optimistic concurrency for mutable rows: read at a version, then a conditional UPDATE that only one writer wins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from models.errors import NotFound, StaleVersion

#: Tables with an integer ``version`` column updated through this module, with their Vietnamese names.
VERSIONED_TABLES = {"hotspots": "điểm nóng", "tasks": "nhiệm vụ", "users": "người dùng", "teams": "tổ công tác"}


def _table(name: str) -> str:
    """Refuse table names that are not versioned tables (they are interpolated into SQL)."""
    if name not in VERSIONED_TABLES:
        raise ValueError(f"not a versioned table: {name}")
    return name


def load_at_version(
    conn: Connection,
    table: str,
    row_id: int,
    version: int,
    columns: str,
    visible: str = "true",
    params: dict[str, Any] | None = None,
    lock: bool = False,
) -> dict[str, Any]:
    """Row ``row_id`` (alias ``r``) if visible; NotFound when not, StaleVersion when its version moved on.

    ``lock``: the row is locked until the transaction ends (``FOR UPDATE``), for a change that reads other rows on the
    strength of this one. A writer racing it waits here and then reads the version the first one left, so it is
    refused as stale before it checks anything against rows the first one changed meanwhile."""
    row = (
        conn.execute(
            text(
                f"SELECT r.version, {columns} FROM {_table(table)} r WHERE r.id = :id AND {visible}"
                + (" FOR UPDATE OF r" if lock else "")
            ),
            {**(params or {}), "id": row_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"không tìm thấy {VERSIONED_TABLES[table]} #{row_id}")
    if row["version"] != version:
        raise StaleVersion(
            f"{VERSIONED_TABLES[table]} #{row_id} đã được thay đổi (phiên bản hiện tại "
            f"{row['version']}, bạn gửi {version}): hãy tải lại rồi thử lại"
        )
    return dict(row)


def update_at_version(
    conn: Connection, table: str, row_id: int, version: int, assignments: str, params: dict[str, Any]
) -> int:
    """Apply ``assignments`` only if the row is still at ``version``; return the new version or raise StaleVersion."""
    new_version = conn.execute(
        text(
            f"UPDATE {_table(table)} SET {assignments}, version = version + 1 "
            "WHERE id = :id AND version = :version RETURNING version"
        ),
        {**params, "id": row_id, "version": version},
    ).scalar()
    if new_version is None:
        raise StaleVersion(f"{VERSIONED_TABLES[table]} #{row_id} vừa được người khác thay đổi: hãy tải lại rồi thử lại")
    return new_version
