"""Tasks: list and filter, my tasks, assignee suggestion, create and assign, transitions, comments."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import AwareDatetime

from api.audit import record_read
from api.deps import (
    AreaScopeDep,
    Commander,
    ConnDep,
    OneOfEachPart,
    Reader,
    ReaderRead,
    Writer,
    WriterRead,
    WriterWrite,
)
from api.downloads import disposition
from api.limits import upload_body_size
from api.params import Commune, IdempotencyKey
from api.schemas import (
    AssigneeSuggestion,
    AssignmentIn,
    ChecklistTick,
    CommentIn,
    CommentOut,
    PhotoOut,
    TaskChanges,
    TaskCounts,
    TaskDetail,
    TaskIn,
    TaskList,
    TaskTransitionIn,
    TaskTransitionOut,
)
from gis.io.photos import MEDIA_TYPES, accept_photo, preview
from gis.services.tasks import (
    assign_task,
    comment_task,
    create_task,
    tick_checklist,
    transition_task,
    update_task,
)
from gis.store.hotspots import hotspot_commune
from gis.store.scoping import AreaScope, require_commune_in_scope
from gis.store.selection import TaskFilter
from gis.store.tasks import count_tasks, get_task, list_tasks, photo_content, suggest_assignees
from models.domain.access import COMMAND_TASK_TARGETS, TEAM_TASK_TARGETS, Principal, require_target
from models.errors import InvalidRequest, NotFound, PermissionDenied
from models.vocabulary import TaskKind, TaskState

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
PHOTO_RESPONSE: dict[int | str, dict] = {
    200: {
        "description": "the photo as stored",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()},
    }
}
PREVIEW_RESPONSE: dict[int | str, dict] = {
    200: {
        "description": "a small JPEG of the photo",
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
    }
}
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=100_000_000)]


def _visible_task(conn: ConnDep, task_id: int, scope: AreaScope, role: str) -> dict[str, Any]:
    """The task if the user may see it (with what the user may do now), else 404."""
    task = get_task(conn, task_id, scope, role)
    if task is None:
        raise NotFound(f"không tìm thấy nhiệm vụ #{task_id}")
    return task


def _read_task(request: Request, conn: ConnDep, task_id: int, scope: AreaScope, user: Principal) -> dict[str, Any]:
    """The visible task with its notes and photos, the read recorded in the access log (rows: its events)."""
    task = _visible_task(conn, task_id, scope, user.role)
    record_read(request, conn, user, len(task["events"]))
    return task


async def _task_filter(
    state: TaskState | None = None,
    kind: TaskKind | None = None,
    team: int | None = None,
    overdue: bool | None = None,
    commune: Commune = None,
    hotspot: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    outside_area: Annotated[
        bool | None, Query(description="held by its team in a commune outside the team's area today (or not)")
    ] = None,
) -> TaskFilter:
    """The filters of the task list and of its counts, the same parameters for both (async: nothing waits here)."""
    return TaskFilter(state, kind, team, overdue, commune, hotspot, outside_area)


TaskFilterDep = Annotated[TaskFilter, Depends(_task_filter)]


@router.get("", response_model=TaskList)
def get_tasks(read: ReaderRead, flt: TaskFilterDep, limit: Limit = 200, offset: Offset = 0) -> dict[str, Any]:
    """Visible tasks filtered by state (`completed`: waiting for acceptance), kind, assignee team, commune, hotspot,
    overdue and held outside the team's area today (`outside_area`: a commune an administrator moved to another
    team's area), soonest due first; each with the transitions the user may make now."""
    return list_tasks(read.conn, read.scope, flt, limit, offset, read.user.role)


@router.get("/counts", response_model=TaskCounts)
def get_task_counts(read: ReaderRead, flt: TaskFilterDep) -> dict[str, Any]:
    """How many visible tasks the list's filters select: in all, overdue, open and in each state, in one statement.

    The command page's figures were six lists of one task each, queued behind the page's other requests on the
    browser's six connections per host. bench/bench_pages.py, command page as chihuy, before → after in one run
    (with the map of the classes revalidated, api.routes.classifications), load average 3.7–4.2 on 2 cores: 16 → 11
    API requests (24 → 19 in all); a revisit on the phone profile ready in 1.69 → 1.31 s; first visits' times
    within the noise of that load."""
    return count_tasks(read.conn, read.scope, flt)


@router.get("/mine", response_model=TaskList)
def my_tasks(
    read: WriterRead,
    state: TaskState | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Tasks assigned to the logged-in user's team."""
    user = read.user
    if user.team_id is None:
        raise PermissionDenied("chỉ người dùng thuộc một tổ công tác mới có 'nhiệm vụ của tôi'")
    return list_tasks(read.conn, read.scope, TaskFilter(state=state, team_id=user.team_id), limit, offset, user.role)


@router.get("/suggest-assignee", response_model=AssigneeSuggestion)
def suggest_assignee(
    conn: ConnDep,
    user: Commander,
    scope: AreaScopeDep,
    hotspot_id: int | None = None,
    commune: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """Teams covering the hotspot's or commune's area, least open workload first; command confirms or changes (a
    provincial command: only inside its province)."""
    if (hotspot_id is None) == (commune is None):
        raise InvalidRequest("cần đúng một trong hai tham số: hotspot_id hoặc commune")
    if hotspot_id is not None:
        commune = hotspot_commune(conn, hotspot_id, scope)
    if commune:
        require_commune_in_scope(conn, scope, commune)
    candidates = suggest_assignees(conn, commune) if commune else []
    staffed = [c for c in candidates if c["active_members"]]
    return {"commune_code": commune, "suggested": staffed[0] if staffed else None, "candidates": candidates}


@router.get("/{task_id:int}", response_model=TaskDetail)
def get_one(request: Request, task_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep) -> dict[str, Any]:
    """One task with overdue days, allowed next states and its full event history (the read is recorded)."""
    return _read_task(request, conn, task_id, scope, user)


@router.post("", status_code=201, response_model=TaskDetail)
def post_task(
    body: TaskIn, conn: ConnDep, user: Commander, scope: AreaScopeDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Create a task, assigned to `team_id` when given (see suggest-assignee); a provincial command only in its
    province. Sent again with the same `Idempotency-Key` (the answer was lost), the first task is answered and nothing
    is stored (409: the key was used for another request)."""
    task_id = create_task(conn, user, **body.model_dump(), scope=scope, key=key)
    return _visible_task(conn, task_id, scope, user.role)


@router.patch("/{task_id:int}", response_model=TaskDetail)
def patch_task(
    request: Request, task_id: int, body: TaskChanges, conn: ConnDep, user: Commander, scope: AreaScopeDep
) -> dict[str, Any]:
    """Change due date, priority or checklist (412 on a stale version; nothing to change changes nothing); answers the
    task whole, a recorded read."""
    update_task(conn, task_id, body.version, body.changes(), user, scope)
    return _read_task(request, conn, task_id, scope, user)


@router.post("/{task_id:int}/checklist", response_model=TaskDetail)
def post_checklist(
    request: Request,
    task_id: int,
    body: ChecklistTick,
    conn: ConnDep,
    user: Writer,
    scope: AreaScopeDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Mark a line of the task's checklist done or not (412 on a stale version; a line already so changes nothing):
    the team holding the task while it works on it, command until the work is sent; answers the task whole, a
    recorded read. `made_at`: when a phone without signal ticked it; the same tick sent again under its
    `Idempotency-Key` (its answer lost) changes nothing and answers the task."""
    tick_checklist(conn, task_id, body.version, body.item, body.done, user, scope, body.made_at, key)
    return _read_task(request, conn, task_id, scope, user)


@router.post("/{task_id:int}/assignment", response_model=TaskDetail)
def post_assignment(
    request: Request,
    task_id: int,
    body: AssignmentIn,
    conn: ConnDep,
    user: Commander,
    scope: AreaScopeDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Assign an unassigned task, or reassign one not yet started (412 on a stale version; the team it is taken from
    is told, with `note`); a provincial command only its province's tasks, to its province's teams. Sent again with the
    same `Idempotency-Key` (the answer was lost), the task is answered as it is and nothing changes (409: the key was
    used for another request)."""
    assign_task(conn, task_id, body.team_id, body.version, user, scope=scope, note=body.note, key=key)
    return _read_task(request, conn, task_id, scope, user)


@router.post("/{task_id:int}/transitions", response_model=TaskTransitionOut)
def post_transition(
    task_id: int, body: TaskTransitionIn, write: WriterWrite, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Move a task to `to` with the hotspot transition it carries (409 not allowed from its state or its hotspot's,
    412 stale version, 422 comment or reason missing or naming a person). The team works; command accepts, returns or
    cancels. Sent again with the same `Idempotency-Key` (the answer was lost), the first answer is given and nothing
    changes (409: the key was used for another change). `made_at`: when a phone without signal made the move."""
    require_target(write.user, body.to, TEAM_TASK_TARGETS, COMMAND_TASK_TARGETS)
    return transition_task(
        write.conn, task_id, body.to, body.note, body.version, write.user, write.scope, key=key, made_at=body.made_at
    )


@router.post("/{task_id:int}/comments", status_code=201, response_model=CommentOut)
def post_comment(task_id: int, body: CommentIn, write: WriterWrite, key: IdempotencyKey = None) -> dict[str, Any]:
    """Comment on a visible task (422: it names a person; 409: the task is closed — cancelled, accepted, declined); the
    assignee team or command sees it in its inbox. Sent again with the same `Idempotency-Key`, the first comment is
    answered and nothing is stored (409: the key was used for another). `made_at`: when a phone without signal wrote
    it."""
    return comment_task(write.conn, task_id, body.note, write.user, write.scope, key=key, made_at=body.made_at)


# A phone's photo is several MB: this route takes the upload limit (DIABAN_MAX_UPLOAD_MB), not the 1 MB of JSON bodies;
# the photo's own limit (DIABAN_PHOTO_MAX_MB) is checked below with a Vietnamese reason.
@router.post("/{task_id}/photos", status_code=201, response_model=PhotoOut, max_body_size=upload_body_size())
def post_photo(
    request: Request,
    task_id: int,
    conn: ConnDep,
    user: Writer,
    scope: AreaScopeDep,
    parts: OneOfEachPart,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most DIABAN_PHOTO_MAX_MB")],
    note: Annotated[str, Form(max_length=4000)] = "",
    keep_location: Annotated[bool, Form(description="keep the EXIF GPS position in the stored photo")] = False,
    made_at: Annotated[AwareDatetime | None, Form(description="when a phone without signal took the note")] = None,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """A progress note with photo evidence on a visible task: checked by size, magic bytes and decoding; the place it
    was taken is removed from its metadata unless `keep_location` (the image itself is not re-encoded). Sent again
    with the same `Idempotency-Key`, the first note is answered and nothing is stored."""
    max_bytes = request.app.state.photo_max_bytes
    data = photo.file.read(max_bytes + 1)
    accepted = accept_photo(data, max_bytes=max_bytes, keep_location=keep_location, size=photo.size)
    saved = comment_task(conn, task_id, note.strip() or "Ảnh hiện trường", user, scope, accepted, key, made_at)
    return {
        "id": saved["photo_id"],
        "task_id": task_id,
        "event_id": saved["id"],
        "media_type": accepted.media_type,
        "byte_size": len(accepted.content),
        "width": accepted.width,
        "height": accepted.height,
        "had_location": accepted.had_location,
        "location_kept": accepted.location_kept,
    }


def _read_photo(
    request: Request, conn: ConnDep, task_id: int, photo_id: int, scope: AreaScope, user: Principal
) -> tuple[bytes, str]:
    """The photo's bytes and media type if the user may see its task (404 otherwise), the read recorded."""
    found = photo_content(conn, task_id, photo_id, scope)
    if found is None:
        raise NotFound(f"không tìm thấy ảnh #{photo_id} của nhiệm vụ #{task_id}", "photo not found")
    record_read(request, conn, user, 1)
    return found


def _photo_response(content: bytes, media_type: str, filename: str) -> Response:
    """A photo as the browser keeps it a day (private: it is the user's to see), never sniffed as another type."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            **disposition(filename, "inline"),
        },
    )


@router.get("/{task_id}/photos/{photo_id}", response_class=Response, responses=PHOTO_RESPONSE)
def get_photo(
    request: Request, task_id: int, photo_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep
) -> Response:
    """The photo, only to users who may see its task (404 otherwise); the read is recorded."""
    content, media_type = _read_photo(request, conn, task_id, photo_id, scope, user)
    return _photo_response(content, media_type, f"nhiệm-vụ-{task_id}-ảnh-{photo_id}.{media_type.split('/')[1]}")


@router.get("/{task_id}/photos/{photo_id}/preview", response_class=Response, responses=PREVIEW_RESPONSE)
def get_photo_preview(
    request: Request, task_id: int, photo_id: int, conn: ConnDep, user: Reader, scope: AreaScopeDep
) -> Response:
    """A small JPEG of the photo (gis.io.photos.preview), what a history's thumbnail shows: a phone on a weak network
    fetches a few kB, not the whole photo. On the photo's terms: only to users who may see its task, the read recorded."""
    content, _ = _read_photo(request, conn, task_id, photo_id, scope, user)
    return _photo_response(preview(content), "image/jpeg", f"nhiệm-vụ-{task_id}-ảnh-{photo_id}-nhỏ.jpeg")
