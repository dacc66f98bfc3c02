"""Colours and Vietnamese labels of the map layers, shared by the legends (HTML) and the page scripts (JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from types import MappingProxyType
from typing import Any

from models.analytics.emerging import MAP_CELL_M as EMERGING_MAP_CELL_M
from models.analytics.emerging import MAP_STEP, MAP_STEPS, PATTERN_LABELS_VI, PATTERN_MEANINGS_VI, PATTERNS
from models.analytics.gistar import MAP_CELL_M as GISTAR_MAP_CELL_M
from models.domain.coupling import task_actions
from models.domain.guide import DETECTION_ACTOR
from models.domain.kpi import BOUND_WORDS
from models.domain.period_report import FROM_ZERO
from models.forecast.learned import LEAVING_THRESHOLD
from models.numbers import vn_number
from models.vocabulary import (
    CATEGORY_SHORT_LABELS,
    CLASS_CHOICES,
    COMMUNE_CHANGED,
    COMMUNE_KIND_WORDS,
    DRAFT_ENDED_BY,
    FORECAST_HEADER,
    FORECAST_SHOWN_BOUNDS,
    HOTSPOT_OPEN,
    KPI_BLANK_MEANINGS,
    KPI_NO_DATA,
    KPI_NOT_APPLICABLE,
    LEAVING_DRUG_FREE_LABEL,
    LOCAL_TZ_NAME,
    NO_FORECAST,
    NO_PREVIOUS_YEAR,
    OVERRIDE_UNDONE,
    PROVINCIAL_ROLES,
    RECURRED_WORDS,
    REPORT_FEATURE_HEADER,
    REPORT_FEATURE_UNIT,
    REPORT_LISTS,
    REPORT_ROW_HEADERS,
    REPORT_STATUS_LABELS,
    TASK_CLOSED,
    TASK_OPEN,
    TASK_WORK_DONE,
    UNKNOWN_PERSON,
    AdminAction,
    AreaLevel,
    Category,
    DraftEnd,
    HotspotKind,
    HotspotStatus,
    IncidentKind,
    Level,
    Role,
    RunStatus,
    TaskKind,
    TaskPriority,
    TaskState,
    codes,
    unit_kind_pattern,
)

_S = HotspotStatus
#: Hotspot fill by status (the command and team maps' circles, the legends' and lists' dots). The meaning stays: warm =
#: needs action (yellow detected, orange verified), red = assigned / under suppression (darker once work began),
#: green = eradicated, blue = monitoring, violet = recurred, grey = ended (closed mid-grey; dismissed light cool,
#: dormant light warm, merged dark). The command map draws every status unless filtered, so each pair is measured in
#: CIEDE2000 ΔE, in normal sight and under deuteranopia and protanopia (Machado et al. 2009; tests/unit/test_palette.py):
#: - normal sight: ≥ 15 between any two (least: assigned / suppressing 19.1, verified / assigned 19.5), the four greys
#:   ≥ 10 by shade (least: dismissed / dormant 11.8);
#: - colour-blind sight: ≥ 8 between any two (least: suppressing / merged 10.3 prot., detected / verified 11.2 deut.,
#:   verified / assigned 11.6 deut.), the greys ≥ 10 (dismissed / dormant 11.7 prot.);
#: - ≥ 15 from the land (#f3f1ea, #f4f1e8 offline) and the heat ramp's light end (#ffffb2) in all three (least:
#:   detected on #ffffb2 17.2 deut., dormant on the land 17.4 deut.).
#: The former table failed these: detected #f59e0b / verified #f97316 5.5 deut., detected / eradicated #22c55e 7.0
#: prot., assigned #ef4444 / eradicated 7.7 deut., dismissed #9ca3af / merged #a8a29e 9.0 normal, dormant #d6d3d1 7.1
#: from the land.
#: No text is written on these colours: the dots have a dark rim (app.css .swatch), the circles #111827.
STATUS_COLOURS = MappingProxyType(
    {
        _S.DETECTED: "#eabd07",
        _S.VERIFIED: "#f26b10",
        _S.DISMISSED: "#9ca3af",
        _S.ASSIGNED: "#dc2626",
        _S.SUPPRESSING: "#7f1d1d",
        _S.ERADICATED: "#059669",
        _S.MONITORING: "#3b82f6",
        _S.CLOSED: "#6b7280",
        _S.RECURRED: "#842da2",
        _S.DORMANT: "#b0a89e",
        _S.MERGED: "#44403c",
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
        "recurred": HotspotStatus.RECURRED.label,
        # What detection runs record besides (gis.services.detection): the page showed these names as they are.
        "reactivated": "Có cụm vụ việc trở lại",
        "dormant": "Không còn cụm vụ việc",
        "merged": "Gộp vào điểm khác",
        # A boundary import (gis.services.boundary_import) moved the hotspot, and its unfinished task, to another commune.
        COMMUNE_CHANGED: "Đổi xã/phường theo ranh giới mới",
    }
)


def class_key(category: str, level: str | None) -> str:
    """The key of a final class in the colour and label tables ('trong_diem|II', 'drug_free|')."""
    return f"{category}|{level or ''}"


def short_class_label(category: str, level: str | None) -> str:
    """The short name of a final class, the same in the legend, the tooltips and the planner's tables."""
    text = CATEGORY_SHORT_LABELS[category]
    if not level:
        return text
    name = Level(level).label  # "Loại II" → "Trọng điểm loại II"
    return f"{text} {name[:1].lower()}{name[1:]}"


#: Final classes, least to most serious, coloured by ColorBrewer RdYlBu (5 classes; marked colour-blind safe): blue
#: (drug-free) → light blue (has drug problems) → pale yellow, orange, red (trọng điểm loại III, II, I). The
#: lightness alone orders them, so the order survives deuteranopia and a grey-scale print.
CLASS_COLOURS = MappingProxyType(
    dict(
        zip(
            (class_key(c, level) for c, level in CLASS_CHOICES),
            ("#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"),
            strict=True,
        )
    )
)
CLASS_LABELS = MappingProxyType({class_key(c, level): short_class_label(c, level) for c, level in CLASS_CHOICES})
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
#: The 17 outcomes of the emerging hot spot analysis, styled after ArcGIS Pro's: the eight hot patterns in reds and
#: oranges (darkest for what is new or intensifying now), the eight cold ones in the matching blues, "oscillating"
#: in magenta / purple (it changes side), no pattern left undrawn (outlined in the legend only).
EMERGING_COLOURS = MappingProxyType(
    dict(
        zip(
            PATTERNS,
            (
                "#67000d",  # new hot spot
                "#a50f15",  # consecutive
                "#d7301f",  # intensifying
                "#ef6548",  # persistent
                "#fc8d59",  # diminishing
                "#ce1256",  # oscillating
                "#fdbb84",  # sporadic
                "#fee8c8",  # historical
                "#08306b",  # new cold spot
                "#08519c",  # consecutive
                "#2171b5",  # intensifying
                "#4292c6",  # persistent
                "#6baed6",  # diminishing
                "#6a51a3",  # oscillating
                "#9ecae1",  # sporadic
                "#deebf7",  # historical
                "transparent",  # no pattern
            ),
            strict=True,
        )
    )
)
#: Incidents from the vector tiles: cells counting several (below street zoom), and single incidents.
INCIDENT_COLOURS = MappingProxyType({"counted": "#6d28d9", "single": "#4c1d95"})
#: The team's map: its own communes outlined, the others veiled, and each task's place ringed (red once it is overdue).
TEAM_COLOURS = MappingProxyType({"area": "#2563eb", "outside": "#64748b", "task": "#2563eb", "overdue": "#dc2626"})
#: What each of the team map's colours means (its legend).
TEAM_LEGEND = MappingProxyType(
    {
        "area": "Địa bàn phụ trách của tổ (viền xanh)",
        "outside": "Ngoài địa bàn của tổ (phủ xám)",
        "task": "Nơi làm nhiệm vụ của tổ (bấm để xem số, loại, trạng thái, hạn)",
        "overdue": "Nhiệm vụ quá hạn",
    }
)
#: A spot report waiting on the team's phone («Chờ gửi», no signal yet): a dashed ring in no status's colour (it has no
#: status yet), as Leaflet circle-marker options; the team's map (team.js) and its legend draw it from here.
PENDING_REPORT_STYLE: Mapping[str, Any] = MappingProxyType(
    {"radius": 9, "weight": 2, "dashArray": "4 3", "color": "#78350f", "fillColor": "#fffbeb", "fillOpacity": 0.9}
)
#: The heat ramp (ColorBrewer YlOrRd, 7 stops), low → high density: the PNG overlay and the legend's bar share it.
HEAT_RAMP: tuple[str, ...] = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
#: The ArcGIS-style search radius r (quartic kernel (1 − d²/r²)², mean squared distance r²/4) spreading incidents as
#: much as our Gaussian of bandwidth σ (mean squared distance 2σ²): r = 2√2·σ ≈ 2.83σ.
QUARTIC_RADIUS_PER_SIGMA = 2.83
#: Hotspot circles: radius in pixels = base + min(cap, √(incidents)) (the legend shows three examples), from zoom
#: `full_zoom` on; below it the radius shrinks by √2 a zoom level, to at least `least` of it: on a phone showing the
#: whole city (zoom 8) circles of 15 px covered each other, and one could not be tapped apart from its neighbour.
HOTSPOT_RADIUS = MappingProxyType({"base": 5, "cap": 10, "full_zoom": 11, "least": 0.5})
#: The colour tables the legends and the page scripts' lists draw swatches from, by palette name (swatch_class).
PALETTES: Mapping[str, Mapping[Any, str]] = MappingProxyType(
    {
        "status": STATUS_COLOURS,
        "class": CLASS_COLOURS,
        "bin": BIN_COLOURS,
        "emerging": EMERGING_COLOURS,
        "incident": INCIDENT_COLOURS,
        "team": TEAM_COLOURS,
    }
)


def swatch_class(palette: str, key: object) -> str:
    """The CSS class giving a swatch the colour of ``key`` in a palette ('fill-status-detected',
    'fill-class-trong_diem-II', 'fill-class-drug_free', 'fill-bin--1'). The page's palette stylesheet (palette_css)
    defines it: a legend or a list row carrying a style attribute would be refused by the Content-Security-Policy,
    which allows no inline style (api/headers.py)."""
    return f"fill-{palette}-{str(key).replace('|', '-').rstrip('-')}"


def palette_css() -> str:
    """The pages' palette stylesheet (an inline <style> with the response's nonce): a rule per swatch class of
    PALETTES, and the heat legend's ramp, from the same tables as the map layers."""
    rules = [
        f".{swatch_class(name, key)} {{ background: {colour}; }}"
        for name, colours in PALETTES.items()
        for key, colour in colours.items()
    ]
    rules.append(f".heat-scale {{ background: linear-gradient(to right, {', '.join(HEAT_RAMP)}); }}")
    return "\n".join(rules)


def script_vocabulary() -> dict[str, Any]:
    """Labels, colours and state sets the page scripts need: the vocabulary of models.vocabulary, shipped once."""
    return {
        "levelLabels": {**Level.labels(), Category.DRUG_FREE: CATEGORY_SHORT_LABELS[Category.DRUG_FREE]},
        "statusColours": dict(STATUS_COLOURS),
        "statusLabels": dict(HotspotStatus.labels()),
        "openHotspotStatuses": list(codes(HOTSPOT_OPEN)),
        "recurredWords": RECURRED_WORDS,
        "communeKindPattern": unit_kind_pattern(COMMUNE_KIND_WORDS, plain=True),  # the search box's «P.», «phường»…
        "reportStatusLabels": dict(REPORT_STATUS_LABELS),
        "reportLists": dict(REPORT_LISTS),  # an import report's lists and columns, as the --rejects file names them
        "reportRowHeaders": dict(REPORT_ROW_HEADERS),
        "reportFeature": {"header": REPORT_FEATURE_HEADER, "unit": REPORT_FEATURE_UNIT},  # a boundary file's rows
        "classColours": dict(CLASS_COLOURS),
        "classLabels": dict(CLASS_LABELS),
        "categoryLabels": dict(CATEGORY_SHORT_LABELS),
        "binColours": {str(k): v for k, v in BIN_COLOURS.items()},
        "binLabels": {str(k): v for k, v in BIN_LABELS_VI.items()},
        "emergingColours": dict(EMERGING_COLOURS),
        "incidentColours": dict(INCIDENT_COLOURS),
        "teamColours": dict(TEAM_COLOURS),
        "pendingReportStyle": dict(PENDING_REPORT_STYLE),
        "runStatusLabels": dict(RunStatus.labels()),
        "draftEndLabels": dict(DraftEnd.labels()),
        "draftEndedBy": dict(DRAFT_ENDED_BY),
        "overrideUndone": OVERRIDE_UNDONE,
        "unknownPerson": UNKNOWN_PERSON,
        "noPreviousYear": NO_PREVIOUS_YEAR,
        # The planner's next-year forecast column (models.forecast.learned.forecast_risk) and its threshold.
        "forecast": {
            "header": FORECAST_HEADER,
            "leaving": LEAVING_DRUG_FREE_LABEL,
            "none": NO_FORECAST,
            "threshold": LEAVING_THRESHOLD,
            "bounds": [list(bound) for bound in FORECAST_SHOWN_BOUNDS],  # «< 1%», «> 99%»: never 0 % nor 100 %
        },
        "heatRamp": list(HEAT_RAMP),
        "quarticPerSigma": QUARTIC_RADIUS_PER_SIGMA,
        "hotspotRadius": dict(HOTSPOT_RADIUS),
        "hotspotKindLabels": dict(HotspotKind.labels()),
        "taskLabels": dict(TaskState.labels()),
        "incidentKindLabels": dict(IncidentKind.labels()),
        "patternLabels": dict(PATTERN_LABELS_VI),
        "patternMeanings": dict(PATTERN_MEANINGS_VI),
        "openTaskStates": list(codes(TASK_OPEN)),
        "workDoneTaskStates": list(codes(TASK_WORK_DONE)),
        "closedTaskStates": list(codes(TASK_CLOSED)),
        "hotspotActionLabels": dict(HOTSPOT_ACTION_LABELS),
        "taskActionLabels": dict(TASK_ACTION_LABELS),
        # The moves a team may make from each state (what the API lists as a task's `actions` for a team user): the
        # team page draws a task as it will be once the changes kept on a phone without signal have gone.
        "teamTaskActions": {
            state.value: [{"to": a.to, "note_required": a.note_required} for a in task_actions(state, Role.TEAM)]
            for state in TaskState
        },
        "eventLabels": dict(EVENT_LABELS),
        "detectionActor": DETECTION_ACTOR,
        "taskKindLabels": dict(TaskKind.labels()),
        "priorityLabels": dict(TaskPriority.labels()),
        "roleLabels": dict(Role.labels()),
        "provincialRoles": list(PROVINCIAL_ROLES),
        "areaLevelLabels": dict(AreaLevel.labels()),
        "adminActionLabels": dict(AdminAction.labels()),
        "timeZone": LOCAL_TZ_NAME,
        "boundWords": dict(BOUND_WORDS),
        "kpiBlank": {"noData": KPI_NO_DATA, "notApplicable": KPI_NOT_APPLICABLE, "meanings": dict(KPI_BLANK_MEANINGS)},
        "periodFromZero": FROM_ZERO,
        "classChoices": [[category, level] for category, level in CLASS_CHOICES],
        "swatchClasses": {
            name: {str(key): swatch_class(name, key) for key in colours} for name, colours in PALETTES.items()
        },
    }


def _swatches(palette: str, items: list[tuple[Any, str]], shape: str = "box") -> str:
    """Legend rows: a swatch coloured by its key in a palette (swatch_class), and its label; the row carries its key
    (a page marks the rows of what its map does not show: the printed sheet leaves them out)."""
    return "".join(
        f'<div class="legend-row" data-key="{escape(str(key))}"><i class="swatch {shape} {swatch_class(palette, key)}">'
        f"</i>{escape(label)}</div>"
        for key, label in items
    )


def status_legend() -> str:
    """Hotspot colours by lifecycle status."""
    return _swatches("status", [(s, HotspotStatus(s).label) for s in STATUS_COLOURS], "dot")


def hotspot_radius(n_incidents: int) -> float:
    """A hotspot circle's radius in pixels from `full_zoom` on (the page script draws with the same formula, from
    HOTSPOT_RADIUS, and shrinks it below that zoom)."""
    return HOTSPOT_RADIUS["base"] + min(HOTSPOT_RADIUS["cap"], max(1, n_incidents) ** 0.5)


def size_legend(examples: tuple[int, ...] = (1, 25, 100)) -> str:
    """What a hotspot circle's size says: its number of incidents (area grows with the count, up to a cap)."""
    rows = "".join(
        f'<div class="legend-row"><svg class="size" width="32" height="32" aria-hidden="true"><circle cx="16" cy="16" '
        f'r="{hotspot_radius(n):.1f}" fill="#fff" stroke="#111827"/></svg>{n}{"+" if n == examples[-1] else ""} vụ việc'
        f"</div>"
        for n in examples
    )
    # One block: a printed legend in two columns split it, «1 vụ việc» at the foot of one, «25» atop the next.
    return f'<p class="hint">Cỡ vòng tròn: số vụ việc của điểm nóng (nhỏ hơn khi xem cả thành phố).</p><div class="sizes">{rows}</div>'


def class_legend() -> str:
    """Commune colours by final class, most serious first (the same words as the map's tooltips)."""
    return _swatches("class", [(key, CLASS_LABELS[key]) for key in reversed(CLASS_COLOURS)])


def gistar_legend() -> str:
    """Gi* cell colours by confidence bin, then what the cells are, which incidents they count and what a confidence
    means in plain words (a commander justifying a patrol by a hot cell is asked what «tin cậy 95 %» means)."""
    return _swatches("bin", [(b, BIN_LABELS_VI[b]) for b in BIN_COLOURS]) + (
        '<p class="hint">Ô không tô: số vụ không khác hẳn xung quanh.</p>'
        f'<p class="hint">Ô vuông {vn_number(GISTAR_MAP_CELL_M)} m, đếm vụ việc theo «Lọc vụ việc» (thời gian, loại vụ'
        " việc) và tháng đã chọn. Tin cậy 95 %: trong các ô tô ở mức này, dự kiến dưới 5 % chỉ do ngẫu nhiên; vì so hàng nghìn"
        " ô cùng lúc, ô chỉ được tô khi p nhỏ hơn 0,05 nhiều (ngưỡng đã hiệu chỉnh). 99 % chắc hơn 90 %.</p>"
        '<p class="hint" id="gistar-status" aria-live="polite"></p>'
    )


def heat_legend() -> str:
    """The heat ramp as a bar (its gradient: palette_css); the page script writes the values at its ends, σ and the
    search radius."""
    return (
        '<div class="heat-scale"></div>'
        '<div class="heat-values"><span id="heat-low">0</span><span id="heat-high">—</span></div>'
        '<div id="heat-legend">—</div>'
    )


def incident_legend() -> str:
    """Incident tiles: counted cells and single incidents."""
    return _swatches(
        "incident",
        [
            ("counted", "Số vụ trong ô vài điểm ảnh (vòng càng lớn càng nhiều vụ)"),
            ("single", "Từng vụ việc (từ cấp đường phố; bấm để xem số hồ sơ, ngày, loại)"),
        ],
        "dot",
    )


def emerging_legend() -> str:
    """The 17 emerging-pattern outcomes (hot, cold, none), each with its own colour and its meaning as a tooltip, then
    the window, cells and incidents they are computed over: the layer follows none of the page's filters, so the
    legend says so; the page script writes the latest incident's day into ``#emerging-end``."""
    step = {"month": "tháng", "week": "tuần"}[MAP_STEP]
    rows = "".join(
        f'<div class="legend-row" title="{escape(PATTERN_MEANINGS_VI[p])}"><i class="swatch box'
        f' {swatch_class("emerging", p)}"></i>{escape(PATTERN_LABELS_VI[p])}</div>'
        for p in PATTERNS
    )
    return rows + (
        f'<p class="hint">{MAP_STEPS} {step} đến ngày có vụ việc mới nhất (<span id="emerging-end">—</span>), mỗi kỳ một'
        f" {step}; ô vuông {vn_number(EMERGING_MAP_CELL_M)} m; mọi loại vụ việc, không theo «Lọc vụ việc». «Nóng»,"
        " «lạnh» như lớp ô nóng, ô lạnh (tin cậy từ 90 %); nghĩa của từng dạng: «Hướng dẫn», hoặc bấm vào ô.</p>"
        '<p class="hint" id="emerging-status" aria-live="polite"></p>'
    )


def team_legend() -> str:
    """The team map's colours: the team's area and the communes outside it, its tasks' places, an overdue task, and a
    spot report waiting on the phone (its dashed ring drawn as the map draws it, PENDING_REPORT_STYLE)."""
    places = [(key, TEAM_LEGEND[key]) for key in TEAM_COLOURS if key not in ("area", "outside")]
    ring = PENDING_REPORT_STYLE
    size = 2 * (ring["radius"] + ring["weight"])
    pending = (
        f'<div class="legend-row"><svg class="size" width="{size}" height="{size}" aria-hidden="true"><circle'
        f' cx="{size / 2:g}" cy="{size / 2:g}" r="{ring["radius"]}" fill="{ring["fillColor"]}"'
        f' fill-opacity="{ring["fillOpacity"]}" stroke="{ring["color"]}" stroke-width="{ring["weight"]}"'
        f' stroke-dasharray="{ring["dashArray"]}"/></svg>Báo điểm mới chờ gửi trên máy (vòng nét đứt; tự gửi khi có'
        " sóng)</div>"
    )
    return (
        _swatches("team", [("area", TEAM_LEGEND["area"])])
        + _swatches("team", [("outside", TEAM_LEGEND["outside"])], "box veil")
        + _swatches("team", places, "dot")
        + pending
    )
