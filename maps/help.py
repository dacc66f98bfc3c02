"""«Hướng dẫn»: the folded help at the top of each working page, for a user on their first day.

Generated, never copied: each status and state with its colour, label and meaning (``models.vocabulary``), who moves
it next and to what (``models.domain.guide``, read off the lifecycles), the classes and roles with their meanings,
and the page's abbreviations. A renamed label or a changed rule shows here as everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape

from maps.styles import CLASS_LABELS, class_key, swatch_class
from models.analytics.detection import SIMULATIONS, SPURIOUS_PER_MAP, DetectionParams
from models.analytics.emerging import PATTERN_LABELS_VI, PATTERN_MEANINGS_VI, PATTERNS
from models.domain.guide import Step, hotspot_steps, task_steps
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.numbers import vn_number
from models.vocabulary import (
    CATEGORY_MEANINGS,
    CLASS_CHOICES,
    DETECTION_CHECK,
    DRAFT_END_MEANINGS,
    FIELD_LABELS,
    HOTSPOT_STATUS_MEANINGS,
    KPI_BLANK_MEANINGS,
    LEVEL_MEANINGS,
    MISSING_DATA_LABEL,
    NEW_OR_RECURRED_LABEL,
    RECURRED_WORDS,
    ROLE_MEANINGS,
    RUN_STATUS_MEANINGS,
    TASK_STATE_MEANINGS,
    DraftEnd,
    HotspotStatus,
    IncidentKind,
    Role,
    RunStatus,
    TaskState,
)

#: The abbreviations and terms a page shows without room to explain them, and what each means.
_SEARCH_TERMS = {
    "#12": "điểm nóng số 12 (gõ vào ô tìm trên bản đồ để đến điểm đó)",
    "NV 7": "nhiệm vụ số 7 (ô tìm trên bản đồ)",
}
#: A tap on the command and team maps (circleNear in maps/static/js/common.js: within 16 px of a circle's edge, on a
#: touch screen).
_MAP_TERMS = {
    "Chạm trên bản đồ (điện thoại)": "chạm vào hoặc sát cạnh một vòng tròn (điểm nóng, nhiệm vụ, điểm đã báo; trong"
    " khoảng một đầu ngón tay) để mở thẻ của vòng tròn gần nhất, kể cả khi vòng tròn nhỏ lúc xem cả thành phố; khi đang"
    " chọn vị trí báo điểm, chạm vào bản đồ là chọn vị trí đó",
}
#: The folded forms that report a spot (maps.panels._tip_form), named here and there alike.
COMMAND_TIP = "Thêm điểm từ tin báo"
#: The command page's form running hotspot detection (maps.panels.command_panel), as its help names it.
DETECTION_TITLE = "Phát hiện điểm nóng từ vụ việc"
TEAM_TIP = "Báo điểm mới"
_TIP_MEANING = "viết mô tả ngắn (nơi, dấu hiệu), không ghi tên người: hệ thống không lưu tên người"
_TASK_TERMS = {
    "Quá hạn": "nhiệm vụ chưa làm xong mà đã qua ngày hạn (số ngày quá hạn ghi bên cạnh)",
    "Nghiệm thu": "ban chỉ huy kiểm tra và công nhận kết quả tổ công tác báo hoàn thành",
}
#: The command map's layers and density choice as the legend names them (maps.panels.command_panel) and the help
#: explains them: plain words on the page, the method's names and figures here and in the tooltips.
GISTAR_TITLE = "Ô nóng, ô lạnh (so với xung quanh)"
EMERGING_TITLE = "Xu hướng ô nóng, ô lạnh theo thời gian"
#: The command map's layers, in drawing order (bottom to top), by the names its layer control gives them (command.js,
#: through the page config's ``layerTitles``).
COMMAND_LAYERS: Mapping[str, str] = {
    "classes": "Phân loại xã (năm đã duyệt gần nhất)",
    "heat": "Mật độ vụ việc",
    "gistar": GISTAR_TITLE,
    "emerging": EMERGING_TITLE,
    "incidents": "Vụ việc (số vụ theo ô; từng vụ khi phóng to)",
    "hotspots": "Điểm nóng",
}
DENSITY_SPREAD = "Cách tính mật độ"
#: «Báo cáo định kỳ» (maps.panels.period_report_form), on the command and the planner pages.
PERIOD_REPORT = "Báo cáo định kỳ"
_PERIOD_REPORT_MEANING = (
    "bấm chọn nhanh kỳ (tuần, tháng, quý, 6 tháng đầu hoặc cuối năm, năm — đều tính đến hôm nay) hoặc gõ từ ngày,"
    f" đến ngày dd/mm/yyyy (dài nhất một năm): vụ việc theo loại, điểm mới, đã triệt xóa, {RECURRED_WORDS}, nhiệm vụ của"
    " từng tổ và các xã nhiều vụ việc nhất, mỗi số đặt cạnh cùng kỳ năm trước kèm mức tăng, giảm; «chưa có số liệu»:"
    " hệ thống chưa có dữ liệu của kỳ đó (không phải 0); khi dữ liệu vụ việc chưa đến hết kỳ, số vụ được so với cùng"
    " kỳ năm trước đến cùng ngày đó, không với cả kỳ; tải về bản Excel để gửi báo cáo"
)
_COMMAND_TERMS = {
    **_SEARCH_TERMS,
    **_MAP_TERMS,
    **_TASK_TERMS,
    f"{PERIOD_REPORT} (thẻ «Tổng quan»)": _PERIOD_REPORT_MEANING,
    NEW_OR_RECURRED_LABEL: f"lọc danh sách điểm nóng: điểm mới vào danh sách hoặc điểm {RECURRED_WORDS} hôm nay, trong"
    f" 7 hay 30 ngày qua; dòng của điểm {RECURRED_WORDS} ghi «{RECURRED_WORDS}» kèm ngày",
    "Tổ đã giải thể": "trong ô lọc «Tổ công tác» của danh sách điểm nóng và nhiệm vụ, sau các tổ đang hoạt động: tổ"
    " đã giải thể còn nhiệm vụ cũ, để tra cứu (chọn tổ, nhãn của ô ghi ngày giải thể); không giao việc được cho tổ này",
    COMMAND_TIP: f"ghi một tin báo, tố giác thành điểm nóng «{HotspotStatus.DETECTED.label}»: bấm vào bản đồ hoặc gõ"
    f" tọa độ, {_TIP_MEANING}",
    f"{DETECTION_TITLE} (thẻ «Tổng quan»)": "gom các vụ việc của những ngày gần nhất thành cụm (các vụ cách nhau"
    f" không quá {vn_number(DetectionParams.eps_m)} m, đủ số vụ tối thiểu chọn theo mật độ nền để cả bản đồ dự kiến"
    f" dưới {vn_number(SPURIOUS_PER_MAP)} cụm chỉ do ngẫu nhiên), so mỗi cụm với {vn_number(SIMULATIONS)} bản đồ mô"
    f" phỏng và bỏ cụm không vượt nền ngẫu nhiên; cụm mới thành điểm «{HotspotStatus.DETECTED.label}», cụm ở điểm đã"
    f" xóa bỏ làm điểm đó «{HotspotStatus.RECURRED.label}», điểm không còn cụm qua"
    f" {vn_number(DetectionParams.dormant_windows)} kỳ thành «{HotspotStatus.DORMANT.label}»; «{DETECTION_CHECK}» chỉ"
    " cho biết kết quả, không ghi gì; lần chạy ghi vào sổ mang tên người chạy và không được lùi về trước lần chạy gần nhất",
    "vụ/km²": "mật độ: số vụ việc trên một ki-lô-mét vuông; mỗi vụ được tính lan ra quanh nơi xảy ra, khoảng cách"
    " lan ghi dưới thang màu (trên máy tính, di chuột lên dòng đó để xem cỡ ô và độ rộng σ — điện thoại không hiện"
    f" được, xem «{DENSITY_SPREAD}» ngay dưới đây: σ bằng cỡ ô, ít nhất 200 m)",
    DENSITY_SPREAD: "«Lan mềm, xa dần»: nhân Gauss, độ rộng σ bằng cỡ ô và ít nhất 200 m, tương đương bán kính tìm kiếm"
    " bậc bốn kiểu ArcGIS ≈ 2,83σ; «Trong bán kính cố định»: nhân bậc bốn kiểu ArcGIS, mỗi vụ chỉ tính trong bán kính"
    " tìm kiếm r ≈ 2,83σ",
    GISTAR_TITLE: "thống kê Getis-Ord Gi*: ô nóng có nhiều vụ việc hơn hẳn xung quanh, ô lạnh ít hơn hẳn, với độ tin"
    " cậy 90, 95 hoặc 99 % (z ghi khi chạm hoặc di chuột lên ô: càng xa 0 càng khác xung quanh); tin cậy 95 %: trong các ô tô ở"
    " mức đó, dự kiến dưới 5 % chỉ do ngẫu nhiên; vì so hàng nghìn ô cùng lúc, ngưỡng p được hạ theo số ô,"
    " nên p của ô được tô nhỏ hơn 0,05 nhiều; ô không tô: không có ý nghĩa thống kê; ô và vụ việc theo chú giải của lớp",
    EMERGING_TITLE: "phân tích điểm nóng theo thời gian kiểu ArcGIS: thống kê Gi* của từng ô qua từng kỳ, xếp mỗi ô vào"
    f" một trong 17 dạng (bảng «{EMERGING_TITLE}: các dạng»); «ngày càng nóng hơn», «đang bớt nóng»: z của ô"
    " tăng, giảm theo các kỳ, có ý nghĩa ở mức 95 %; kỳ, cỡ ô và vụ việc được tính: xem chú giải của lớp",
    "Ngoài địa bàn hiện tại của tổ": "nhiệm vụ tổ còn giữ ở một xã/phường quản trị đã chuyển sang địa bàn tổ khác"
    " (theo địa bàn có hiệu lực hôm nay); tổ mới phụ trách không thấy nhiệm vụ này: khi tổ cũ chưa bắt đầu làm, hãy"
    " giao lại cho tổ đang phụ trách; ô «Ngoài địa bàn của tổ» trong sổ nhiệm vụ lọc ra các nhiệm vụ này, trong sổ điểm nóng"
    " các điểm có nhiệm vụ mới nhất như vậy",
    **{f"«{words}»": meaning for words, meaning in KPI_BLANK_MEANINGS.items()},
}
_TEAM_TERMS = {
    TEAM_TIP: "báo một nơi nghi có mua bán, tụ tập sử dụng ma túy trong địa bàn của tổ: vị trí lấy từ GPS của điện"
    " thoại (chỉ được khi trang mở qua kết nối bảo mật) hoặc chạm vào bản đồ; " + _TIP_MEANING + "; ban chỉ huy"
    " xác minh",
    "Điểm tổ đã báo": "các điểm thành viên của tổ đã báo trong địa bàn mà chưa thành nhiệm vụ của tổ, kèm thời điểm,"
    " người báo, mô tả và tình trạng (ví dụ «chờ chỉ huy xem xét»); báo một điểm trong vòng 50 m quanh điểm đã báo"
    " (cả điểm đang chờ gửi trên máy), trang hỏi lại trước khi gửi",
    "Chờ gửi": "khi điện thoại mất sóng, ghi chú, ảnh, các nút như «Thực hiện», «Báo cáo hoàn thành» và báo điểm mới"
    " được lưu trên máy, hiện «Chờ gửi» (trên thẻ nhiệm vụ, trong «Điểm tổ đã báo») và tự gửi theo đúng thứ tự khi có"
    " sóng lại (hoặc bấm «Gửi ngay»); gửi lại không bị ghi trùng; thay đổi bị máy chủ từ chối được báo kèm lý do và bỏ"
    " khỏi hàng chờ; đăng xuất sẽ xóa các thay đổi chưa gửi trên máy",
}
_PLANNER_TERMS = {
    "Kết quả": "loại của xã theo tiêu chí (sau điều chỉnh, nếu có); đây là kết quả được phê duyệt",
    "Mô hình": "nhóm do mô hình thống kê gợi ý từ các chỉ số, chỉ để đối chiếu: ba nhóm — không ma túy, có tệ nạn"
    " ma túy, trọng điểm — không chia loại I–III; «—»: xã thiếu chỉ số, mô hình không xếp được",
    "Cần xem": "«khác mô hình»: kết quả (sau điều chỉnh, nếu có) khác nhóm mô hình gợi ý — «Trọng điểm» của mô hình"
    " khớp mọi loại trọng điểm; «thay đổi»: khác năm trước đã phê duyệt",
    MISSING_DATA_LABEL: "chỉ số trống là chưa biết (không phải số 0); liệt kê các tiêu chí chưa xét được, ví dụ"
    " «loại I (a)» là tiêu chí (a) của loại I",
    PERIOD_REPORT: _PERIOD_REPORT_MEANING,
    "Phê duyệt kết quả năm": "nguyên tắc bốn mắt (bật mặc định): người đã chạy bản nháp (cả bản hiệu chỉnh) và người đã"
    " điều chỉnh xã nào trong đó không được tự phê duyệt — nút này bị tắt với họ, dòng trạng thái ghi tên họ; một cán"
    " bộ tham mưu khác xem xét rồi phê duyệt. Đơn vị chỉ có một cán bộ tham mưu thì quản trị hệ thống có thể tắt"
    " nguyên tắc này",
    "Lịch sử phiên bản": "mọi phiên bản phân loại của năm, mới nhất ở trên, kể cả bản nháp «Đã bỏ», «Đã thay thế»"
    " (không sửa, không xóa được): ai chạy, phê duyệt, bỏ và khi nào, từng điều chỉnh (xã, loại trước và sau, lý do);"
    " điều chỉnh in mờ là điều chỉnh đã bị một điều chỉnh sau của cùng xã thay, ghi ai thay và khi nào",
}
_ADMIN_TERMS = {
    "Nhật ký truy cập": "ai đã xem hoặc xuất dữ liệu chi tiết, khi nào, bao nhiêu dòng; dòng nhỏ bên dưới là điều"
    f" kiện đã dùng, ghi bằng tiếng Việt (ví dụ «{FIELD_LABELS['kind']}={IncidentKind.TIP.label}»,"
    f" «{FIELD_LABELS['from']}=01/03/2026»); nhiều giá trị nối bằng «hoặc»",
    "Có hiệu lực từ ngày": "địa bàn mới của tổ áp dụng từ ngày này; địa bàn cũ được giữ trong «Lịch sử địa bàn»",
    "Bị khóa đến …": "nhập sai mật khẩu nhiều lần nên tạm khóa đăng nhập đến giờ ghi bên cạnh; quản trị có thể mở khóa",
}


#: A word holding a figure (a date, a decision's number «28/2025/QĐ-TTg»): kept on one line, as the tables' days are.
_FIGURE = re.compile(r"\S*\d\S*")


def _prose(text: str) -> str:
    """A meaning as HTML: escaped, each word holding a figure unbroken (on a 360 px phone «28/2025/QĐ-TTg» broke at
    its hyphen, the decision's number split over two lines)."""
    return _FIGURE.sub(lambda m: f'<span class="figure">{m.group(0)}</span>', escape(text))


def _state_rows(
    machine: str,
    states: Iterable[str],
    labels: Mapping[str, str],
    meanings: Mapping[str, str],
    steps: Mapping[str, list[Step]],
    palette: str | None,
) -> str:
    """One row per state of a machine ('hotspot', 'task'; the row's data-hotspot / data-task attribute): swatch (when
    the state has a colour on the map), label, meaning, who moves it next."""
    rows = []
    for state in states:
        swatch = f'<i class="swatch dot {swatch_class(palette, state)}"></i> ' if palette else ""
        rows.append(
            f'<tr data-{machine}="{state}"><th scope="row">{swatch}{escape(labels[state])}</th>'
            f"<td>{_prose(meanings[state])}</td><td>{_next_steps(steps[state], labels)}</td></tr>"
        )
    return "".join(rows)


def _next_steps(steps: list[Step], labels: Mapping[str, str]) -> str:
    """Who does what next, one line per actor ('Ban chỉ huy → «Đã xác minh», «…»'); 'kết thúc' when nothing."""
    if not steps:
        return "Kết thúc (không chuyển tiếp)."
    by_actor: dict[str, list[str]] = {}
    for step in steps:
        via = f" (khi nhiệm vụ «{step.via_task}»)" if step.via_task else ""
        by_actor.setdefault(step.actor, []).append(f"«{labels[step.target]}»{via}")
    return "<br>".join(f"{escape(actor)} → {escape(', '.join(targets))}" for actor, targets in by_actor.items())


def _table(caption: str, head: tuple[str, ...], body: str) -> str:
    """A help table with its caption and column headings."""
    cells = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    return f'<table class="help-table"><caption>{escape(caption)}</caption><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def hotspot_help() -> str:
    """Every hotspot status: colour, label, meaning, who moves it next."""
    steps = {s: hotspot_steps(HOTSPOT_LIFECYCLE, s) for s in HotspotStatus.values()}
    body = _state_rows(
        "hotspot", HotspotStatus.values(), HotspotStatus.labels(), HOTSPOT_STATUS_MEANINGS, steps, "status"
    )
    return _table("Điểm nóng: trạng thái và bước tiếp theo", ("Trạng thái", "Nghĩa là", "Ai làm gì tiếp"), body)


def task_help() -> str:
    """Every task state: label, meaning, who moves it next."""
    steps = {s: task_steps(s) for s in TaskState.values()}
    body = _state_rows("task", TaskState.values(), TaskState.labels(), TASK_STATE_MEANINGS, steps, None)
    return _table("Nhiệm vụ: trạng thái và bước tiếp theo", ("Trạng thái", "Nghĩa là", "Ai làm gì tiếp"), body)


def _described(caption: str, head: tuple[str, str], items: Iterable[tuple[str, str]]) -> str:
    """A two-column help table: a term and what it means."""
    body = "".join(f'<tr><th scope="row">{escape(term)}</th><td>{_prose(meaning)}</td></tr>' for term, meaning in items)
    return _table(caption, head, body)


def _terms(terms: Mapping[str, str]) -> str:
    """The page's abbreviations and terms."""
    return _described("Từ viết tắt, thuật ngữ", ("Từ", "Nghĩa là"), terms.items())


def _class_meaning(category: str, level: str | None) -> str:
    """What a final class means: its category's meaning, and for a trọng điểm commune how serious its level is."""
    return f"{CATEGORY_MEANINGS[category]}, {LEVEL_MEANINGS[level]}" if level else CATEGORY_MEANINGS[category]


def class_help() -> str:
    """The yearly classes (colour, name, meaning) and the states of a year's classification."""
    rows = "".join(
        f'<tr><th scope="row"><i class="swatch {swatch_class("class", class_key(category, level))}"></i> '
        f"{escape(CLASS_LABELS[class_key(category, level)])}</th><td>{_prose(_class_meaning(category, level))}</td></tr>"
        for category, level in reversed(CLASS_CHOICES)
    )
    classes = _table("Phân loại xã, phường, đặc khu trong năm", ("Loại", "Nghĩa là"), rows)
    runs = _described(
        "Kết quả phân loại của một năm",
        ("Trạng thái", "Nghĩa là"),
        [
            *((RunStatus(s).label, m) for s, m in RUN_STATUS_MEANINGS.items()),
            *((DraftEnd(s).label, m) for s, m in DRAFT_END_MEANINGS.items()),
        ],
    )
    return classes + runs


def pattern_help() -> str:
    """The emerging layer's 17 outcomes: colour, label and what each means (one row each, data-pattern)."""
    body = "".join(
        f'<tr data-pattern="{p}"><th scope="row"><i class="swatch {swatch_class("emerging", p)}"></i> '
        f"{escape(PATTERN_LABELS_VI[p])}</th><td>{_prose(PATTERN_MEANINGS_VI[p])}</td></tr>"
        for p in PATTERNS
    )
    return _table(f"{EMERGING_TITLE}: các dạng", ("Dạng", "Nghĩa là"), body)


def role_help() -> str:
    """What each role does (which one to give a new user)."""
    return _described(
        "Vai trò người dùng", ("Vai trò", "Được làm gì"), ((Role(r).label, m) for r, m in ROLE_MEANINGS.items())
    )


#: The help of each page, by the page's role: its sections, in the order shown.
_SECTIONS = {
    Role.COMMAND: lambda: hotspot_help() + task_help() + _terms(_COMMAND_TERMS) + pattern_help(),
    Role.TEAM: lambda: (
        task_help() + hotspot_help() + _terms({**_SEARCH_TERMS, **_MAP_TERMS, **_TASK_TERMS, **_TEAM_TERMS})
    ),
    Role.PLANNER: lambda: class_help() + _terms(_PLANNER_TERMS),
    Role.ADMIN: lambda: role_help() + _terms(_ADMIN_TERMS),
}


def help_panel(role: str) -> str:
    """The page's «Hướng dẫn», folded: what its statuses, classes or roles mean and who does what next, and where
    one's password is changed."""
    return (
        '<details class="help" id="help"><summary>Hướng dẫn</summary><div class="help-body">'
        f"{_SECTIONS[Role(role)]()}<p>Đổi mật khẩu: bấm vào tên đăng nhập của bạn trên thanh đầu trang.</p>"
        "</div></details>"
    )
