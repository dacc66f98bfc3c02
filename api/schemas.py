"""The shapes of the API: every request body and every JSON answer, grouped by resource.

Routes declare these as ``response_model=``, so FastAPI checks each answer against them (a renamed SQL
alias fails the tests instead of silently breaking a page script) and ``/openapi.json`` describes every
response body. Values of closed sets are typed by the vocabulary enums.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from api.errors import ErrorOut
from api.params import SaneDate
from models.analytics.detection import MAX_WINDOW_DAYS, DetectionParams
from models.domain.access import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, TEAM_NAME_CHARS, USERNAME_PATTERN
from models.domain.dates import FIRST_YEAR, LAST_YEAR
from models.domain.hotspot_lifecycle import MANUAL_MAX_RADIUS_M, MANUAL_NOTE_CHARS
from models.vocabulary import (
    PROVINCIAL_ROLES,
    AccessedData,
    AdminAction,
    AreaLevel,
    Assignment,
    Category,
    DraftEnd,
    HotspotKind,
    HotspotOrigin,
    HotspotStatus,
    IncidentKind,
    Level,
    LineageKind,
    Role,
    RunStatus,
    TaskKind,
    TaskPriority,
    TaskState,
    UnitKind,
)

#: A province code as the boundary files carry it ("31"); the tables hold at most 8 characters.
ProvinceCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,8}$")]
Geometry = Annotated[dict[str, Any], Field(description="GeoJSON geometry (WGS84 longitude, latitude)")]
P = TypeVar("P", bound=BaseModel)


class _Out(BaseModel):
    """Base of the answers: built from the dictionaries the services return."""

    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    """Base of the request bodies: no NaN or infinity in a number, and every number and yes/no field strict (StrictInt,
    StrictFloat, StrictBool): pydantic would otherwise read ``true`` as 1 (a task assigned to team 1), ``"3"`` as 3
    and 0 or "yes" as a boolean, none of which the OpenAPI description allows (found by schemathesis). A field the
    body does not have is refused by its name, not dropped: ``"description"`` for ``note`` had been stored as no
    note, ``"due"`` for ``due_date`` as no due date."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A text with a NUL character is refused by its field: PostgreSQL cannot store one, and the database's
        refusal could only say "invalid value" without naming the field (schemathesis sent one in a comment)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("không được chứa ký tự NUL (\\x00) (must not contain a NUL character)")
        return value


# --------------------------------------------------------------------------------------------- GeoJSON
class Feature(_Out, Generic[P]):
    """A GeoJSON feature with typed properties."""

    type: Literal["Feature"] = "Feature"
    id: int | str | None = None
    geometry: Geometry | None
    properties: P


class FeatureCollection(_Out, Generic[P]):
    """A GeoJSON feature collection with typed properties."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature[P]]


# -------------------------------------------------------------------------------------- health, auth
class HealthOut(_Out):
    """The server and its database answer."""

    status: Literal["ok"]
    postgis: str


class TokenOut(_Out):
    """A bearer token (OAuth2 password flow)."""

    access_token: str
    token_type: Literal["bearer"]


class PasswordChangeIn(_In):
    """One's current password and the new one."""

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX_CHARS)
    new_password: str = Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)


class MeOut(_Out):
    """The logged-in user."""

    id: int
    username: str
    role: Role
    role_label: str
    team_id: int | None
    province_code: str | None = Field(description="the province a provincial user is limited to")
    level: AreaLevel = Field(description="how far the user's view reaches: nation, province or team")
    level_label: str
    must_change_password: bool = Field(
        description="the password was given by an administrator: every route but this one, logout and"
        " POST /api/auth/password answers 403 password_change_required until it is changed"
    )


# ------------------------------------------------------------------------------------------ communes
class CommuneProperties(_Out):
    """A current commune-level unit."""

    code: str
    name: str
    full_name: str
    kind: UnitKind
    area_km2: float
    province_code: str | None
    province: str | None = Field(
        description="the province's short name («Hồ Chí Minh»): units of the same name lie in several"
    )
    valid_from: date
    label: list[float] = Field(description="[lon, lat] where the map writes the name: a point inside the unit")


class FormerCommune(_Out):
    """A unit as it stood before the 1 July 2025 reorganisation, found by a name, and a current unit it became (part
    of): what the map's search box offers for a former name."""

    name: str = Field(
        description="the name found: the old unit's own («Quán Toan»), or as typed for a commune merged"
        " into it before 1 July 2025 («Hạ Lý»)"
    )
    former: str = Field(
        description="the old unit on 30 June 2025: «Phường Thượng Lý, Quận Hồng Bàng, Thành phố Hải Phòng»"
    )
    district: str = Field(description="its district then: «Quận Hồng Bàng»")
    absorbed: bool = Field(description="the name is of a commune merged into `former` before 1 July 2025")
    code: str = Field(description="the current unit's code, one of GET /api/communes'")
    split: bool = Field(description="the old unit was split across several current units: `code` holds a part of it")


# ----------------------------------------------------------------------------------------- incidents
class IncidentProperties(_Out):
    """One recorded incident (no names of people are ever stored)."""

    ref: str
    occurred_at: datetime
    kind: IncidentKind
    substance: str | None
    quantity_g: float | None
    arrested: int | None
    source: str | None
    commune_code: str | None
    assignment: Assignment


class IncidentPage(FeatureCollection[IncidentProperties]):
    """A page of incidents and the total matched."""

    numberMatched: int  # noqa: N815 - OGC API Features names
    numberReturned: int  # noqa: N815
    limit: int
    offset: int


# ------------------------------------------------------------------------------------------ hotspots
class HotspotAction(_Out):
    """A hotspot transition the logged-in user may request now (the buttons the pages show)."""

    to: HotspotStatus
    note_required: bool


class TaskAction(_Out):
    """A task transition the logged-in user may make now."""

    to: TaskState
    note_required: bool


class HotspotProperties(_Out):
    """A hotspot of the register, with its newest suppression task and what the user may do now."""

    id: int
    status: HotspotStatus
    kind: HotspotKind
    origin: HotspotOrigin
    n_incidents: int
    kinds: dict[str, int] = Field(description="incidents per incident kind at the latest detection")
    first_seen: datetime | None
    last_seen: datetime | None
    commune_code: str | None
    radius_m: float
    version: int
    status_changed_at: datetime
    created_at: datetime = Field(
        description="when it entered the register (found by a detection run, reported by hand)"
    )
    recurred_at: datetime | None = Field(
        description="when it last recurred (phức tạp trở lại: its first incident after the clearing); null: never"
    )
    distance_m: float | None = Field(
        None, description="metres from the place a list was asked near (`lon`, `lat`); null otherwise"
    )
    note: str | None
    task_id: int | None = Field(description="the hotspot's newest suppression task (null: none)")
    task_state: TaskState | None
    task_version: int | None
    task_team_id: int | None
    task_team: str | None = Field(description="the newest task's team, whatever its state (a cancelled one's too)")
    holding_team: str | None = Field(
        description="the team holding the newest task while it is open (not accepted, declined or cancelled); null: "
        "no team holds the hotspot's work (the register's «Tổ»)"
    )
    task_due_date: date | None
    task_steps: int = Field(description="lines in the newest task's checklist (0: none, or the task is not shown)")
    task_steps_open: int = Field(description="of those, the lines the team has not ticked off as done")
    task_overdue_days: int
    task_outside_team_area: bool = Field(
        description="the newest task's team still holds it in a commune outside the team's area today"
    )
    task_team_unstaffed: bool = Field(
        description="the newest task is open and its team has no active member: nobody can work it; command may give "
        "it to another team even under way"
    )
    monitoring_since: date | None = Field(description="local day monitoring started (monitored hotspots only)")
    incident_since_monitoring: bool | None = Field(
        description="an incident occurred in the footprint since monitoring started (monitored hotspots only)"
    )
    actions: list[HotspotAction] = Field(description="hotspot transitions the user may request now")
    task_actions: list[TaskAction] = Field(description="transitions of the newest task the user may make now")
    may_open_task: bool = Field(description="the user may open a suppression task for the hotspot now")
    closing_waits: list[str] = Field(
        description="what still keeps command from closing the hotspot, in Vietnamese (the monitoring period running "
        "until a date, an incident in the footprint since monitoring began); empty when it may be closed now or when "
        "closing is not its next step"
    )


class HotspotIncident(_Out):
    """An incident that made up the hotspot at its latest detection."""

    id: int
    ref: str
    occurred_at: datetime
    kind: IncidentKind
    lon: float
    lat: float


class HotspotEvent(_Out):
    """One entry of a hotspot's append-only history."""

    id: int
    at: datetime
    actor: str
    event: str
    from_status: HotspotStatus | None
    to_status: HotspotStatus | None
    note: str | None
    run_id: int | None
    details: dict[str, Any]


class HotspotLineageLink(_Out):
    """One link of a hotspot's descent: `parent_id` merged into `child_id`, or `child_id` split off `parent_id`."""

    kind: LineageKind
    parent_id: int
    child_id: int
    run_id: int | None = Field(description="the detection run that found it")
    at: datetime


class HotspotDetailProperties(HotspotProperties):
    """A hotspot with its footprint, incidents, history and descent (merges and splits it took part in)."""

    footprint: Geometry | None
    incidents: list[HotspotIncident]
    events: list[HotspotEvent]
    lineage: list[HotspotLineageLink]


HotspotCollection = FeatureCollection[HotspotProperties]
HotspotDetail = Feature[HotspotDetailProperties]


class ManualHotspotIn(_In):
    """A hotspot reported by hand, e.g. from a tip (no personal names in the note)."""

    lon: StrictFloat = Field(ge=-180, le=180)
    lat: StrictFloat = Field(ge=-90, le=90)
    note: str = Field(min_length=1, max_length=MANUAL_NOTE_CHARS)
    kind: HotspotKind = HotspotKind.SPOT
    radius_m: StrictFloat = Field(default=50.0, gt=0, le=MANUAL_MAX_RADIUS_M)


class DetectionIn(_In):
    """A detection run started from the command page: the last `days` days ending on `end` (default: the day of the
    latest incident), with the command line's default parameters; `dry_run`: what it would do, nothing recorded."""

    days: StrictInt = Field(default=DetectionParams.window_days, ge=1, le=MAX_WINDOW_DAYS)
    end: SaneDate | None = None
    dry_run: StrictBool = False


class DetectionOut(_Out):
    """What a detection run found and changed in the register (a dry run: would change, and no run number)."""

    run_id: int | None = Field(description="the run recorded; null for a dry run")
    window_from: datetime
    window_to: datetime
    incidents: int
    min_samples: int = Field(description="incidents a cluster needed, chosen for this map")
    expected_spurious: float = Field(description="bound on the chance clusters expected on this map")
    simulated_spurious: float | None = Field(description="the same estimated on simulated maps")
    clusters: int
    rejected: int = Field(description="clusters no larger than chance, left out of the register")
    new: int
    updated: int
    unchanged: int
    recurred: int
    split: int
    merged: int
    dormant: int
    dry_run: bool = False
    lines: list[str] = Field(description="the report in Vietnamese, as `diaban hotspots detect` prints it")


class TeamReport(_Out):
    """A spot the user's team reported in its area that is not (yet) one of its tasks."""

    id: int = Field(description="the hotspot")
    lon: float
    lat: float
    radius_m: float = Field(description="the reported footprint's radius around the point")
    kind: HotspotKind
    status: HotspotStatus
    status_label: str = Field(description="where the report stands, in Vietnamese, as the team reads it")
    commune_code: str | None
    commune_name: str | None
    reported_at: datetime
    reported_by: str = Field(description="the member who reported it")
    note: str | None = Field(description="the reporter's description")
    reason: str | None = Field(description="dismissed: command's reason (the dismissal's note); else null")


class TeamReportsOut(_Out):
    """The team's reports, newest first."""

    reports: list[TeamReport]


class TransitionIn(_In):
    """A lifecycle transition: target state, a note (required for some transitions) and the version read."""

    to: str = Field(max_length=16)
    note: str = Field(default="", max_length=4000)
    version: StrictInt = Field(ge=1)


#: When a change a phone kept without signal was made, sent with it once the signal is back (a task's transition,
#: note, photo or checklist tick; gis.store.tasks.when_made bounds it).
MadeAt = Annotated[
    AwareDatetime | None,
    Field(
        description="when a change kept on the phone without signal was made (ISO 8601 with offset); kept within the"
        " task's latest event and now"
    ),
]


class TaskTransitionIn(TransitionIn):
    """A task's transition, with when it was made if a phone kept it without signal."""

    made_at: MadeAt = None


class HotspotTransitionOut(_Out):
    """A hotspot after a transition."""

    id: int
    status: HotspotStatus
    version: int


# --------------------------------------------------------------------------------------------- tasks
class ChecklistItem(_In):
    """One line of a task's checklist."""

    item: str = Field(min_length=1, max_length=500)
    done: StrictBool = False


class TaskIn(_In):
    """A new task: suppression of a hotspot, or conversion of a commune for a year; optionally assigned."""

    kind: TaskKind
    hotspot_id: StrictInt | None = None
    commune_code: str | None = Field(default=None, max_length=16)
    year: StrictInt | None = Field(default=None, ge=FIRST_YEAR, le=LAST_YEAR)
    team_id: StrictInt | None = None
    due_date: SaneDate | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    checklist: list[ChecklistItem] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _target(self) -> TaskIn:
        """Suppression names a hotspot; conversion names a commune and a year."""
        if self.kind == TaskKind.SUPPRESSION and self.hotspot_id is None:
            raise ValueError("nhiệm vụ đấu tranh, triệt xóa cần hotspot_id")
        if self.kind == TaskKind.CONVERSION and (self.commune_code is None or self.year is None):
            raise ValueError("nhiệm vụ chuyển hóa địa bàn cần commune_code và year")
        if self.kind == TaskKind.CONVERSION and self.hotspot_id is not None:
            # A conversion task is a commune's year-long programme: a hotspot named with it had been dropped unsaid.
            raise ValueError(
                "nhiệm vụ chuyển hóa địa bàn gắn với xã/phường và năm, không gắn với điểm nóng (hotspot_id)"
            )
        return self


class TaskChanges(_In):
    """Changes by command to a task at `version`: due date, priority, checklist (an absent field is unchanged; so is a
    null priority or checklist, while a null due date removes it)."""

    version: StrictInt = Field(ge=1)
    due_date: SaneDate | None = None
    priority: TaskPriority | None = None
    checklist: list[ChecklistItem] | None = Field(default=None, max_length=100)

    def changes(self) -> dict[str, Any]:
        """The fields to change: those sent, less a null priority or checklist."""
        sent = self.model_dump(exclude={"version"}, exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k == "due_date"}


class ChecklistTick(_In):
    """One line of a task's checklist marked done (or not) at `version`."""

    version: StrictInt = Field(ge=1)
    item: StrictInt = Field(ge=0, lt=100, description="the line, from 0 (a checklist has at most 100)")
    done: StrictBool
    made_at: MadeAt = None


class AssignmentIn(_In):
    """Assign or reassign a task at `version` to a team."""

    team_id: StrictInt
    version: StrictInt = Field(ge=1)
    note: str = Field("", max_length=4000, description="why: told to the team a reassignment takes the task from")


class CommentIn(_In):
    """A comment on a task, with when it was written if a phone kept it without signal."""

    note: str = Field(min_length=1, max_length=4000)
    made_at: MadeAt = None


class TaskOut(_Out):
    """A task with labels, the states it may move to and its overdue days."""

    id: int
    kind: TaskKind
    kind_label: str
    hotspot_id: int | None
    hotspot_status: HotspotStatus | None
    commune_code: str
    commune_name: str | None
    lon: float | None = Field(description="where the work is: the hotspot, else a point inside the commune")
    lat: float | None
    year: int | None
    state: TaskState
    state_label: str
    team_id: int | None
    team: str | None
    due_date: date | None
    priority: TaskPriority
    checklist: list[dict[str, Any]]
    version: int
    created_by: str
    created_at: datetime
    state_changed_at: datetime
    allowed: list[TaskState]
    actions: list[TaskAction] = Field(description="transitions the user may make now")
    overdue_days: int
    outside_team_area: bool = Field(
        description="its team still holds it (assigned, in progress, paused, returned) in a commune outside the "
        "team's area today: an administrator moved the commune to another team's area, and command reassigns it"
    )
    team_unstaffed: bool = Field(
        description="it is open and its team has no active member (the last one deactivated or moved): nobody can "
        "work it, and command may give it to another team even under way (its state kept)"
    )


class TaskEventOut(_Out):
    """One entry of a task's append-only history."""

    id: int
    task_id: int
    at: datetime
    made_at: datetime | None = Field(
        description="when a phone without signal made the change it sent later (`at`: when it was recorded); null:"
        " sent as it was made"
    )
    actor: str
    event: str
    from_state: TaskState | None
    to_state: TaskState | None
    note: str | None
    details: dict[str, Any]


class PhotoMeta(_Out):
    """Photo evidence of a progress note (the bytes are at /api/tasks/{task}/photos/{id})."""

    id: int
    event_id: int
    media_type: str
    byte_size: int
    width: int
    height: int
    location_kept: bool
    uploaded_by: str
    uploaded_at: datetime


class TaskDetail(TaskOut):
    """A task with its whole history and its photo evidence, oldest first."""

    events: list[TaskEventOut]
    photos: list[PhotoMeta]


class TaskList(_Out):
    """A page of tasks and the total matched."""

    tasks: list[TaskOut]
    numberMatched: int  # noqa: N815 - same name as the other lists


class TaskCounts(_Out):
    """How many visible tasks a filter selects, each figure the ``numberMatched`` of the list with that filter and,
    for ``overdue`` and ``by_state``, that condition added."""

    total: int
    overdue: int = Field(description="past their due date with work still owed")
    outside_area: int = Field(description="still held by their team in a commune outside the team's area today")
    open: int = Field(description="still weighing on their team: assigned, in progress, paused or returned")
    by_state: dict[TaskState, int] = Field(description="every state, 0 when none")


class AssigneeCandidate(_Out):
    """A team whose area covers the commune, with its open workload."""

    team_id: int
    name: str
    open_tasks: int
    active_members: int = Field(description="its active users (0: nobody to work a task; listed last, never suggested)")


class AssigneeSuggestion(_Out):
    """Teams covering a hotspot's or commune's area, least loaded first (those without an active member last)."""

    commune_code: str | None
    suggested: AssigneeCandidate | None = Field(description="the first candidate with an active member; null: none")
    candidates: list[AssigneeCandidate]


class TaskTransitionOut(_Out):
    """A task after a transition, and its hotspot's new status when the change carried the hotspot along."""

    id: int
    state: TaskState
    version: int
    hotspot_status: HotspotStatus | None = None


class CommentOut(_Out):
    """A comment recorded on a task."""

    id: int
    task_id: int


class PhotoOut(_Out):
    """A progress note with its photo: what was stored, and whether its location was found and kept."""

    id: int
    task_id: int
    event_id: int
    media_type: str
    byte_size: int
    width: int
    height: int
    had_location: bool = Field(description="the uploaded photo carried a GPS position")
    location_kept: bool = Field(description="the stored photo still carries it (the team chose to keep it)")


class InboxEvent(TaskEventOut):
    """A task event that needs the user's attention."""

    kind: TaskKind
    commune_code: str
    task_state: TaskState | None = Field(description="the task's state now; null once it was taken away")
    taken_away: bool = Field(
        description="a reassignment that took the task from the user's team: the event tells when, by whom and why,"
        " nothing of the task since"
    )
    awaiting_command: bool | None = Field(
        description="command's inbox: the event still waits for command (work completed not yet accepted or returned,"
        " a declined task whose hotspot, or commune and year, has no newer task, a team's note on unfinished work"
        " command has not answered or acted on since); null in a team's inbox"
    )
    actor_team: str | None = Field(
        description="the name of the actor's team; null for an actor of no team (command) or of a team the user may"
        " not see"
    )


class ReportNotice(_Out):
    """A change of a spot a member of the user's team reported (a hotspot event of the spot's history)."""

    id: int = Field(description="the hotspot event")
    hotspot_id: int
    at: datetime
    actor: str
    run_id: int | None = Field(description="the detection run that made the change (a merge, a recurrence), else null")
    status: HotspotStatus = Field(
        description="the status the spot moved into: verified, dismissed, assigned, merged, eradicated, closed, recurred"
    )
    note: str | None = Field(description="the event's note: for a dismissal, command's reason")
    merged_into: int | None = Field(description="merged: the hotspot the spot went into")
    listed: bool = Field(description="the spot is in the team's list of reports (GET /api/hotspots/reported)")


class ReportAwaitingCommand(_Out):
    """A spot a team reported that waits for command to verify or dismiss it."""

    hotspot_id: int
    at: datetime = Field(description="when it was reported")
    actor: str = Field(description="who reported it")
    actor_team: str | None = Field(description="the reporter's team; null for a team the user may not see")
    note: str | None = Field(description="what the report says")
    commune_code: str | None
    kind: HotspotKind


class InboxOut(_Out):
    """Events newest first."""

    events: list[InboxEvent]
    reports: list[ReportNotice] = Field(
        description="to a team, changes of the spots its members reported, newest first; to command, none"
    )
    team_reports: list[ReportAwaitingCommand] = Field(
        description="to command, the spots teams reported that are still «Phát hiện» (not yet verified or dismissed),"
        " newest first; to a team, none"
    )


# ------------------------------------------------------------------------------------ classification
class OverrideIn(_In):
    """A planner's change of one commune's final class; the reason is mandatory."""

    commune_code: Annotated[str, StringConstraints(max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]
    category: Category
    level: Level | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RunIn(_In):
    """A new draft (or a correction of an approved year); replace discards an existing draft."""

    replace: StrictBool = False
    note: Annotated[str | None, Field(max_length=2000)] = None


class ApproveIn(_In):
    """The draft as the approver read it (the planner page sends it): an approval is refused (412 draft_changed) when
    the draft was run again or a class overridden since. Without it the year's draft is approved as it is now."""

    run_id: StrictInt
    last_override_at: AwareDatetime | None = Field(
        default=None, description="the newest override_at of the draft as read; null: none was overridden"
    )


class DiscardIn(ApproveIn):
    """The draft as the planner read it, required: discarding it is refused (412 draft_changed) when it was run again
    or a class overridden since, so that nobody throws away a colleague's overrides unseen."""


class IndicatorReload(_Out):
    """An import of a year's indicator table (the newest) made after the year's draft was run."""

    id: int
    file_name: str
    imported_by: str
    started_at: datetime


#: Who gave a version's approver the password they held when they approved (`gis.store.classifications.approver_reset`).
ApproverResetBy = Annotated[
    str | None,
    Field(
        description="the administrator who gave the approver their password (a reset, or the account's creation with a"
        " password to change) within RECENT_RESET_DAYS before the approval (whoever held the one-time password could"
        " have approved as them); null: none",
    ),
]
#: The same of the author of a version's newest override (`gis.store.classifications.last_overrider_reset`).
LastOverriderResetBy = Annotated[
    str | None,
    Field(
        description="the administrator who gave the author of the newest override (last_override_by) the password they"
        " held when they made it, within RECENT_RESET_DAYS before (as overrider_password_reset_by of each override);"
        " null: none",
    ),
]


class RunOut(_Out):
    """One version of a year's classification."""

    id: int
    year: int
    version: int
    status: RunStatus
    rules_version: str
    method: str
    params: dict[str, Any]
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    supersedes_id: int | None
    note: str | None
    last_override_by: str | None = Field(description="who last overrode a class before approval (four eyes)")
    last_override_at: datetime | None
    last_overrider_password_reset_by: LastOverriderResetBy = None
    last_overrider_password_reset_at: datetime | None = None
    approver_password_reset_by: ApproverResetBy = None
    approver_password_reset_at: datetime | None = None
    indicators_reloaded: IndicatorReload | None = Field(
        None,
        description="a draft's year's indicators imported again after it was run (the newest such import): the draft"
        " is not approved (412 indicators_changed) until the year is run again; null: the draft uses the year's figures",
    )


#: Who gave an override's author the password they held when they made it (`gis.store.classifications.overriders_reset`).
OverriderResetBy = Annotated[
    str | None,
    Field(
        description="the administrator who gave the override's author their password (a reset, or the account's"
        " creation with a password to change) within RECENT_RESET_DAYS before the override (whoever held the one-time"
        " password could have made it as them); null: none, or no override",
    ),
]


class HistoryOverride(_Out):
    """One override a version held: the commune, its class before (the criteria's) and after, the reason, who, when."""

    commune_code: str
    name: str | None
    from_category: Category
    from_level: Level | None
    to_category: Category
    to_level: Level | None
    reason: str
    by: str | None = Field(description="null: set by hand in the database, without a user's name")
    at: datetime
    overrider_password_reset_by: OverriderResetBy = None
    overrider_password_reset_at: datetime | None = None


class ReplacedOverride(HistoryOverride):
    """An override a later change of the same commune in the same version replaced: the class before is the one it
    replaced (the criteria's or an earlier override's); who replaced it and when."""

    replaced_by: str | None = Field(description="who overrode the commune again; null: undone by hand in the database")
    replaced_at: datetime


class HistoryVersion(_Out):
    """One version of a year as the trail keeps it: live (draft, approved) or ended unapproved (discarded, replaced),
    who ran, approved or ended it and when, and its overrides of the reader's communes."""

    run_id: int
    version: int
    status: RunStatus | DraftEnd
    rules_version: str
    note: str | None
    supersedes_id: int | None
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    last_override_by: str | None
    last_override_at: datetime | None
    last_overrider_password_reset_by: LastOverriderResetBy = None
    last_overrider_password_reset_at: datetime | None = None
    ended_by: str | None = Field(description="who discarded or replaced the draft")
    ended_at: datetime | None
    in_force_until: int | None = Field(
        None,
        description="an approved version a later approved one (its correction) replaced: that version; null for the"
        " version in force and for versions never approved",
    )
    approver_password_reset_by: ApproverResetBy = None
    approver_password_reset_at: datetime | None = None
    indicators_reloaded: IndicatorReload | None = Field(
        None,
        description="a draft's year's indicators imported again after it was run (the newest such import): the draft"
        " is not approved (412 indicators_changed) until the year is run again; null: the draft uses the year's figures",
    )
    n_overrides: int
    overrides: list[HistoryOverride]
    replaced_overrides: list[ReplacedOverride] = Field(
        description="overrides a later override of the same commune replaced (kept since migration 0027)"
    )


class RunCreated(RunOut):
    """A new run with its communes counted per final class ('trong_diem_I', 'at_risk', …)."""

    counts: dict[str, int]
    carried: list[str] = Field(
        default_factory=list,
        description="a correction: the communes whose override in the approved version it keeps, each now an override"
        " by the planner who ran it, its reason quoting the first",
    )


class CriterionOut(_Out):
    """One criterion of one commune: value, threshold, whether met or missing."""

    model_config = ConfigDict(extra="allow")

    criterion_id: str
    level: str
    met: bool | None = None
    missing: bool | None = None


class ClassificationMapProperties(_Out):
    """A commune's class in a run, as a map of the classes shows it."""

    code: str
    name: str
    full_name: str
    category: Category
    level: Level | None
    incomplete: bool = Field(description="some criterion cannot be decided for missing data (never drug-free then)")


class ClassificationMapOut(FeatureCollection[ClassificationMapProperties]):
    """A year's classes as GeoJSON for a map, with its run."""

    run: RunOut


class ClassificationProperties(ClassificationMapProperties):
    """A commune's class in a run, with the legal and learned opinions and the reasons."""

    method: str
    legal_category: Category
    legal_level: Level | None
    learned_category: Category | None
    risk_next_year: float | None
    leaving_drug_free: bool
    possible_level: Level | None = Field(description="the level the commune could reach were the data complete")
    data_status: str | None = Field(description="'thiếu dữ liệu' when incomplete")
    override_reason: str | None
    override_by: str | None
    override_at: datetime | None
    criteria: list[CriterionOut]
    indicators: dict[str, Any]
    sources: dict[str, Any]
    explanation: str


class ClassificationOut(FeatureCollection[ClassificationProperties]):
    """A year's classification as GeoJSON, with its run."""

    run: RunOut


class ReviewItem(_Out):
    """A commune in review order, with why it is listed where it is."""

    commune_code: str
    name: str | None
    full_name: str | None
    legal_category: Category
    legal_level: Level | None
    learned_category: Category | None
    risk_next_year: float | None
    leaving_drug_free: bool
    incomplete: bool
    possible_level: Level | None
    data_status: str | None
    missing_criteria: list[str]
    category: Category
    level: Level | None
    method: str
    override_reason: str | None
    override_by: str | None
    override_at: datetime | None
    overrider_password_reset_by: OverriderResetBy = None
    overrider_password_reset_at: datetime | None = None
    explanation: str
    disagreement: bool
    previous_category: Category | None
    previous_level: Level | None
    changed: bool
    overridden: bool
    severity: int
    flags: list[str]


class ReviewOut(_Out):
    """A run's communes in review order: disagreements and changes first."""

    run: RunOut
    n_disagreements: int
    #: None: no commune of the run has a class in the previous approved year (nothing to compare with, not 0).
    n_changed: int | None
    items: list[ReviewItem]


class OverrideOut(_Out):
    """A commune's class after an override."""

    run_id: int
    commune_code: str
    legal_category: Category
    legal_level: Level | None
    category: Category
    level: Level | None
    method: str
    override_reason: str
    override_by: str
    override_at: datetime


# ------------------------------------------------------------------------------------------ analyses
class HeatOverlay(_Out):
    """A heat surface as a transparent PNG and the lon/lat box it covers (``image`` null when no incident matches)."""

    bounds: list[list[float]] | None = Field(description="[[south, west], [north, east]]")
    max_per_km2: float
    scale_top_per_km2: float = Field(0, description="density at the top of the colour ramp (a high quantile)")
    n_incidents: int
    without_point: int = Field(0, description="selected incidents placed by commune code or address: not drawn")
    outside_city: int = Field(0, description="selected incidents far outside the city (stray records): not gridded")
    image: str | None = Field(description="data:image/png;base64,…")


class HeatCell(_Out):
    """A grid cell of the heat surface."""

    density_per_km2: float


class GiStarCell(_Out):
    """A Getis-Ord Gi* cell: z-score, p-value, bin −3..3 and its confidence (no statistic for a cell without
    neighbours, like ArcGIS)."""

    z: float | None
    p: float | None
    bin: int | None
    no_neighbours: bool = False
    confidence: float | None


class EmergingCell(_Out):
    """An emerging hot-spot pattern (one of 17 ArcGIS outcomes) of a cell."""

    pattern: str
    label_vi: str


# ------------------------------------------------------------------------------------------- reports
class KpiLine(_Out):
    """One KPI: value against its target, met or not."""

    key: str
    label_vi: str
    value: float | int | None
    target: float | int | None
    met: bool | None
    unit: str
    note: str
    bound: Literal["at_least", "at_most", "below"] | None = Field(
        description="how the target binds the value (models.domain.kpi.BOUND_WORDS: «tối thiểu», «tối đa», «dưới»);"
        " null without a target"
    )


class KpiRun(_Out):
    """The classification a KPI report is computed from."""

    id: int
    version: int
    status: RunStatus
    approved_by: str | None
    approved_at: datetime | None


class KpiProvince(_Out):
    """One province of the national report: its units, drug-free units and share against the target that applies."""

    province_code: str | None
    province: str | None
    units: int
    drug_free: int
    incomplete: int
    drug_free_share: float | None
    target: float | None
    met: bool | None


class KpiReport(_Out):
    """A year's KPIs of a province or the whole country against that level's targets."""

    year: int
    classification: KpiRun
    approved: bool
    level: AreaLevel = Field(description="province, or nation (every unit of several provinces)")
    province_code: str | None
    province: str | None
    targets_version: str
    targets_level: AreaLevel = Field(description="whose targets: the province's own, or the national ones")
    kpis: list[KpiLine]
    provinces: list[KpiProvince] = Field(description="the national report: each province's drug-free share")


class PeriodDays(_Out):
    """A report's days, both ends included."""

    model_config = ConfigDict(populate_by_name=True)

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    days: int


class PeriodLine(_Out):
    """One figure of a periodic report: the period's count, the same period last year's, the change and the relative
    change (None: unknown — the records do not reach into that period —, or, for the relative change, from 0)."""

    key: str = Field(description="the incident kind, hotspot count, «team:figure» of a task count, or commune code")
    label: str
    current: int | None
    previous: int | None
    change: int | None
    change_pct: float | None = Field(description="(current − previous) / previous; None when previous is 0 or unknown")
    team_id: int | None = None
    team: str | None = None
    figure: str | None = Field(None, description="a task line's count: completed, accepted or overdue")
    commune_code: str | None = None


class PeriodSection(_Out):
    """A section of the report: incidents by kind, hotspots, tasks per team, the communes with the most incidents."""

    key: str
    title: str
    lines: list[PeriodLine]
    empty: str = Field(
        description="what the section says when it has no lines, in Vietnamese: nothing in the period, or no data yet"
        " for it (its records do not reach into it)"
    )


class PeriodSince(_Out):
    """The day each kind of record begins in the report's scope (None: none held)."""

    incidents: date | None
    hotspots: date | None
    tasks: date | None


class PeriodReport(_Out):
    """A period's figures beside the same period of the previous year (29/02 compared with 28/02), for a province or
    the whole country."""

    period: PeriodDays
    previous: PeriodDays
    level: AreaLevel
    province_code: str | None
    province: str | None
    since: PeriodSince
    data_until: date | None = Field(
        description="the Hải Phòng day of the newest incident in the report's scope (None: none held): the incident"
        " register is imported, so the days after it may only be not yet loaded"
    )
    data_until_line: str | None = Field(description="that day as the report says it, in Vietnamese")
    data_gap: str | None = Field(
        description="the warning, in Vietnamese, that the period's days after `data_until` have no data yet (None:"
        " the period ends by then); a period beginning after it has no incident figures (None), not zeros"
    )
    incidents_previous: PeriodDays = Field(
        description="last year's days the incident figures are compared with: `previous`, or, for a period going on"
        " past `data_until`, its days up to the same day a year before `data_until` (a part against the same part)"
    )
    compared_line: str | None = Field(
        description="that cut, as the report says it in Vietnamese (None: the incidents are compared over `previous`)"
    )
    notes: list[str] = Field(description="what limits the figures' reach (records beginning late, or none held)")
    sections: list[PeriodSection]


# ------------------------------------------------------------------------------------------ accounts
CommuneCode = Annotated[str, StringConstraints(max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]


class TeamIn(_In):
    """A new team, the commune codes of its area of responsibility, and the day it takes effect (default today)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEAM_NAME_CHARS)]
    communes: list[CommuneCode] = Field(min_length=1, max_length=200)
    valid_from: SaneDate | None = None


class TeamAreaIn(_In):
    """A team's new area of responsibility and the day it takes effect (today or later)."""

    communes: list[CommuneCode] = Field(max_length=200)
    valid_from: SaneDate


class SharedCommune(_Out):
    """A commune of a team's area that other teams also hold on the same day."""

    commune_code: str
    commune_name: str | None
    teams: list[str]


class ReplacedAreaRow(_Out):
    """A commune of a team's area that was to start on a day, which a later-saved change replaced."""

    commune_code: str
    commune_name: str | None
    valid_from: date


class CommuneWithoutTeam(_Out):
    """A commune an area change or a dissolution left with no team: nobody answers for it, nobody is given its tasks."""

    commune_code: str
    commune_name: str | None


class OpenTasksKept(_Out):
    """A commune taken from a team's area where the team still holds open tasks."""

    commune_code: str
    commune_name: str | None
    tasks: int


class TeamAreaChange(_Out):
    """What an area change did: communes added and removed from the day it takes effect, and those shared."""

    team_id: int
    valid_from: date
    added: list[str]
    removed: list[str]
    shared: list[SharedCommune]
    planned_replaced: list[date] = Field(
        description="days after valid_from whose planned area change this one cancelled"
    )
    open_tasks_kept: list[OpenTasksKept] = Field(
        description="the team's open tasks in the communes removed: they stay the team's until command reassigns them"
    )
    left_without_team: list[CommuneWithoutTeam] = Field(
        description="the communes removed that no other team holds from valid_from (không còn tổ nào phụ trách)"
    )
    replaced_rows: list[ReplacedAreaRow] = Field(
        description="the rows of the area this change replaced: planned for later days, or set earlier for the same"
        " day and overwritten (the audit's replaced_planned; planned_replaced gives only the later days)"
    )


class TeamAreaPeriod(_Out):
    """One commune of a team's area over one period [valid_from, valid_to)."""

    commune_code: str
    commune_name: str | None
    valid_from: date
    valid_to: date | None


#: What `national` means where a user is given a command or planner role.
NATIONAL = (
    "give a command or planner user the whole country; stated explicitly, never assumed: such a role without"
    " `province_code` and without `national: true` is refused (422)"
)


class UserIn(_In):
    """A new user; `team_id` is required for the team role and refused for the others. Without a password one is
    generated and answered once."""

    username: str = Field(min_length=2, max_length=64, pattern=USERNAME_PATTERN)
    password: str | None = Field(default=None, min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)
    role: Role
    team_id: StrictInt | None = None
    province_code: ProvinceCode | None = Field(
        default=None, description="limit a command or planner user to one province (required unless `national`)"
    )
    national: StrictBool = Field(default=False, description=NATIONAL)

    @model_validator(mode="after")
    def _team_matches_role(self) -> UserIn:
        """A team user belongs to a team; other roles to none; only command and planner users have a province."""
        if (self.role == Role.TEAM) != (self.team_id is not None):
            team = Role.TEAM.label.lower()
            raise ValueError(f"người dùng vai trò {team} phải thuộc một {team}; vai trò khác không thuộc tổ nào")
        if self.province_code is not None and self.role not in PROVINCIAL_ROLES:
            roles = " và ".join(role.label.lower() for role in PROVINCIAL_ROLES)
            raise ValueError(f"chỉ người dùng vai trò {roles} mới được giới hạn theo tỉnh, thành phố")
        return self


class UserProvinceIn(_In):
    """Limit a command or planner user read at `version` to a province (`province_code`), or (null) let them see the
    whole country."""

    province_code: ProvinceCode | None
    version: StrictInt = Field(ge=1)


class UserTeamIn(_In):
    """Move a team user read at `version` to another team."""

    team_id: StrictInt
    version: StrictInt = Field(ge=1)


class UserRoleIn(_In):
    """Give a user read at `version` another role with its whole scope: `team_id` for the team role (and only it);
    for a command or planner user either `province_code` or `national: true`."""

    role: Role
    team_id: StrictInt | None = None
    province_code: ProvinceCode | None = None
    national: StrictBool = Field(default=False, description=NATIONAL)
    version: StrictInt = Field(ge=1)


class TeamNameIn(_In):
    """A team's new name, the team read at `version`."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TEAM_NAME_CHARS)]
    version: StrictInt = Field(ge=1)


class TeamRenamed(_Out):
    """A team just renamed: its name before and after, and its new version."""

    id: int
    before: str
    name: str
    version: int


class ProvinceOut(_Out):
    """A province or centrally-run city with its number of current commune-level units."""

    code: str
    name: str
    full_name: str
    units: int


class TeamOut(_Out):
    """A working team with its current communes, member count, the tasks it holds not yet finished (open or awaiting
    acceptance: none, and no member, before it may be dissolved) and the next day its area changes (if one is
    planned); a dissolved one (listed only when asked, for a filter) with the day it was dissolved."""

    id: int
    name: str
    version: int
    communes: list[str]
    members: int = Field(description="its users, deactivated accounts included (a team with any is not dissolved)")
    active_members: int = Field(description="its active users: those who can work its tasks")
    unfinished_tasks: int
    next_change: date | None
    dissolved_on: date | None


class TeamDissolveIn(_In):
    """The team to dissolve, read at `version`."""

    version: StrictInt = Field(ge=1)


class TeamDissolved(_Out):
    """A team just dissolved: the day its area ended, the communes it held until then, the days of planned area
    changes dropped, its new version."""

    id: int
    name: str
    dissolved_on: date
    communes: list[str]
    planned_dropped: list[date]
    left_without_team: list[CommuneWithoutTeam] = Field(
        description="the communes it held that no other team holds from today (không còn tổ nào phụ trách)"
    )
    version: int


class TeamCreated(_Out):
    """A team just created, with the communes of its area that other teams also hold."""

    id: int
    name: str
    shared: list[SharedCommune]


class UserOut(_Out):
    """A user with role, team, version and lock state (never the password hash)."""

    id: int
    username: str
    role: Role
    team_id: int | None
    team: str | None
    province_code: str | None
    province: str | None
    active: bool
    version: int
    locked: bool
    locked_until: datetime | None
    must_change_password: bool = Field(description="the user has not yet changed the password an administrator gave")
    last_login_at: datetime | None = Field(description="the user's last successful login (null: none recorded)")


class FormerTeam(_Out):
    """The team a user just left: its open tasks stay its own (tasks belong to teams, not people)."""

    id: int
    name: str
    open_tasks: int = Field(description="the team's open tasks: they stay the team's")
    active_members: int = Field(description="active members left to work them (0: command should reassign them)")


class UserChanged(UserOut):
    """A user moved to another team, given another role or deactivated, with the team they left (null when they were
    in none, or reactivated)."""

    former_team: FormerTeam | None


class SessionsRevoked(_Out):
    """How many open sessions of a user were ended."""

    revoked: int


class UserCreated(_Out):
    """A user just created; `password` is the generated one, answered this once (null when the request set one)."""

    id: int
    username: str
    role: Role
    team_id: int | None
    province_code: str | None = None
    password: str | None = None


class UserActiveIn(_In):
    """Deactivate (false) or reactivate (true) a user read at `version`."""

    active: StrictBool
    version: StrictInt = Field(ge=1)


class PasswordReset(_Out):
    """A user's new password, answered this once (it is stored only as a hash)."""

    id: int
    username: str
    password: str


class AccessLogLine(_Out):
    """One read of detailed data (or of an audit trail): who, when, which route with which query, how many rows."""

    id: int
    at: datetime
    username: str
    role: str | None
    role_label: str
    route: str
    what: AccessedData | None
    what_label: str
    params: dict[str, Any]
    params_text: str
    rows: int | None
    address: str | None


class AuditEntry(_Out):
    """One line of the append-only admin audit: an administrator's action, a user's change of their own password, a
    restored backup."""

    id: int
    at: datetime
    actor: str
    actor_account: bool = Field(
        description="the actor is an account of the app; else the operating-system user who"
        " ran a command on the server (or the demo's seeding)"
    )
    actor_shown: str = Field(
        description="the actor as the page and the export name them: «root (Dòng lệnh trên máy chủ)»"
    )
    action: AdminAction
    action_label: str
    target_user_id: int | None
    target_user: str | None
    target_team_id: int | None
    target_team: str | None
    details: dict[str, Any]
    details_text: str


class ImportRowOut(_Out):
    """A row of an uploaded file that was refused, or kept but needs a look: where it is and why."""

    line: int = Field(description="the line (CSV, Excel row) or feature number (GeoJSON) in the file")
    ref: str | None = Field(description="the row's ref (incidents) or commune code (indicators), as given")
    field: str | None = Field(description="the column at fault, by its machine name (lon/lat: the pair)")
    field_label: str | None = Field(description="that column by its Vietnamese name")
    reason: str | None = Field(description="why, in Vietnamese with the English reason (as the command line prints)")
    message: str | None = Field(description="why, in Vietnamese alone (what the pages show)")


class ImportRowsOut(_Out):
    """Report rows of an import: the first `IMPORT_ROWS_SHOWN` in line order, and how many there are in all."""

    total: int = Field(description="every such row of the file (rows holds at most the first 1,000)")
    rows: list[ImportRowOut]


class ImportOut(_Out):
    """The outcome of an upload: the counts (and the Vietnamese line the command prints), warnings, refused rows,
    rows left out as duplicates and rows kept but flagged."""

    import_id: int | None = Field(
        description="the import run recorded (who, which file, when, counts); null in a dry run"
    )
    dry_run: bool = Field(
        default=False,
        description="a check (`dry_run=true`): the import ran and was rolled back, nothing was written; the counts and"
        " rows are what it would do now (`imported`: rows it would store)",
    )
    file_name: str
    counts: dict[str, int] = Field(description="imported, rejected, … (the keys of the command's --json)")
    summary: str = Field(description="the counts in one Vietnamese line, as `diaban … import` prints them")
    warnings: list[str]
    rejected: ImportRowsOut
    duplicates: ImportRowsOut = Field(
        description="rows left out as duplicates: their ref stored already, or repeating a ref of the file (the"
        " reason names the line kept)"
    )
    flagged: ImportRowsOut


class ImportRefusedOut(ErrorOut):
    """A refused upload (422): a file that cannot be read, or (``nothing_imported``) one none of whose rows could be
    kept, whose body then carries the report of every refused row (the import is rolled back: nothing was stored)."""

    report: ImportOut | None = Field(default=None, description="with code nothing_imported: the file's report")
