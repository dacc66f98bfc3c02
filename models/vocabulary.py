"""The vocabulary of diaban, declared once: every state, kind, role and category, the time zone and "today".

Everything else derives from here: the table CHECK constraints (``gis.store.tables``), the API's
``Literal`` types and the CLI's choices, the labels and colours shipped to the page scripts, and the
lifecycle machines (a test asserts that each machine's states are exactly its enum). Values are
``StrEnum`` members, so they compare equal to the plain strings stored in PostgreSQL and sent as JSON.

Each enum carries its Vietnamese labels (``label``), which is what users see; the English value is
what code, the database and API field values use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

#: Hải Phòng's time zone (UTC+7, no daylight saving): dates users see, calendar years, due dates.
LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)
#: Stored geometry: WGS84 longitude/latitude.
WGS84_SRID = 4326
#: Metric CRS for distances, grids and clustering: UTM zone 48N (Hải Phòng lies in it).
METRIC_SRID = 32648
#: Where METRIC_SRID coordinates can be trusted (its UTM zone and one zone west, and east as far as Vietnam's
#: Trường Sa special zone at 117.8° E): the bound on points accepted before any commune boundary is loaded and on
#: boundaries (lon min, lat min, lon max, lat max). Measured with pyproj: the scale error of EPSG:32648 is 0.5 % at
#: 111° E, 1.3 % at 114.3° E and 2.5 % at 117.8° E (8.6° N) — distances and cell sizes there are off by that much.
METRIC_DOMAIN = (99.0, -80.0, 118.0, 84.0)


def local_today(now: datetime | None = None) -> date:
    """Today's date in Hải Phòng: the one meaning of "today" (due dates, team areas, reports).

    The database uses the same definition (``gis.store.sql.LOCAL_TODAY``), never ``current_date``,
    whose answer depends on the server's time zone.
    """
    return (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ).date()


_E = TypeVar("_E", bound="Vocabulary")


class Vocabulary(StrEnum):
    """A closed set of codes with Vietnamese labels (``_labels_`` maps each member to its label)."""

    @property
    def label(self) -> str:
        """The Vietnamese label users see."""
        return _LABELS[type(self)][self.value]

    @classmethod
    def labels(cls) -> Mapping[str, str]:
        """Code → Vietnamese label, in declaration order."""
        return _LABELS[cls]

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The codes, in declaration order."""
        return tuple(member.value for member in cls)


_LABELS: dict[type, Mapping[str, str]] = {}


def _labelled(labels: Mapping[str, str]) -> Any:
    """Class decorator attaching Vietnamese labels; every member must have one and no label may be spare."""

    def attach(cls: type[_E]) -> type[_E]:
        codes = [m.value for m in cls]
        if sorted(codes) != sorted(labels):
            raise ValueError(f"{cls.__name__}: labels do not match members ({sorted(set(codes) ^ set(labels))})")
        _LABELS[cls] = MappingProxyType({code: labels[code] for code in codes})
        return cls

    return attach


def codes(members: Iterable[str]) -> tuple[str, ...]:
    """Plain string codes of some members (for SQL parameters), sorted for stable statements."""
    return tuple(sorted(str(m) for m in members))


# ------------------------------------------------------------------------------------------- incidents
@_labelled(
    {
        "trafficking": "Mua bán trái phép chất ma túy",
        "possession": "Tàng trữ trái phép chất ma túy",
        "transport": "Vận chuyển trái phép chất ma túy",
        "organizing_use": "Tổ chức sử dụng trái phép chất ma túy",
        "harboring": "Chứa chấp việc sử dụng trái phép chất ma túy",
        "production": "Sản xuất trái phép chất ma túy",
        "cultivation": "Trồng cây có chứa chất ma túy",
        "drug_use": "Sử dụng trái phép chất ma túy",
        "tip": "Tin báo, tố giác",
    }
)
class IncidentKind(Vocabulary):
    """What police recorded (legal basis in the domain brief)."""

    TRAFFICKING = "trafficking"
    POSSESSION = "possession"
    TRANSPORT = "transport"
    ORGANIZING_USE = "organizing_use"
    HARBORING = "harboring"
    PRODUCTION = "production"
    CULTIVATION = "cultivation"
    DRUG_USE = "drug_use"
    TIP = "tip"


#: Vietnamese (unaccented) codes accepted on import for each kind.
KIND_ALIASES: Mapping[str, IncidentKind] = MappingProxyType(
    {
        "mua_ban": IncidentKind.TRAFFICKING,
        "tang_tru": IncidentKind.POSSESSION,
        "van_chuyen": IncidentKind.TRANSPORT,
        "to_chuc_su_dung": IncidentKind.ORGANIZING_USE,
        "chua_chap": IncidentKind.HARBORING,
        "san_xuat": IncidentKind.PRODUCTION,
        "trong_cay": IncidentKind.CULTIVATION,
        "su_dung": IncidentKind.DRUG_USE,
        "tin_bao": IncidentKind.TIP,
    }
)
#: Kinds that indicate a place organising or harbouring drug use (QĐ 28/2025 criterion b).
ORGANIZING_KINDS = frozenset({IncidentKind.ORGANIZING_USE, IncidentKind.HARBORING})


def without_accents(text: str) -> str:
    """Vietnamese text in plain Latin letters: "Tàng trữ" → "Tang tru", "Đ" → "D"."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return bare.replace("đ", "d").replace("Đ", "D")


def plain_key(text: str) -> str:
    """Text without accents, case or punctuation, words joined by '_': "Tàng trữ" → "tang_tru", "Đ" → "d"."""
    return re.sub(r"[^a-z0-9]+", "_", without_accents(text).lower()).strip("_")


_KIND_BY_LABEL = MappingProxyType({plain_key(label): IncidentKind(k) for k, label in IncidentKind.labels().items()})


def normalise_kind(value: str) -> IncidentKind | None:
    """The kind for a code, an alias or its Vietnamese label (accents, case, spaces and hyphens ignored), else None."""
    key = plain_key(value)
    if key in IncidentKind.labels():
        return IncidentKind(key)
    return KIND_ALIASES.get(key) or _KIND_BY_LABEL.get(key)


@_labelled(
    {
        "inside": "Trong xã/phường",
        "nearest": "Gần nhất (ngoài ranh giới ≤ ngưỡng)",
        "outside": "Ngoài mọi xã/phường",
        "code": "Theo mã xã/phường hiện hành",
        "legacy_code": "Theo mã xã cũ (trước 1/7/2025)",
        "address": "Theo địa chỉ (không có tọa độ)",
        "ambiguous": "Không rõ xã: đơn vị cũ đã bị chia",
    }
)
class Assignment(Vocabulary):
    """How an incident was assigned to a commune: by its point, or (without a point) by a code or an address."""

    INSIDE = "inside"
    NEAREST = "nearest"
    OUTSIDE = "outside"
    CODE = "code"
    LEGACY_CODE = "legacy_code"
    ADDRESS = "address"
    AMBIGUOUS = "ambiguous"


@_labelled({"keep": "Vẫn lưu, đánh dấu ngoài địa bàn", "reject": "Không nhập, báo như dòng lỗi"})
class OutsidePolicy(Vocabulary):
    """What an import does with a point outside every commune and beyond the nearest-commune distance."""

    KEEP = "keep"
    REJECT = "reject"


@_labelled(
    {
        "direct": "Theo mã xã hiện hành",
        "legacy_sum": "Cộng từ các xã cũ (trước 1/7/2025)",
        "legacy_given": "Theo xã cũ, như trong tệp",
    }
)
class IndicatorMethod(Vocabulary):
    """How a yearly indicator row was obtained from the imported table: given per current commune, summed from
    old communes onto a current one, or kept as given per old commune (for classifying a year on its own units)."""

    DIRECT = "direct"
    LEGACY_SUM = "legacy_sum"
    LEGACY_GIVEN = "legacy_given"


#: Indicator rows that describe today's communes (a year re-expressed on today's units).
TODAY_METHODS = frozenset({IndicatorMethod.DIRECT, IndicatorMethod.LEGACY_SUM})


@_labelled({"today": "Theo đơn vị hành chính hiện nay", "period": "Theo đơn vị hành chính của năm đó"})
class UnitBasis(Vocabulary):
    """Which units a year's indicators and classification are expressed on."""

    TODAY = "today"
    PERIOD = "period"


#: Assignments of incidents with a point: only these take part in point analyses (heat, clusters, Gi*, tiles).
POINT_ASSIGNMENTS = frozenset({Assignment.INSIDE, Assignment.NEAREST, Assignment.OUTSIDE})


@_labelled({"phuong": "Phường", "xa": "Xã", "dac_khu": "Đặc khu"})
class UnitKind(Vocabulary):
    """Commune-level administrative units since 1 July 2025."""

    PHUONG = "phuong"
    XA = "xa"
    DAC_KHU = "dac_khu"


#: The kinds of commune-level unit written before a name, in full → their short forms (lower case, without the dot):
#: today's (UnitKind) and the town (thị trấn) of before 1 July 2025. Officers write «P. Hạ Lý», «X.An Lư», «TT Núi Đèo».
COMMUNE_KIND_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        UnitKind.PHUONG.label.lower(): ("p",),
        UnitKind.XA.label.lower(): ("x",),
        UnitKind.DAC_KHU.label.lower(): ("đk",),
        "thị trấn": ("tt",),
    }
)
#: The same for the districts and provinces of before 1 July 2025 («Q. Hồng Bàng», «H. Thủy Nguyên», «TP. Hải Phòng»).
DISTRICT_KIND_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"quận": ("q",), "huyện": ("h",), "thị xã": ("tx",), "thành phố": ("tp",), "tỉnh": ()}
)


def unit_kind_pattern(kinds: Mapping[str, tuple[str, ...]], plain: bool) -> str:
    """A regular expression, read alike by Python and the page scripts, of a unit's kind written at the start of
    lower-case text, with the space after it: group 1 the kind in full («phường »), group 2 a short form, followed by
    a dot (and maybe spaces) or by a space («p. », «p.», «p »). `plain`: for text without accents («phuong», «dk»).

    A short form without its dot is taken only before a space: no commune or former unit's name starts with a word of
    one of these letters alone (checked over the package data), while «Phù Liễn» must keep its «P»."""
    spell = without_accents if plain else str
    full = sorted({spell(word) for word in kinds}, key=len, reverse=True)
    shorts = {f(s) for forms in kinds.values() for s in forms for f in (spell, without_accents)}
    short = sorted(shorts, key=len, reverse=True)
    return rf"^(?:({'|'.join(full)})\s+|({'|'.join(short)})(?:\s*\.\s*|\s+))"


_ANY_KIND = {**COMMUNE_KIND_WORDS, **DISTRICT_KIND_WORDS}
_KIND_WRITTEN = re.compile(unit_kind_pattern(_ANY_KIND, plain=False))
_KIND_PLAIN = re.compile(unit_kind_pattern(_ANY_KIND, plain=True))
_FULL_KIND = {
    spelling: word for word, forms in _ANY_KIND.items() for s in forms for spelling in (s, without_accents(s))
}


def without_unit_kind(name: str) -> str:
    """A unit's name, in lower case, without the kind written before it (in full or short, of a commune, a district
    or a province): «phường quán toan», «p. quán toan», «p quan toan» → «quán toan», «quan toan». A kind in full is
    taken only with its accents: «Quán Toan» and «Phương Sơn» are names, and so are «quan toan», «phuong son»."""
    text = unicodedata.normalize("NFC", name).lower().strip()
    found = _KIND_WRITTEN.match(text)
    return text[found.end() :] if found else text


def written_out_kinds(text: str) -> str:
    """Text with a unit's kind written short at its start or after a comma written in full, the rest as typed: «P. Hạ
    Lý, Q.Hồng Bàng» → «phường Hạ Lý, quận Hồng Bàng». A name searched by its words («phường» included) then reads
    the same, however its kind was written."""
    parts = []
    for part in unicodedata.normalize("NFC", text).split(","):
        bare = part.lstrip()
        found = _KIND_PLAIN.match(without_accents(bare).lower())  # one letter per letter: «Đk.» → «dk.»
        if found and found.group(2):
            bare = f"{_FULL_KIND[found.group(2)]} {bare[found.end() :]}"
        parts.append(part[: len(part) - len(part.lstrip())] + bare)
    return ",".join(parts)


# -------------------------------------------------------------------------------------------- hotspots
@_labelled(
    {
        "detected": "Phát hiện",
        "verified": "Đã xác minh",
        "dismissed": "Không xác thực, loại bỏ",
        "assigned": "Đã giao xử lý",
        "suppressing": "Đang đấu tranh",
        "eradicated": "Đã triệt xóa",
        "monitoring": "Đang giữ sạch, theo dõi",
        "closed": "Đã loại khỏi danh sách",
        "recurred": "Phức tạp trở lại",
        "dormant": "Tạm lắng (không còn cụm vụ việc)",
        "merged": "Đã gộp vào điểm khác",
    }
)
class HotspotStatus(Vocabulary):
    """Where a hotspot is in its lifecycle (models.domain.hotspot_lifecycle)."""

    DETECTED = "detected"
    VERIFIED = "verified"
    DISMISSED = "dismissed"
    ASSIGNED = "assigned"
    SUPPRESSING = "suppressing"
    ERADICATED = "eradicated"
    MONITORING = "monitoring"
    CLOSED = "closed"
    RECURRED = "recurred"
    DORMANT = "dormant"
    MERGED = "merged"


#: The recurred state's name inside a sentence or a filter's label: the state's own label (the law's and the plans'
#: «phức tạp trở lại»), the one name of a hotspot that came back after its eradication (pages, help, exports, CLI).
RECURRED_WORDS = HotspotStatus.RECURRED.label.lower()
#: The hotspot register's filter of what is new to command (the API's ``new_days``): entered the register, or recurred.
NEW_OR_RECURRED_LABEL = f"Mới / {RECURRED_WORDS}"


def _meanings(vocabulary: type[Vocabulary], meanings: Mapping[str, str]) -> Mapping[str, str]:
    """One sentence per member saying what it means to a new user (the pages' «Hướng dẫn»); every member must have
    one and no sentence may be spare."""
    if sorted(meanings) != sorted(vocabulary.values()):
        raise ValueError(
            f"{vocabulary.__name__}: meanings do not match members ({sorted(set(meanings) ^ set(vocabulary.values()))})"
        )
    return MappingProxyType({code: meanings[code] for code in vocabulary.values()})


#: What each hotspot status means (the pages' «Hướng dẫn» shows it beside the label, colour and next steps).
HOTSPOT_STATUS_MEANINGS = _meanings(
    HotspotStatus,
    {
        "detected": "Hệ thống thấy một cụm vụ việc bất thường; chưa ai kiểm tra tại thực địa.",
        "verified": "Đã kiểm tra, đúng là điểm, tụ điểm phức tạp về ma túy; chờ ban chỉ huy giao nhiệm vụ.",
        "dismissed": "Đã kiểm tra, không phải điểm, tụ điểm ma túy; không theo dõi nữa.",
        "assigned": "Đã giao nhiệm vụ đấu tranh, triệt xóa cho một tổ công tác; tổ chưa bắt đầu.",
        "suppressing": "Tổ công tác đang thực hiện nhiệm vụ đấu tranh, triệt xóa.",
        "eradicated": "Ban chỉ huy đã nghiệm thu kết quả đấu tranh; điểm đã bị triệt xóa.",
        "monitoring": f"Đang giữ sạch: theo dõi xem điểm có {RECURRED_WORDS} trong thời gian quy định không.",
        "closed": "Hết thời gian theo dõi, không có vụ việc mới: đã loại khỏi danh sách điểm nóng.",
        "recurred": "Điểm đã triệt xóa lại có cụm vụ việc mới: cần giao nhiệm vụ đấu tranh lại.",
        "dormant": "Nhiều lần phát hiện liền không còn cụm vụ việc; tự trở lại «Phát hiện» nếu có cụm mới.",
        "merged": "Cụm vụ việc của điểm này đã nhập vào một điểm nóng khác; xem điểm đó.",
    },
)


#: Hotspots that still need police work (counted as open in the KPIs and on the map).
HOTSPOT_OPEN = frozenset(
    {
        HotspotStatus.DETECTED,
        HotspotStatus.VERIFIED,
        HotspotStatus.ASSIGNED,
        HotspotStatus.SUPPRESSING,
        HotspotStatus.RECURRED,
    }
)
#: Days a spot a team reported stays in its list once command dismissed it (the list shows command's reason, and the
#: page asks before the same place is reported again: a team otherwise reports a place command already ruled out).
REPORT_DISMISSED_DAYS = 30
#: Statuses of the spots in a team's list of reports: the open ones, and the dismissed ones for REPORT_DISMISSED_DAYS.
REPORT_LISTED = HOTSPOT_OPEN | {HotspotStatus.DISMISSED}
#: What a team reads of a spot it reported that is not (yet) one of its tasks, per listed status (the team page's list
#: of its reports): where the report stands for the team. Assigned or under suppression without a task of the team means
#: another team's task (the coupling gives a hotspot those statuses only with an assigned task). Verified says not who
#: verified it: a team may verify a spot in its area, its own report too (models.domain.access.TEAM_HOTSPOT_TARGETS).
REPORT_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        HotspotStatus.DETECTED: "chờ chỉ huy xem xét",
        HotspotStatus.VERIFIED: "đã xác minh, chờ giao nhiệm vụ",
        HotspotStatus.DISMISSED: "chỉ huy không xác minh được",
        HotspotStatus.ASSIGNED: "đã giao cho tổ khác xử lý",
        HotspotStatus.SUPPRESSING: "tổ khác đang đấu tranh, triệt xóa",
        HotspotStatus.RECURRED: f"{RECURRED_WORDS}, chờ giao nhiệm vụ",
    }
)
if set(REPORT_STATUS_LABELS) != REPORT_LISTED:
    raise ValueError("REPORT_STATUS_LABELS must label exactly the statuses of a team's list of reports")
#: Statuses a spot a team reported moves into that the team hears of in its inbox (GET /api/inbox): command's verdict
#: (verified from «Phát hiện», dismissed with its reason), the spot given to another team (given to the team itself,
#: its task's notice says so), merged into another spot by detection; and how the work on it ended: eradicated, closed
#: after its monitoring period, recurred (the reporters wait for that, whichever team worked it).
REPORT_NOTICE_STATUSES = frozenset(
    {
        HotspotStatus.VERIFIED,
        HotspotStatus.DISMISSED,
        HotspotStatus.ASSIGNED,
        HotspotStatus.MERGED,
        HotspotStatus.ERADICATED,
        HotspotStatus.CLOSED,
        HotspotStatus.RECURRED,
    }
)
#: Hotspots for which command may open a suppression task: verified ones, and those that recurred
#: (a detected hotspot is verified first; see models.domain.coupling).
HOTSPOT_TASKABLE = frozenset({HotspotStatus.VERIFIED, HotspotStatus.RECURRED})
#: Hotspots cleared by police: a new cluster near one of them is a recurrence, not a new hotspot.
HOTSPOT_RECURRABLE = frozenset({HotspotStatus.ERADICATED, HotspotStatus.MONITORING, HotspotStatus.CLOSED})
#: Hotspots a new cluster continues (same identity): the open ones and the dormant ones.
HOTSPOT_TRACKED = HOTSPOT_OPEN | {HotspotStatus.DORMANT}
#: Hotspots that go dormant after some detection windows without a cluster (no police work under way).
HOTSPOT_MAY_SLEEP = frozenset({HotspotStatus.DETECTED, HotspotStatus.VERIFIED})


@_labelled({"merge": "Gộp", "split": "Tách"})
class LineageKind(Vocabulary):
    """How a hotspot descends from another: absorbed by it (merge) or split off it (split)."""

    MERGE = "merge"
    SPLIT = "split"


@_labelled({"spot": "Điểm", "den": "Tụ điểm", "organizing_place": "Điểm tổ chức, chứa chấp sử dụng"})
class HotspotKind(Vocabulary):
    """Điểm (a spot), tụ điểm (a den: several dealers/users gathering), or a place organising drug use."""

    SPOT = "spot"
    DEN = "den"
    ORGANIZING_PLACE = "organizing_place"


@_labelled({"detection": "Phát hiện qua phân cụm", "manual": "Nhập tay (tin báo, xác minh)"})
class HotspotOrigin(Vocabulary):
    """How a hotspot entered the register."""

    DETECTION = "detection"
    MANUAL = "manual"


# ----------------------------------------------------------------------------------------------- tasks
@_labelled(
    {
        "unassigned": "Chưa giao",
        "assigned": "Đã giao",
        "in_progress": "Đang thực hiện",
        "paused": "Tạm dừng",
        "completed": "Đã hoàn thành, chờ nghiệm thu",
        "accepted": "Đã nghiệm thu",
        "returned": "Trả lại để làm tiếp",
        "declined": "Từ chối nhận",
        "canceled": "Đã hủy",
    }
)
class TaskState(Vocabulary):
    """Where a field task is in its lifecycle (models.domain.task_lifecycle)."""

    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    DECLINED = "declined"
    CANCELED = "canceled"


#: What each task state means (the pages' «Hướng dẫn»).
TASK_STATE_MEANINGS = _meanings(
    TaskState,
    {
        "unassigned": "Nhiệm vụ đã tạo nhưng chưa giao cho tổ công tác nào.",
        "assigned": "Đã giao cho một tổ công tác; tổ nhận và bắt đầu, hoặc từ chối kèm lý do.",
        "in_progress": "Tổ công tác đang làm; ghi chú tiến độ, ảnh hiện trường khi cần.",
        "paused": "Tổ tạm ngừng làm; hạn vẫn tính.",
        "completed": "Tổ báo đã làm xong; chờ ban chỉ huy nghiệm thu hoặc trả lại.",
        "accepted": "Ban chỉ huy đã nghiệm thu kết quả; nhiệm vụ kết thúc.",
        "returned": "Ban chỉ huy chưa nghiệm thu, trả lại kèm ý kiến; tổ làm tiếp.",
        "declined": "Tổ công tác từ chối nhận (có lý do); ban chỉ huy giao lại nhiệm vụ mới.",
        "canceled": "Ban chỉ huy hủy nhiệm vụ; không còn phải làm.",
    },
)


#: The history entry (hotspot or task) of a commune changed by a boundary import (maps.styles.EVENT_LABELS).
COMMUNE_CHANGED = "commune_changed"


#: States in which a task still weighs on its team's workload.
TASK_OPEN = frozenset({TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.PAUSED, TaskState.RETURNED})
#: States in which the assignee no longer owes work, so the due date no longer applies.
TASK_WORK_DONE = frozenset({TaskState.COMPLETED, TaskState.ACCEPTED, TaskState.DECLINED, TaskState.CANCELED})
#: States from which the assignee team may still be changed before work starts.
TASK_REASSIGNABLE = frozenset({TaskState.UNASSIGNED, TaskState.ASSIGNED})
#: States after which a new task may be opened for the same hotspot or commune-year: work refused or withdrawn, or
#: accepted (a hotspot that recurs after its task was accepted gets a new task).
TASK_CLOSED = frozenset({TaskState.ACCEPTED, TaskState.DECLINED, TaskState.CANCELED})


@_labelled({"suppression": "Đấu tranh, triệt xóa điểm, tụ điểm", "conversion": "Chuyển hóa địa bàn"})
class TaskKind(Vocabulary):
    """Suppressing a hotspot, or converting a commune (chuyển hóa địa bàn) for a year."""

    SUPPRESSION = "suppression"
    CONVERSION = "conversion"


@_labelled({"low": "Thấp", "normal": "Bình thường", "high": "Cao", "urgent": "Khẩn"})
class TaskPriority(Vocabulary):
    """How urgent a task is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


# ----------------------------------------------------------------------------------------------- roles
@_labelled({"command": "Ban chỉ huy", "team": "Tổ công tác", "planner": "Cán bộ tham mưu", "admin": "Quản trị"})
class Role(Vocabulary):
    """What a user does: command, a field team, a planner, an administrator."""

    COMMAND = "command"
    TEAM = "team"
    PLANNER = "planner"
    ADMIN = "admin"


@_labelled(
    {
        "create_user": "Tạo người dùng",
        "deactivate_user": "Ngừng kích hoạt người dùng",
        "activate_user": "Kích hoạt lại người dùng",
        "reset_password": "Cấp lại mật khẩu",
        "unlock_user": "Mở khóa đăng nhập",
        "create_team": "Tạo tổ công tác",
        "change_team_area": "Thay đổi địa bàn phụ trách",
        "set_user_province": "Thay đổi phạm vi tỉnh, thành phố của người dùng",
        "revoke_sessions": "Kết thúc mọi phiên đăng nhập của người dùng",
        "rename_team": "Đổi tên tổ công tác",
        "move_user": "Chuyển người dùng sang tổ khác",
        "change_user_role": "Đổi vai trò người dùng",
        "dissolve_team": "Giải thể tổ công tác",
        "import_accounts": "Nhập tài khoản từ tệp",
        "change_own_password": "Tự đổi mật khẩu",
        "restore_backup": "Khôi phục CSDL từ bản sao lưu",
    }
)
class AdminAction(Vocabulary):
    """What the append-only admin audit records: what an administrator did, and two changes of who may do what that
    no administrator makes — a user changing their own password (the actor is the user) and a database restored from
    a backup (the actor is the operator's system account)."""

    CREATE_USER = "create_user"
    DEACTIVATE_USER = "deactivate_user"
    ACTIVATE_USER = "activate_user"
    RESET_PASSWORD = "reset_password"
    UNLOCK_USER = "unlock_user"
    CREATE_TEAM = "create_team"
    CHANGE_TEAM_AREA = "change_team_area"
    SET_USER_PROVINCE = "set_user_province"
    REVOKE_SESSIONS = "revoke_sessions"
    RENAME_TEAM = "rename_team"
    MOVE_USER = "move_user"
    CHANGE_USER_ROLE = "change_user_role"
    DISSOLVE_TEAM = "dissolve_team"
    IMPORT_ACCOUNTS = "import_accounts"
    CHANGE_OWN_PASSWORD = "change_own_password"
    RESTORE_BACKUP = "restore_backup"


@_labelled(
    {
        "incidents": "Danh sách vụ việc",
        "incident_tiles": "Vụ việc trên bản đồ (ô dưới 100 m, mức phố)",
        "fine_cells": "Mật độ, Gi* vụ việc trên ô dưới 100 m",
        "hotspot_register": "Sổ điểm nóng",
        "hotspot": "Chi tiết điểm nóng",
        "hotspot_export": "Xuất sổ điểm nóng",
        "team_reports": "Danh sách điểm tổ đã báo",
        "inbox": "Hộp thư",
        "task": "Chi tiết nhiệm vụ",
        "task_change": "Sửa, giao lại nhiệm vụ",
        "task_photo": "Ảnh nhiệm vụ",
        "classification_export": "Xuất phân loại",
        "kpi_export": "Xuất báo cáo chỉ tiêu",
        "period_export": "Xuất báo cáo định kỳ",
        "admin_audit": "Nhật ký quản trị",
        "admin_audit_export": "Xuất nhật ký quản trị",
        "access_log": "Nhật ký truy cập",
        "access_log_export": "Xuất nhật ký truy cập",
        "backup": "Sao lưu cơ sở dữ liệu",
    }
)
class AccessedData(Vocabulary):
    """What a line of the access log says was read or exported, as the administrator asks for it (the routes and
    commands behind each: gis.store.access_log.ACCESSED_BY_ROUTE)."""

    INCIDENTS = "incidents"
    INCIDENT_TILES = "incident_tiles"
    FINE_CELLS = "fine_cells"
    HOTSPOT_REGISTER = "hotspot_register"
    HOTSPOT = "hotspot"
    HOTSPOT_EXPORT = "hotspot_export"
    TEAM_REPORTS = "team_reports"
    INBOX = "inbox"
    TASK = "task"
    TASK_CHANGE = "task_change"
    TASK_PHOTO = "task_photo"
    CLASSIFICATION_EXPORT = "classification_export"
    KPI_EXPORT = "kpi_export"
    PERIOD_EXPORT = "period_export"
    ADMIN_AUDIT = "admin_audit"
    ADMIN_AUDIT_EXPORT = "admin_audit_export"
    ACCESS_LOG = "access_log"
    ACCESS_LOG_EXPORT = "access_log_export"
    BACKUP = "backup"


@_labelled(
    {
        "logout": "Đăng xuất",
        "password": "Đổi mật khẩu",
        "deactivated": "Tài khoản ngừng hoạt động",
        "revoked": "Quản trị thu hồi",
        "role": "Vai trò thay đổi",
    }
)
class SessionEnd(Vocabulary):
    """Why a login session was revoked before it expired."""

    LOGOUT = "logout"
    PASSWORD = "password"
    DEACTIVATED = "deactivated"
    REVOKED = "revoked"
    ROLE = "role"


#: What each role does (the administrator's «Hướng dẫn»: which role to give a new user).
ROLE_MEANINGS = _meanings(
    Role,
    {
        "command": "Xem bản đồ, điểm nóng toàn địa bàn; xác minh, giao nhiệm vụ cho tổ, nghiệm thu, loại khỏi danh sách.",
        "team": "Chỉ thấy địa bàn của tổ mình; nhận nhiệm vụ, báo tiến độ, ảnh hiện trường, báo hoàn thành.",
        "planner": "Phân loại xã, phường, đặc khu hằng năm: nhập chỉ số, xem xét, điều chỉnh có lý do, phê duyệt.",
        "admin": "Quản lý người dùng, tổ công tác và địa bàn phụ trách; không xem số liệu nghiệp vụ.",
    },
)


#: Roles that may read operational data (incidents, hotspots, tasks); teams only within their area.
READERS = (Role.COMMAND, Role.PLANNER, Role.TEAM)
#: Roles that may change operational data; teams only within their area.
WRITERS = (Role.COMMAND, Role.TEAM)
#: Roles that may be limited to one province (provincial command, provincial planners); without a province they
#: see the whole country (the Ministry), as every command and planner user did before provinces existed.
PROVINCIAL_ROLES = (Role.COMMAND, Role.PLANNER)


@_labelled({"nation": "Toàn quốc", "province": "Tỉnh, thành phố", "team": "Địa bàn tổ công tác"})
class AreaLevel(Vocabulary):
    """How far a user's view reaches: the whole country, one province, or a team's communes."""

    NATION = "nation"
    PROVINCE = "province"
    TEAM = "team"


# ------------------------------------------------------------------------------------- classification
@_labelled(
    {
        "trong_diem": "Trọng điểm phức tạp về ma túy",
        "at_risk": "Có tệ nạn ma túy",
        "drug_free": "Không có tệ nạn ma túy",
    }
)
class Category(Vocabulary):
    """A commune's yearly class under QĐ 28/2025."""

    TRONG_DIEM = "trong_diem"
    AT_RISK = "at_risk"
    DRUG_FREE = "drug_free"


#: Short category names for crowded tables and map tooltips.
CATEGORY_SHORT_LABELS: Mapping[str, str] = MappingProxyType(
    {Category.TRONG_DIEM: "Trọng điểm", Category.AT_RISK: "Có tệ nạn ma túy", Category.DRUG_FREE: "Không ma túy"}
)
#: Categories that count as a drug problem in the KPIs.
PROBLEM_CATEGORIES = (Category.TRONG_DIEM, Category.AT_RISK)
#: What planners read beside a commune whose criteria could not all be decided (a blank indicator is unknown).
MISSING_DATA_LABEL = "thiếu dữ liệu"
#: A KPI line's empty result, target or assessment says which of two things it means (a dash read the same for both):
#: the figure cannot be computed yet (no classification result, no previous year to compare a growth with), or the
#: line has no target and is not assessed (a count reported for information). With what each means, for a legend or
#: tooltip: the one source of the KPI report in Excel and of the command page's KPI panel.
KPI_NO_DATA = "chưa có số liệu"
KPI_NOT_APPLICABLE = "không áp dụng"
KPI_BLANK_MEANINGS = {
    KPI_NO_DATA: "chưa đủ số liệu để tính (chưa có kết quả, hoặc chưa có năm trước để so sánh)",
    KPI_NOT_APPLICABLE: "dòng này không có chỉ tiêu đề ra, không đánh giá đạt hay không đạt",
}


@_labelled({"I": "Loại I", "II": "Loại II", "III": "Loại III"})
class Level(Vocabulary):
    """Level of a trọng điểm commune (I most serious)."""

    I = "I"  # noqa: E741 - the legal name of the level
    II = "II"
    III = "III"


@_labelled({"draft": "Bản nháp", "approved": "Đã phê duyệt"})
class RunStatus(Vocabulary):
    """A classification run is a draft until approved, then immutable."""

    DRAFT = "draft"
    APPROVED = "approved"


@_labelled({"discarded": "Đã bỏ", "replaced": "Đã thay thế"})
class DraftEnd(Vocabulary):
    """How a draft that was never approved ended: discarded («Bỏ bản nháp») or replaced by a new run of its year. It is
    kept in the append-only trail of the year's versions (classification_trail), never read as the year's result."""

    DISCARDED = "discarded"
    REPLACED = "replaced"


#: How a year's history names who ended an unapproved draft (the planner page and `diaban classify history`).
DRAFT_ENDED_BY: Mapping[str, str] = MappingProxyType(
    {DraftEnd.DISCARDED: "bỏ bởi", DraftEnd.REPLACED: "thay bằng lần chạy mới của"}
)


#: How a year's history names an override replaced by something other than a planner's later override: undone by hand
#: in the database (classification_override_log), and the person when the database does not know it.
OVERRIDE_UNDONE = "đã bị bỏ ngoài ứng dụng"
UNKNOWN_PERSON = "không rõ người"
#: What a review says instead of its number of communes changed since the previous approved year when none of its
#: communes has a class that year: nothing to compare with, not 0 changes (`classify review`, the planner page).
NO_PREVIOUS_YEAR = "chưa có năm trước để so sánh"
#: The next-year forecast shown beside a year's legal classes (models.forecast.learned.forecast_risk, its wording
#: FORECAST_NOTE there): a planning aid, never a class under QĐ 28/2025. The planner table's column and the export's
#: headers start with FORECAST_HEADER; LEAVING_DRUG_FREE_LABEL names a commune flagged `leaving_drug_free`; a commune
#: without a forecast (no earlier year to learn from, or figures of the year incomplete) reads NO_FORECAST on the
#: page and in the exported files — never 0 %.
FORECAST_HEADER = "Dự báo năm sau"
LEAVING_DRUG_FREE_LABEL = "có nguy cơ mất trạng thái không ma túy"
NO_FORECAST = "chưa có dự báo"
#: A forecast is shown in whole percents but never as 0 % or 100 %: the model's estimate is no certainty, and 0.996
#: rounded read «100%» beside communes whose legal criteria lack data. Below 1 % it reads «< 1%», above 99 % «> 99%»
#: (the planner page, the CSV and the Excel cell, which keeps the number for sorting and sums).
FORECAST_SHOWN_BOUNDS = ((0.01, "< 1%"), (0.99, "> 99%"))


def forecast_bound_text(probability: float) -> str | None:
    """«< 1%» or «> 99%» for a probability below 1 % or above 99 % (FORECAST_SHOWN_BOUNDS), which whole percents
    could show as 0 % or 100 %; else None (the percentage itself is shown)."""
    (low, below), (high, above) = FORECAST_SHOWN_BOUNDS
    return below if probability < low else above if probability > high else None


def version_status_label(status: str) -> str:
    """Vietnamese label of a version of a year's classification in its history: a live run's RunStatus («Bản nháp»,
    «Đã phê duyệt») or how an unapproved draft ended (DraftEnd: «Đã bỏ», «Đã thay thế»)."""
    return {**RunStatus.labels(), **DraftEnd.labels()}[status]


#: What each yearly class means (the planner's «Hướng dẫn»; the thresholds are in the criteria configuration).
CATEGORY_MEANINGS = _meanings(
    Category,
    {
        "trong_diem": "Đạt tiêu chí địa bàn trọng điểm phức tạp về ma túy theo QĐ 28/2025/QĐ-TTg",
        "at_risk": "Có người nghiện, người sử dụng hoặc tội phạm ma túy nhưng chưa đến mức trọng điểm.",
        "drug_free": "Trong năm không có người nghiện, người sử dụng, tội phạm ma túy; xã còn thiếu dữ liệu không bao giờ"
        " được xếp loại này.",
    },
)
#: How serious each level of a trọng điểm commune is, said after its category's meaning.
LEVEL_MEANINGS = _meanings(Level, {"I": "loại nặng nhất.", "II": "loại giữa.", "III": "loại nhẹ nhất."})
#: What each state of a yearly classification means.
RUN_STATUS_MEANINGS = _meanings(
    RunStatus,
    {
        "draft": "Kết quả vừa chạy: cán bộ tham mưu xem xét, điều chỉnh từng xã (bắt buộc nêu lý do) rồi phê duyệt.",
        "approved": "Đã phê duyệt: không sửa được nữa; muốn thay đổi thì chạy bản hiệu chỉnh.",
    },
)
#: What each end of an unapproved draft means (the planner's «Hướng dẫn», beside the states of a year's result).
DRAFT_END_MEANINGS = _meanings(
    DraftEnd,
    {
        "discarded": "Bản nháp đã bị bỏ (nút «Bỏ bản nháp»): không còn là kết quả của năm, nhưng vẫn giữ trong «Lịch sử"
        " phiên bản» cùng các điều chỉnh của nó.",
        "replaced": "Bản nháp bị thay bằng một lần chạy phân loại mới của năm: vẫn giữ trong «Lịch sử phiên bản» cùng các"
        " điều chỉnh của nó.",
    },
)


#: Every final class a commune can have, least to most serious (the order of review and of the override choices).
CLASS_CHOICES: tuple[tuple[Category, Level | None], ...] = (
    (Category.DRUG_FREE, None),
    (Category.AT_RISK, None),
    (Category.TRONG_DIEM, Level.III),
    (Category.TRONG_DIEM, Level.II),
    (Category.TRONG_DIEM, Level.I),
)


def class_label(category: str, level: str | None) -> str:
    """Vietnamese label of a final class ('Trọng điểm phức tạp về ma túy loại II')."""
    text = Category(category).label
    return f"{text} loại {level}" if category == Category.TRONG_DIEM else text


#: The API's parameter and field names as users know them (the names stay English in the API): what a refusal of a
#: request names (api.validation_vi) and how the access log's parameters read (gis.store.access_log.with_what).
FIELD_LABELS: Mapping[str, str] = {
    "body": "nội dung",
    "query": "tham số",
    "path": "đường dẫn",
    "header": "tiêu đề",
    "cookie": "cookie",
    "note": "ghi chú",
    "version": "phiên bản",
    "to": "trạng thái đích",
    "reason": "lý do",
    "comment": "ý kiến",
    "username": "tên đăng nhập",
    "password": "mật khẩu",
    "role": "vai trò",
    "team_id": "tổ công tác",
    "name": "tên",
    "communes": "danh sách xã, phường",
    "commune_code": "mã xã, phường",
    "commune": "xã, phường",
    "province": "tỉnh, thành phố",
    "province_code": "mã tỉnh, thành phố",
    "national": "phạm vi toàn quốc",
    "category": "phân loại",
    "level": "loại",
    "year": "năm",
    "kind": "loại",
    "status": "trạng thái",
    "hotspot_id": "điểm nóng",
    "due_date": "hạn",
    "priority": "mức ưu tiên",
    "checklist": "danh sách việc",
    "item": "việc",
    "done": "đã xong",
    "lon": "kinh độ",
    "lat": "vĩ độ",
    "radius_m": "bán kính",
    "within_m": "bán kính tìm quanh",
    "new_days": f"mới hoặc {RECURRED_WORDS} trong số ngày",
    "include_dissolved": "kể cả tổ đã giải thể",
    "bbox": "vùng xem",
    "from": "từ ngày",
    "to_date": "đến ngày",
    "limit": "số dòng",
    "route": "chức năng (đường dẫn)",
    "what": "dữ liệu đã xem",
    "offset": "vị trí bắt đầu",
    "cell_m": "kích thước ô",
    "bandwidth_m": "độ rộng nhân",
    "kernel": "hàm nhân",
    "format": "định dạng",
    "distance_cells": "khoảng láng giềng",
    "steps": "số bước",
    "step": "bước thời gian",
    "end": "ngày cuối",
    "simplify_m": "độ đơn giản hóa",
    "q": "tên xã/phường cũ",
    "current_geometry": "kèm hình các xã hiện hành",
    "replace": "thay bản nháp",
    "draft": "bản nháp trước",
    "run_id": "lần tính",
    "last_override_at": "lần điều chỉnh cuối",
    "state": "trạng thái",
    "team": "tổ",
    "overdue": "quá hạn",
    "outside_area": "ngoài địa bàn hiện tại của tổ",
    "z": "mức phóng",
    "x": "cột ô bản đồ",
    "y": "hàng ô bản đồ",
    "layer": "lớp",
    "fdr": "hiệu chỉnh FDR",
    "all_cells": "mọi ô",
    "footprints": "kèm vùng điểm nóng",
    "raw": "dạng thô",
    "active": "đang hoạt động",
    "valid_from": "có hiệu lực từ ngày",
    "current_password": "mật khẩu hiện tại",
    "new_password": "mật khẩu mới",
    "grant_type": "kiểu cấp quyền",
    "scope": "phạm vi quyền",
    "client_id": "mã ứng dụng",
    "client_secret": "khóa ứng dụng",
    "hotspot": "điểm nóng",
    "task_id": "nhiệm vụ",
    "task_state": "trạng thái nhiệm vụ",
    "user_id": "người dùng",
    "photo": "ảnh",
    "photo_id": "ảnh",
    "keep_location": "giữ vị trí chụp",
    "made_at": "thời điểm thực hiện trên máy",
    "Idempotency-Key": "mã gửi lại",
    "file": "tệp",
    "sheet": "trang tính",
    "outside": "điểm ngoài địa bàn",
    "dry_run": "chỉ kiểm tra, chưa ghi",
    "days": "số ngày",
    "valid_to": "hết hiệu lực từ ngày",
    "whole": "tệp là toàn bộ đơn vị hiện hành",
    "allow_many_closed": "cho phép khép lại quá nửa số đơn vị",
    "mode": "cách tính",
    "permutations": "số hoán vị",
}
#: A query's or a path's parameter as users know it: FIELD_LABELS, but ``to`` of a query is always the last day of a
#: window of dates (``to`` of a body is the state a transition goes to). A refusal of a query's ``to`` and the access
#: log's parameters had named the last day «trạng thái đích».
QUERY_FIELD_LABELS: Mapping[str, str] = MappingProxyType({**FIELD_LABELS, "to": "đến ngày"})


#: A command's options whose reads the access log records (api.cli.audit.record_command_read), by their Vietnamese
#: names: QUERY_FIELD_LABELS and the options no query of the API has (the log read «json=True; user=nobody»).
COMMAND_OPTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        **QUERY_FIELD_LABELS,
        "out": "tệp ghi ra",
        "xlsx": "tệp Excel ghi ra",
        "json": "in dạng JSON",
        "user": "người dùng",
        "date_from": "từ ngày",
        "date_to": "đến ngày",
    }
)


#: The recorded parameters whose values are codes of a vocabulary (the access log's routes and commands:
#: gis.store.access_log.ACCESSED_BY_ROUTE), so that the administrator reads «loại=Tin báo, tố giác», not «kind=tip».
PARAM_VOCABULARIES: Mapping[str, type[Vocabulary]] = MappingProxyType(
    {
        "kind": IncidentKind,
        "status": HotspotStatus,
        "task_state": TaskState,
        "what": AccessedData,
    }
)


#: The values of a heat surface's parameters (models.analytics.kde's kernels, api.routes.analysis.heat's forms), which
#: are no codes of the domain, as the access log names them: a heat surface on fine cells is recorded, and the
#: administrator's page had read «gaussian» and «overlay». A classification's export shares ``format=geojson``.
ANALYSIS_VALUE_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "kernel": {"gaussian": "nhân Gauss", "epanechnikov": "nhân Epanechnikov", "quartic": "nhân bậc bốn"},
        "format": {"png": "ảnh PNG", "overlay": "ảnh phủ bản đồ", "geojson": "GeoJSON"},
    }
)


#: A recorded day as a query carries it (``from=2026-03-01``): the access log shows it dd/mm/yyyy.
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def param_value_label(key: str, value: object) -> str:
    """A recorded parameter's value as users read it: each comma-separated code of the parameter's vocabulary
    (PARAM_VOCABULARIES) by its label, several joined by «hoặc» (a filter keeps any of them: «tip,trafficking» →
    «Tin báo, tố giác hoặc Mua bán trái phép chất ma túy»); a day yyyy-mm-dd as dd/mm/yyyy (the log showed
    «từ ngày=2026-03-01»); a command's yes/no option as «có» or «không» (it showed «True»); any other value, or a
    part that is no code, as it is."""
    if isinstance(value, bool):
        return "có" if value else "không"
    labels = PARAM_VOCABULARIES[key].labels() if key in PARAM_VOCABULARIES else ANALYSIS_VALUE_LABELS.get(key, {})
    text = str(value)
    if not labels:
        day = _ISO_DAY.match(text)
        return f"{day[3]}/{day[2]}/{day[1]}" if day else text
    return " hoặc ".join(labels.get(part.strip(), part) for part in text.split(","))


#: The columns that name a commune in both import contracts, by their Vietnamese names.
_UNIT_FIELD_LABELS: dict[str, str] = {
    "commune_code": "Mã xã",
    "address": "Địa chỉ",
    "commune": "Xã/phường",
    "district": "Quận/huyện",
    "province": "Tỉnh/thành phố",
}
#: Each column of the incident import contract (models.domain.incident_contract) by its Vietnamese name, as the
#: command line and the samples show it (every one is also a header the contract's alias table accepts).
INCIDENT_FIELD_LABELS: dict[str, str] = {
    "ref": "Số hiệu",
    "occurred_at": "Thời gian",
    "time_of_day": "Giờ",
    "kind": "Loại vụ việc",
    "lon": "Kinh độ",
    "lat": "Vĩ độ",
    "x": "Tọa độ X",
    "y": "Tọa độ Y",
    "crs": "Hệ tọa độ",
    **_UNIT_FIELD_LABELS,
    "substance": "Chất ma túy",
    "quantity_g": "Khối lượng (g)",
    "arrested": "Số người bị bắt",
    "source": "Nguồn",
}
#: Each column of the yearly indicator contract (models.domain.indicator_contract) by its Vietnamese name, as the
#: command line shows it (every one is also a header that contract's alias table accepts).
INDICATOR_FIELD_LABELS: dict[str, str] = {
    "year": "Năm",
    "population": "Dân số",
    "users_with_records": "Người nghiện và sử dụng có hồ sơ",
    "other_users_with_records": "Người sử dụng không nghiện có hồ sơ",
    "plants_destroyed": "Số cây bị phá hủy",
    "cultivation_m2": "Diện tích trồng (m2)",
    "on_drug_route": "Trên tuyến trọng điểm",
    "organizing_places": "Số điểm tổ chức chứa chấp",
    "arrested_offenders": "Số đối tượng bị bắt",
    **_UNIT_FIELD_LABELS,
    "source": "Nguồn",
}
#: Each column of the accounts file (models.domain.account_contract) by its Vietnamese name, as the template, the
#: refusals and the command line show it (every one is also a header that contract's alias table accepts).
ACCOUNT_FIELD_LABELS: dict[str, str] = {
    "username": "Tên đăng nhập",
    "role": "Vai trò",
    "team": "Tổ công tác",
    "communes": "Xã/phường",
    "province": "Tỉnh",
}
#: The Vietnamese names of the counts an import prints (its `--json` keeps the English keys, a stable interface).
SUMMARY_LABELS = {
    "imported": "đã nhập",
    "duplicates": "trùng (bỏ qua)",
    "rejected": "bị loại",
    "outside": "ngoài địa bàn (vẫn lưu)",
    "by_code": "xác định xã theo mã",
    "by_address": "xác định xã theo địa chỉ",
    "ambiguous": "chưa rõ xã",
    "flagged": "vẫn lưu, cần xem lại",
    "teams": "tổ công tác mới",
    "inserted": "thêm mới",
    "updated": "cập nhật",
    "unchanged": "không đổi",
    "closed": "khép lại (hết hiệu lực)",
    "closed_missing": "khép lại vì không có trong tệp toàn bộ",
    "repaired": "sửa hình học",
    "provinces_from_directory": "tỉnh lấy từ danh mục",
    "provinces_from_units": "tỉnh lấy theo đơn vị đã có nằm dưới (mã mới)",
    "kinds_from_name": "loại đơn vị suy từ tên",
    "reassigned": "vụ việc gán lại đơn vị theo ngày",
    "incidents_moved": "vụ việc gán lại xã/phường theo ranh giới mới",
    "incidents_ambiguous": "vụ việc không có tọa độ ở đơn vị đã bị chia, chưa rõ xã (cần xem lại)",
    "hotspots_moved": "điểm nóng chuyển sang xã/phường khác",
    "tasks_moved": "nhiệm vụ chưa kết thúc theo điểm nóng sang xã/phường khác",
    "team_areas_to_redraw": "tổ công tác có địa bàn gồm đơn vị đã khép lại, cần vẽ lại địa bàn",
}


#: Each list of an import's report rows by its Vietnamese title (the command line's, the `--rejects` file's «Xử lý»
#: column): the rows refused, those left out as duplicates (the reason names the line kept), those kept but flagged.
REPORT_LISTS: Mapping[str, str] = {
    "rejects": "Bị loại",
    "duplicated": "Trùng, bỏ qua",
    "flagged": "Vẫn lưu, cần xem lại",
}
#: The columns of the `--rejects` file by their Vietnamese headers, as the import page's table names them, and the
#: list a row belongs to (`REPORT_LISTS`).
REPORT_ROW_HEADERS: Mapping[str, str] = {
    "line": "Dòng",
    "ref": "Số hiệu, mã",
    "field": "Cột",
    "reason": "Lý do",
    "list": "Xử lý",
}
#: The number of a refused feature of a boundary file (GeoJSON), where the other imports' reports name a line (`line`
#: holds it): «Dòng» had read as a line of the file. The command line says «đối tượng 5» too.
REPORT_FEATURE_HEADER, REPORT_FEATURE_UNIT = "Đối tượng", "đối tượng"


#: The field of a refused row that the file reader found malformed as a whole (fields missing or beyond the header,
#: bytes that are not UTF-8, a feature that is no object), and how a report names it.
WHOLE_ROW, WHOLE_ROW_LABEL = "row", "Cả dòng"


def column_label(field: str, labels: dict[str, str]) -> str:
    """A refused row's column by its Vietnamese name; a pair refused together (``lon/lat``, ``x/y``) by both; a row
    refused whole (`WHOLE_ROW`) as «Cả dòng» (it was shown as «row»)."""
    if field == WHOLE_ROW:
        return WHOLE_ROW_LABEL
    return "/".join(labels.get(part, part) for part in field.split("/"))


#: What a dry run of an import («Kiểm tra tệp» on the pages, ``dry_run=true``, ``--dry-run``) says first: the import
#: ran and was rolled back, so its counts are what it would do now.
DRY_RUN_NOTICE = "Kiểm tra — chưa ghi gì vào cơ sở dữ liệu"
#: The command page's button running detection as a check (a dry run), named by its refusals and help.
DETECTION_CHECK = "Kiểm tra (chưa ghi)"
#: A dry run's imported count, said as what would be: "đã nhập" would read as stored.
WOULD_IMPORT = "sẽ nhập"
#: A dry run's summary title when its counts are changes (a boundary file's): what they would be if imported.
WOULD_APPLY = "nếu nhập"


def summary_line(title: str, counts: dict[str, int], *, dry_run: bool = False) -> str:
    """``title: label count, …`` in Vietnamese, in the order of ``counts`` (a key without a label shows as itself),
    the counts with the thousands dot ("đã nhập 30.000"); a dry run's imported count is said as `WOULD_IMPORT`, and
    a dry run whose counts say no "imported" (a boundary file's "thêm mới 3, cập nhật 2") is titled as what would be
    ("Ranh giới, nếu nhập: thêm mới 3"), not as done.

    The first count is the import's outcome and always shows ("đã nhập 0" says nothing was stored); any other count
    shows only when it is not zero: "bị loại 0, vẫn lưu, cần xem lại 0" had read as if there were something to see.
    """
    from models.numbers import vn_number  # models.numbers imports this module's MISSING_DATA_LABEL

    labels = {**SUMMARY_LABELS, "imported": WOULD_IMPORT} if dry_run else SUMMARY_LABELS
    shown = [(key, value) for i, (key, value) in enumerate(counts.items()) if i == 0 or value]
    if dry_run and "imported" not in counts:
        title = f"{title}, {WOULD_APPLY}"
    return f"{title}: " + ", ".join(f"{labels.get(key, key)} {vn_number(value)}" for key, value in shown)


def vietnamese_reason(reason: str) -> str:
    """A report row's reason without the English gloss that ends it: the closing parenthesis when it holds no
    Vietnamese (non-ASCII) letter, as "kinh độ không phải số: «x» (lon is not a number)" — other signs do not make it
    Vietnamese ("(year must be an integer in 2000–2100)", its dash). The value a reason quotes
    stands in its Vietnamese part, so the pages, the command line and its --rejects file lose nothing (the
    JSON API's ``reason`` keeps the whole reason)."""
    if not reason.endswith(")"):
        return reason
    depth = 0
    for i in range(len(reason) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(reason[i], 0)
        if depth == 0:
            gloss = reason[i + 1 : -1]
            english = not any(char.isalpha() and not char.isascii() for char in gloss)
            return reason[:i].rstrip() if english and i > 0 else reason
    return reason


#: The emerging hot spot analysis (models.analytics.emerging): a map cell is «nóng» in a period when it holds many more
#: incidents than the cells around it, with at least 90 % confidence (the Gi* layer's «Ô nóng», the same word), and
#: «lạnh» when it holds many fewer. Its patterns are named by the cell, «Ô nóng mới», never «Điểm nóng mới»: a «điểm
#: nóng» is a hotspot of the register (its statuses, its tasks), and «Điểm nóng mới» on the layer reads as
#: a new hotspot in the register.
EMERGING_SIDES = {"hot": ("Ô nóng", "nóng", "lạnh"), "cold": ("Ô lạnh", "lạnh", "nóng")}
#: Each pattern stem's word (models.analytics.emerging.STEMS, in their order) and its meaning in plain words, written
#: for a hot cell with {side} (nóng / lạnh) and {other} (the opposite) filled in for either side. «Kỳ» is one step
#: of the analysis (a month on the command map); the rules are the README's "Gi* and emerging hot spots".
EMERGING_STEMS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "new": ("mới", "chỉ {side} ở kỳ gần nhất, trước đó chưa kỳ nào {side}"),
        "consecutive": ("liên tiếp", "{side} liền nhau ít nhất 2 kỳ đến kỳ gần nhất, trước đó chưa kỳ nào {side}"),
        "intensifying": ("gia tăng", "{side} ở ít nhất 90 % số kỳ, cả kỳ gần nhất, và ngày càng {side} hơn"),
        "persistent": ("dai dẳng", "{side} ở ít nhất 90 % số kỳ, cả kỳ gần nhất, không tăng không giảm rõ"),
        "diminishing": ("suy giảm", "{side} ở ít nhất 90 % số kỳ, cả kỳ gần nhất, nhưng đang bớt {side}"),
        "oscillating": ("dao động", "{side} ở kỳ gần nhất, có kỳ trước đó lại {other}; {side} dưới 90 % số kỳ"),
        "sporadic": ("rải rác", "{side} ở kỳ gần nhất, lúc có lúc không, dưới 90 % số kỳ, chưa kỳ nào {other}"),
        "historical": ("trong quá khứ", "{side} ở ít nhất 90 % số kỳ nhưng kỳ gần nhất không còn {side}"),
    }
)
#: The 17th outcome: a cell none of the patterns fits (not drawn on the map).
EMERGING_NO_PATTERN = ("Không thuộc dạng nào", "không thuộc dạng nào ở trên; ô không tô")
