"""Colours and Vietnamese labels of the map layers, shared by the legends (HTML) and the page scripts (JSON)."""

from __future__ import annotations

from html import escape
from types import MappingProxyType
from typing import Any

from models.classification_rules import CATEGORY_LABELS_VI, load_rules
from models.emerging import PATTERN_LABELS_VI
from models.hotspot_lifecycle import HOTSPOT_LABELS_VI
from models.incident_kinds import KIND_LABELS_VI
from models.task_lifecycle import TASK_LABELS_VI

STATUS_COLOURS = MappingProxyType({
    "detected": "#f59e0b", "verified": "#f97316", "dismissed": "#9ca3af", "assigned": "#ef4444",
    "suppressing": "#b91c1c", "eradicated": "#22c55e", "monitoring": "#0ea5e9", "closed": "#6b7280",
    "recurred": "#7c3aed",
})
CATEGORY_COLOURS = MappingProxyType({"trong_diem": "#b91c1c", "at_risk": "#f59e0b", "drug_free": "#16a34a"})
#: Gi* bins −3..3 (99/95/90 % confidence), ColorBrewer RdBu as in ArcGIS.
BIN_COLOURS = MappingProxyType({3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"})
BIN_LABELS_VI = MappingProxyType({
    3: "Nóng, tin cậy 99 %", 2: "Nóng, tin cậy 95 %", 1: "Nóng, tin cậy 90 %",
    -1: "Lạnh, tin cậy 90 %", -2: "Lạnh, tin cậy 95 %", -3: "Lạnh, tin cậy 99 %",
})
EMERGING_COLOURS = MappingProxyType({"hot": "#dc2626", "cold": "#2563eb"})
#: Incidents from the vector tiles: cells counting several (below street zoom), and single incidents.
INCIDENT_COLOURS = MappingProxyType({"counted": "#b45309", "single": "#7c2d12"})
HOTSPOT_KIND_LABELS_VI = MappingProxyType({
    "spot": "Điểm", "den": "Tụ điểm", "organizing_place": "Điểm tổ chức, chứa chấp sử dụng",
})
#: Short category names for the crowded planner table and the map tooltips.
CATEGORY_SHORT_VI = MappingProxyType({"trong_diem": "Trọng điểm", "at_risk": "Có tệ nạn ma túy",
                                      "drug_free": "Không ma túy"})


def script_vocabulary() -> dict[str, Any]:
    """Colours and labels the page scripts need, so that they are defined once, here and in models."""
    rules = load_rules()
    return {
        "levelLabels": {**{level.name: f"Loại {level.name}" for level in rules.levels},
                        rules.drug_free.name: CATEGORY_SHORT_VI["drug_free"]},
        "statusColours": dict(STATUS_COLOURS), "statusLabels": dict(HOTSPOT_LABELS_VI),
        "categoryColours": dict(CATEGORY_COLOURS), "categoryLabels": dict(CATEGORY_SHORT_VI),
        "binColours": {str(k): v for k, v in BIN_COLOURS.items()}, "emergingColours": dict(EMERGING_COLOURS),
        "incidentColours": dict(INCIDENT_COLOURS),
        "hotspotKindLabels": dict(HOTSPOT_KIND_LABELS_VI), "taskLabels": dict(TASK_LABELS_VI),
        "incidentKindLabels": dict(KIND_LABELS_VI), "patternLabels": dict(PATTERN_LABELS_VI),
    }


def _swatches(items: list[tuple[str, str]], shape: str = "box") -> str:
    """Legend rows: a coloured swatch and its label."""
    return "".join(f'<div class="legend-row"><i class="swatch {shape}" style="background:{colour}"></i>'
                   f"{escape(label)}</div>" for colour, label in items)


def status_legend() -> str:
    """Hotspot colours by lifecycle status."""
    return _swatches([(STATUS_COLOURS[s], HOTSPOT_LABELS_VI[s]) for s in STATUS_COLOURS], "dot")


def category_legend() -> str:
    """Commune colours by final class."""
    return _swatches([(CATEGORY_COLOURS[c], CATEGORY_LABELS_VI[c]) for c in CATEGORY_COLOURS])


def gistar_legend() -> str:
    """Gi* cell colours by confidence bin."""
    return _swatches([(BIN_COLOURS[b], BIN_LABELS_VI[b]) for b in BIN_COLOURS])


def incident_legend() -> str:
    """Incident tiles: counted cells and single incidents."""
    return _swatches([(INCIDENT_COLOURS["counted"], "Số vụ trong ô vài điểm ảnh (vòng càng lớn càng nhiều vụ)"),
                      (INCIDENT_COLOURS["single"], "Từng vụ việc (khi phóng to đến cấp đường phố)")], "dot")


def emerging_legend() -> str:
    """Emerging-pattern cell colours (hot or cold patterns; each cell names its pattern)."""
    return _swatches([(EMERGING_COLOURS["hot"], "Xu hướng điểm nóng (mới, liên tiếp, gia tăng, …)"),
                      (EMERGING_COLOURS["cold"], "Xu hướng điểm lạnh")])
