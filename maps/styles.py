"""Colours and Vietnamese labels of the map layers, shared by the legends (HTML) and the page scripts (JSON)."""

from __future__ import annotations

from html import escape
from types import MappingProxyType
from typing import Any

from models.analytics.emerging import PATTERN_LABELS_VI
from models.vocabulary import (
    CATEGORY_SHORT_LABELS,
    CLASS_CHOICES,
    LOCAL_TZ_NAME,
    TASK_OPEN,
    Category,
    HotspotKind,
    HotspotStatus,
    IncidentKind,
    Level,
    Role,
    TaskKind,
    TaskPriority,
    TaskState,
    codes,
)

_S = HotspotStatus
STATUS_COLOURS = MappingProxyType(
    {
        _S.DETECTED: "#f59e0b",
        _S.VERIFIED: "#f97316",
        _S.DISMISSED: "#9ca3af",
        _S.ASSIGNED: "#ef4444",
        _S.SUPPRESSING: "#b91c1c",
        _S.ERADICATED: "#22c55e",
        _S.MONITORING: "#0ea5e9",
        _S.CLOSED: "#6b7280",
        _S.RECURRED: "#7c3aed",
        _S.DORMANT: "#d6d3d1",
        _S.MERGED: "#a8a29e",
    }
)
#: The button of each hotspot transition a user may request (the verb, in Vietnamese).
HOTSPOT_ACTION_LABELS = MappingProxyType(
    {
        _S.VERIFIED: "Xác minh",
        _S.DISMISSED: "Loại bỏ (không xác thực)",
        _S.ERADICATED: "Ghi nhận đã triệt xóa",
        _S.MONITORING: "Bắt đầu giữ sạch, theo dõi",
        _S.CLOSED: "Loại khỏi danh sách",
    }
)
_T = TaskState
#: The button of each task transition.
TASK_ACTION_LABELS = MappingProxyType(
    {
        _T.IN_PROGRESS: "Thực hiện",
        _T.PAUSED: "Tạm dừng",
        _T.COMPLETED: "Báo cáo hoàn thành",
        _T.ACCEPTED: "Nghiệm thu",
        _T.RETURNED: "Trả lại để làm tiếp",
        _T.DECLINED: "Từ chối nhận",
        _T.CANCELED: "Hủy nhiệm vụ",
    }
)
#: Entries of the task and hotspot histories.
EVENT_LABELS = MappingProxyType(
    {
        "created": "Tạo mới",
        "transition": "Chuyển trạng thái",
        "reassigned": "Giao lại tổ khác",
        "comment": "Ghi chú",
        "updated": "Cập nhật",
        "recurred": "Phức tạp trở lại",
    }
)
CATEGORY_COLOURS = MappingProxyType(
    {Category.TRONG_DIEM: "#b91c1c", Category.AT_RISK: "#f59e0b", Category.DRUG_FREE: "#16a34a"}
)
#: Gi* bins −3..3 (99/95/90 % confidence), ColorBrewer RdBu as in ArcGIS.
BIN_COLOURS = MappingProxyType({3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"})
BIN_LABELS_VI = MappingProxyType(
    {
        3: "Nóng, tin cậy 99 %",
        2: "Nóng, tin cậy 95 %",
        1: "Nóng, tin cậy 90 %",
        -1: "Lạnh, tin cậy 90 %",
        -2: "Lạnh, tin cậy 95 %",
        -3: "Lạnh, tin cậy 99 %",
    }
)
EMERGING_COLOURS = MappingProxyType({"hot": "#dc2626", "cold": "#2563eb"})
#: Incidents from the vector tiles: cells counting several (below street zoom), and single incidents.
INCIDENT_COLOURS = MappingProxyType({"counted": "#b45309", "single": "#7c2d12"})


def script_vocabulary() -> dict[str, Any]:
    """Labels, colours and state sets the page scripts need: the vocabulary of models.vocabulary, shipped once."""
    return {
        "levelLabels": {**Level.labels(), Category.DRUG_FREE: CATEGORY_SHORT_LABELS[Category.DRUG_FREE]},
        "statusColours": dict(STATUS_COLOURS),
        "statusLabels": dict(HotspotStatus.labels()),
        "categoryColours": dict(CATEGORY_COLOURS),
        "categoryLabels": dict(CATEGORY_SHORT_LABELS),
        "binColours": {str(k): v for k, v in BIN_COLOURS.items()},
        "emergingColours": dict(EMERGING_COLOURS),
        "incidentColours": dict(INCIDENT_COLOURS),
        "hotspotKindLabels": dict(HotspotKind.labels()),
        "taskLabels": dict(TaskState.labels()),
        "incidentKindLabels": dict(IncidentKind.labels()),
        "patternLabels": dict(PATTERN_LABELS_VI),
        "openTaskStates": list(codes(TASK_OPEN)),
        "hotspotActionLabels": dict(HOTSPOT_ACTION_LABELS),
        "taskActionLabels": dict(TASK_ACTION_LABELS),
        "eventLabels": dict(EVENT_LABELS),
        "taskKindLabels": dict(TaskKind.labels()),
        "priorityLabels": dict(TaskPriority.labels()),
        "roleLabels": dict(Role.labels()),
        "timeZone": LOCAL_TZ_NAME,
        "classChoices": [[category, level] for category, level in CLASS_CHOICES],
    }


def _swatches(items: list[tuple[str, str]], shape: str = "box") -> str:
    """Legend rows: a coloured swatch and its label."""
    return "".join(
        f'<div class="legend-row"><i class="swatch {shape}" style="background:{colour}"></i>{escape(label)}</div>'
        for colour, label in items
    )


def status_legend() -> str:
    """Hotspot colours by lifecycle status."""
    return _swatches([(STATUS_COLOURS[s], HotspotStatus(s).label) for s in STATUS_COLOURS], "dot")


def category_legend() -> str:
    """Commune colours by final class."""
    return _swatches([(CATEGORY_COLOURS[c], Category(c).label) for c in CATEGORY_COLOURS])


def gistar_legend() -> str:
    """Gi* cell colours by confidence bin."""
    return _swatches([(BIN_COLOURS[b], BIN_LABELS_VI[b]) for b in BIN_COLOURS])


def incident_legend() -> str:
    """Incident tiles: counted cells and single incidents."""
    return _swatches(
        [
            (INCIDENT_COLOURS["counted"], "Số vụ trong ô vài điểm ảnh (vòng càng lớn càng nhiều vụ)"),
            (INCIDENT_COLOURS["single"], "Từng vụ việc (khi phóng to đến cấp đường phố)"),
        ],
        "dot",
    )


def emerging_legend() -> str:
    """Emerging-pattern cell colours (hot or cold patterns; each cell names its pattern)."""
    return _swatches(
        [
            (EMERGING_COLOURS["hot"], "Xu hướng điểm nóng (mới, liên tiếp, gia tăng, …)"),
            (EMERGING_COLOURS["cold"], "Xu hướng điểm lạnh"),
        ]
    )
