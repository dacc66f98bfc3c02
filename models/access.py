"""Who may do what: roles, the acting principal and the per-role permission rules (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("command", "team", "planner", "admin")
ROLE_LABELS_VI = {
    "command": "Ban chỉ huy",
    "team": "Tổ công tác",
    "planner": "Cán bộ tham mưu",
    "admin": "Quản trị",
}
#: Roles that may read operational data (incidents, hotspots, tasks); teams only within their area.
READERS = ("command", "planner", "team")
#: Roles that may change operational data; teams only within their area.
WRITERS = ("command", "team")
#: Hotspot states a team may move a hotspot into (field work); command may use every transition.
TEAM_HOTSPOT_TARGETS = frozenset({"verified", "suppressing", "eradicated", "monitoring"})
#: Task states a team may move its task into (doing the work); accepting, returning, cancelling is command's.
TEAM_TASK_TARGETS = frozenset({"in_progress", "paused", "completed", "declined"})


class PermissionDenied(Exception):
    """The user's role or area does not allow this action."""


@dataclass(frozen=True)
class Principal:
    """The authenticated user on whose behalf a request acts."""

    id: int
    username: str
    role: str
    team_id: int | None = None


def require_role(principal: Principal, roles: tuple[str, ...]) -> None:
    """Raise PermissionDenied unless the principal has one of ``roles``."""
    if principal.role not in roles:
        raise PermissionDenied(f"vai trò '{principal.role}' không được phép thao tác này "
                               f"(allowed roles: {', '.join(roles)})")


def require_target(principal: Principal, target: str, team_targets: frozenset[str]) -> None:
    """Raise PermissionDenied unless the principal may move a resource into ``target``."""
    require_role(principal, WRITERS)
    if principal.role == "team" and target not in team_targets:
        raise PermissionDenied(f"tổ công tác không được chuyển sang trạng thái '{target}' (chỉ ban chỉ huy)")
