"""Tasks: list and filter, my tasks, assignee suggestion, create and assign, transitions, comments."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AreaScopeDep, Commander, ConnDep, Reader, Writer
from api.schemas import (
    AssigneeSuggestion,
    AssignmentIn,
    CommentIn,
    CommentOut,
    TaskChanges,
    TaskDetail,
    TaskIn,
    TaskList,
    TaskTransitionOut,
    TransitionIn,
)
from gis.services.tasks import (
    assign_task,
    comment_task,
    create_task,
    transition_task,
    update_task,
)
from gis.store.hotspots import hotspot_commune
from gis.store.scoping import AreaScope
from gis.store.selection import TaskFilter
from gis.store.tasks import get_task, list_tasks, suggest_assignees
from models.domain.access import TEAM_TASK_TARGETS, require_target
from models.errors import InvalidRequest, NotFound, PermissionDenied
from models.vocabulary import TaskKind, TaskState

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]


def _visible_task(conn: ConnDep, task_id: int, scope: AreaScope) -> dict[str, Any]:
    """The task if the user may see it, else 404."""
    task = get_task(conn, task_id, scope)
    if task is None:
        raise NotFound(f"không tìm thấy nhiệm vụ #{task_id}")
    return task


@router.get("", response_model=TaskList)
def get_tasks(
    conn: ConnDep,
    user: Reader,
    scope: AreaScopeDep,
    state: TaskState | None = None,
    kind: TaskKind | None = None,
    team: int | None = None,
    overdue: bool | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Visible tasks filtered by state, kind, assignee team and overdue, soonest due first."""
    return list_tasks(conn, scope, TaskFilter(state, kind, team, overdue), limit, offset)


@router.get("/mine", response_model=TaskList)
def my_tasks(
    conn: ConnDep,
    user: Writer,
    scope: AreaScopeDep,
    state: TaskState | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Tasks assigned to the logged-in user's team."""
    if user.team_id is None:
        raise PermissionDenied("chỉ người dùng thuộc một tổ công tác mới có 'nhiệm vụ của tôi'")
    return list_tasks(conn, scope, TaskFilter(state=state, team_id=user.team_id), limit, offset)


@router.get("/suggest-assignee", response_model=AssigneeSuggestion)
def suggest_assignee(
    conn: ConnDep,
    user: Commander,
    hotspot_id: int | None = None,
    commune: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """Teams covering the hotspot's or commune's area, least open workload first; command confirms or changes."""
    if (hotspot_id is None) == (commune is None):
        raise InvalidRequest("cần đúng một trong hai tham số: hotspot_id hoặc commune")
    if hotspot_id is not None:
        commune = hotspot_commune(conn, hotspot_id)
    candidates = suggest_assignees(conn, commune) if commune else []
    return {"commune_code": commune, "suggested": candidates[0] if candidates else None, "candidates": candidates}


@router.get("/{task_id:int}", response_model=TaskDetail)
def get_one(task_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep) -> dict[str, Any]:
    """One task with overdue days, allowed next states and its full event history."""
    return _visible_task(conn, task_id, scope)


@router.post("", status_code=201, response_model=TaskDetail)
def post_task(body: TaskIn, conn: ConnDep, user: Commander) -> dict[str, Any]:
    """Create a task, assigned to `team_id` when given (see suggest-assignee)."""
    task_id = create_task(conn, user, **body.model_dump())
    return _visible_task(conn, task_id, AreaScope())


@router.patch("/{task_id:int}", response_model=TaskDetail)
def patch_task(task_id: int, body: TaskChanges, conn: ConnDep, user: Commander) -> dict[str, Any]:
    """Change due date, priority or checklist (412 on a stale version; nothing to change changes nothing)."""
    update_task(conn, task_id, body.version, body.changes(), user)
    return _visible_task(conn, task_id, AreaScope())


@router.post("/{task_id:int}/assignment", response_model=TaskDetail)
def post_assignment(task_id: int, body: AssignmentIn, conn: ConnDep, user: Commander) -> dict[str, Any]:
    """Assign an unassigned task, or reassign one not yet started (412 on a stale version)."""
    assign_task(conn, task_id, body.team_id, body.version, user)
    return _visible_task(conn, task_id, AreaScope())


@router.post("/{task_id:int}/transitions", response_model=TaskTransitionOut)
def post_transition(
    task_id: int, body: TransitionIn, conn: ConnDep, user: Writer, scope: AreaScopeDep
) -> dict[str, Any]:
    """Move a task to `to` (409 not allowed from its state, 412 stale version, 422 comment or reason missing)."""
    require_target(user, body.to, TEAM_TASK_TARGETS)
    return transition_task(conn, task_id, body.to, body.note, body.version, user, scope)


@router.post("/{task_id:int}/comments", status_code=201, response_model=CommentOut)
def post_comment(task_id: int, body: CommentIn, conn: ConnDep, user: Writer, scope: AreaScopeDep) -> dict[str, Any]:
    """Comment on a visible task; the assignee team or command sees it in its inbox."""
    return {"id": comment_task(conn, task_id, body.note, user, scope), "task_id": task_id}
