"""The side panels of the working pages (Vietnamese HTML); the page scripts fill them from the JSON API."""

from __future__ import annotations

from html import escape

from maps.help import COMMAND_TIP, DENSITY_SPREAD, DETECTION_TITLE, EMERGING_TITLE, GISTAR_TITLE, TEAM_TIP, help_panel
from maps.styles import (
    class_legend,
    emerging_legend,
    gistar_legend,
    heat_legend,
    incident_legend,
    size_legend,
    status_legend,
    team_legend,
)
from models.analytics.detection import MAX_WINDOW_DAYS, DetectionParams
from models.domain.hotspot_lifecycle import MANUAL_NOTE_CHARS
from models.forecast.learned import FORECAST_NOTE
from models.numbers import vn_number
from models.vocabulary import (
    DETECTION_CHECK,
    FORECAST_HEADER,
    LEAVING_DRUG_FREE_LABEL,
    NEW_OR_RECURRED_LABEL,
    RECURRED_WORDS,
    AccessedData,
    HotspotKind,
    HotspotStatus,
    IncidentKind,
    OutsidePolicy,
    Role,
    TaskState,
)

DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}"


def _date_input(name: str, label: str, day: str | None = None) -> str:
    """A dd/mm/yyyy text field (the browser's own date widget would follow the browser's locale); ``day``: the field's
    name in an error, for an import form that sends it as an ISO day (common.js importBody)."""
    marked = f' data-day="{escape(day)}"' if day else ""
    return (
        f'<label>{escape(label)} <input name="{name}" placeholder="dd/mm/yyyy" pattern="{DATE_PATTERN}" '
        f'inputmode="numeric" title="Ngày theo dạng dd/mm/yyyy"{marked}></label>'
    )


def _options(labels: dict[str, str], empty: str) -> str:
    """<option>s of a filter: the empty choice first, then each code with its Vietnamese label."""
    return f'<option value="">{escape(empty)}</option>' + "".join(
        f'<option value="{code}">{escape(label)}</option>' for code, label in labels.items()
    )


def _register_filters(form_id: str, state_name: str, states: str, extra: str = "") -> str:
    """Filters of a register list: state, commune (typed, with suggestions), team, overdue, waiting for acceptance, held
    by its team outside the team's area today (the API's ``outside_area``: a commune an administrator moved to another
    team's area), and the list's own (``extra``)."""
    return f"""<form id="{form_id}" class="register-filters">
        <label>Trạng thái <select name="{state_name}">{states}</select></label>
        <label>Xã/phường <input name="commune" list="commune-names" placeholder="Gõ tên để tìm"></label>
        <label class="wide">Tổ công tác <span class="team-gone"></span> <select name="team"><option value="">Tất cả các tổ</option></select></label>
        <label class="check"><input type="checkbox" name="overdue"> Quá hạn</label>
        <label class="check"><input type="checkbox" name="awaiting"> Chờ nghiệm thu</label>
        <label class="check"><input type="checkbox" name="outside_area"> Ngoài địa bàn của tổ</label>
        {extra}
      </form>"""


#: The hotspot register's NEW_OR_RECURRED_LABEL choices: the last N local days (today the first; the API's ``new_days``).
NEW_DAYS = {1: "Hôm nay", 7: "7 ngày qua", 30: "30 ngày qua"}
#: Its «Gần đây» choices: metres around the chosen place (the API's ``within_m``).
NEAR_METRES = {500: "500 m", 1000: "1 km", 2000: "2 km"}


def _new_and_near() -> str:
    """The hotspot register's NEW_OR_RECURRED_LABEL filter (entered the register, or recurred, today, in the last 7 or 30 days) and
    «Gần đây» (within some metres of the place searched on the map, the phone's position or the map's centre;
    command.js fills the place)."""
    new = "".join(f'<option value="{days}">{escape(label)}</option>' for days, label in NEW_DAYS.items())
    near = "".join(f'<option value="{metres}">{escape(label)}</option>' for metres, label in NEAR_METRES.items())
    return f"""<div class="new-near">
          <label>{NEW_OR_RECURRED_LABEL} <select name="new_days"><option value="">Mọi lúc</option>{new}</select></label>
          <label>Gần đây <select name="within_m"><option value="">Mọi nơi</option>{near}</select></label>
        </div>
        <div class="near-place">
          <button type="button" name="locate">Vị trí của tôi</button>
          <button type="button" name="centre">Giữa bản đồ</button>
          <p class="hint" id="near-place" aria-live="polite">Quanh nơi vừa tìm trên bản đồ (ô Tìm: tên xã, tọa độ),
            vị trí của bạn hoặc giữa bản đồ</p>
        </div>"""


def _tabs(*tabs: tuple[str, str]) -> str:
    """The tab bar of a panel: (name, Vietnamese title), each tab controlling its section ``tab-<name>``; the first tab is
    shown first and alone in the Tab order (common.js panelTabs switches them, by click or arrow keys)."""
    buttons = "".join(
        f'<button type="button" role="tab" id="tabbtn-{name}" data-tab="{name}" aria-controls="tab-{name}"'
        f' aria-selected="{str(i == 0).lower()}" tabindex="{0 if i == 0 else -1}">{title}</button>'
        for i, (name, title) in enumerate(tabs)
    )
    return f'<nav class="tabs" role="tablist">{buttons}</nav>'


def _columns(*columns: tuple[str, str]) -> str:
    """Sortable header cells: the sort key and the Vietnamese heading of each column."""
    return "".join(
        f'<th data-sort="{key}" tabindex="0" title="Bấm để sắp xếp">{escape(label)}</th>' for key, label in columns
    )


def _import_form(form_id: str, title: str, accept: str, hint: str, extra: str = "", sheet: bool = True) -> str:
    """A folded form uploading an import file (common.js importForm sends it), and the place its report is shown:
    the summary line, warnings, and the rows refused, left out as duplicates or kept but flagged. «Kiểm tra tệp»
    sends the file for a dry run first (common.js fileCheck): what the import would do, nothing written. ``sheet``:
    the worksheet field, for imports that read Excel files."""
    sheet_field = (
        '<label>Trang tính (chỉ với tệp Excel; để trống: trang đầu tiên không ẩn) <input name="sheet" maxlength="200">'
        "</label>"
        if sheet
        else ""
    )
    return f"""<details class="import" id="{form_id}-box"><summary>{escape(title)}</summary>
        <form id="{form_id}" class="stack import-form" novalidate>
          <label>Tệp <input name="file" type="file" accept="{accept}"></label>
          {sheet_field}
          {extra}
          <div class="import-buttons"><button type="button" name="check">Kiểm tra tệp</button>
            <button type="submit">Tải lên và nhập</button></div>
        </form>
        <p class="hint">{escape(hint)}</p>
        <div id="{form_id}-report" class="import-report" hidden></div>
      </details>"""


def _tip_form(title: str, send: str, gps: bool) -> str:
    """A folded form reporting a hotspot from a tip or a patrol (common.js tipForm sends it): where — the device's
    position (``gps``, the team's phone), a click on the map, or coordinates typed as users copy them —, the kind, and
    a short description without names (the system keeps no names of people who use drugs)."""
    locate = '<button type="button" name="locate">Dùng vị trí hiện tại (GPS)</button>' if gps else ""
    kinds = "".join(f'<option value="{code}">{escape(label)}</option>' for code, label in HotspotKind.labels().items())
    return f"""<details class="tip" id="tip-box"><summary>{escape(title)}</summary>
        <form id="tip-form" class="stack" novalidate>
          <div class="tip-where">{locate}<button type="button" name="pick">Chọn trên bản đồ</button></div>
          <label>Tọa độ (vĩ độ, kinh độ) <input name="where" autocomplete="off" placeholder="20.86, 106.68"
            title="Số thập phân như khi sao chép từ ứng dụng bản đồ, ví dụ 20.86, 106.68 hoặc 20,86; 106,68"></label>
          <p class="hint tip-place" aria-live="polite">Chưa chọn vị trí</p>
          <label>Loại điểm <select name="kind">{kinds}</select></label>
          <label>Mô tả ngắn (bắt buộc) <textarea name="note" maxlength="{MANUAL_NOTE_CHARS}" data-draft="tip-note"
            placeholder="Nơi, dấu hiệu, thời gian: ví dụ «quán nước đầu ngõ 12, tụ tập ban đêm»"></textarea></label>
          <p class="hint">Không ghi tên người sử dụng ma túy hay người bị tố giác: hệ thống không lưu tên người
            (tên đường, địa danh ghi kèm «phố», «đường», «ngõ»).</p>
          <input type="hidden" name="key" data-draft="tip-key">
          <button type="submit">{escape(send)}</button>
        </form></details>"""


#: The periodic report's quick picks, each ending today (Hải Phòng's day; period.js computes the first day, and names
#: the half year: «6 tháng cuối năm» from July) but last month, whole — the monthly report (it was typed by hand).
PERIOD_PICKS = {
    "week": "Tuần này",
    "month": "Tháng này",
    "last_month": "Tháng trước",
    "quarter": "Quý này",
    "half": "6 tháng đầu năm",
    "year": "Năm nay",
}


def period_report_form() -> str:
    """«Báo cáo định kỳ» (command and planner pages; period.js fills it): a quick pick of the period or its first and
    last days typed dd/mm/yyyy, the table of its figures beside the same period of the previous year, the day the
    incident data reaches and the warning when the period goes on past it (with last year's days its incidents are
    then compared with), and the Excel file of the same report."""
    picks = "".join(
        f'<button type="button" class="secondary" data-period="{key}">{escape(label)}</button>'
        for key, label in PERIOD_PICKS.items()
    )
    return f"""<details class="period-report" id="period-report"><summary>Báo cáo định kỳ</summary>
        <p class="hint">Số liệu của kỳ báo cáo so với cùng kỳ năm trước (ngày 29/02 được so với ngày 28/02 năm trước).</p>
        <div class="toolbar" role="group" aria-label="Chọn nhanh kỳ báo cáo">{picks}</div>
        <form id="period-form" class="register-filters" novalidate>
          {_date_input("from", "Từ ngày")}{_date_input("to", "Đến ngày")}
          <button type="submit">Xem báo cáo</button>
        </form>
        <p class="register-count" id="period-summary"></p>
        <p class="register-count" id="period-data-until" hidden></p>
        <p class="period-gap" id="period-data-gap" role="note" hidden></p>
        <p class="period-gap" id="period-compared" role="note" hidden></p>
        <p class="downloads"><a id="period-xlsx" hidden>Tải về báo cáo định kỳ (Excel)</a></p>
        <table class="register period" id="period-table" hidden><thead><tr><th scope="col">Nội dung</th>
          <th scope="col">Kỳ báo cáo</th><th scope="col">Cùng kỳ năm trước</th><th scope="col">Tăng, giảm</th></tr></thead>
          <tbody></tbody></table></details>"""


def command_panel() -> str:
    """Tabs: overview (KPIs, filters, an incident file's upload, month slider, legends), the hotspot and task
    registers, the inbox."""
    kinds = "".join(
        f'<label><input type="checkbox" name="kind" value="{k}"> {escape(v)}</label>'
        for k, v in IncidentKind.labels().items()
    )
    tabs = _tabs(
        ("overview", "Tổng quan"),
        ("hotspots", "Điểm nóng"),
        ("tasks", "Nhiệm vụ"),
        ("inbox", 'Hộp thư <b id="inbox-count" class="badge"></b>'),
    )
    hotspot_states = _options(dict(HotspotStatus.labels()), "Mọi trạng thái")
    task_states = _options(dict(TaskState.labels()), "Mọi trạng thái")
    hotspot_columns = _columns(
        ("id", "Số"), ("status", "Trạng thái"), ("commune", "Xã/phường"), ("team", "Tổ"), ("due", "Hạn")
    )
    task_columns = _columns(
        ("id", "Số"), ("state", "Trạng thái"), ("commune", "Xã/phường"), ("team", "Tổ"), ("due", "Hạn")
    )
    outside = "".join(
        f'<option value="{code}">{escape(label)}</option>' for code, label in OutsidePolicy.labels().items()
    )
    incident_import = _import_form(
        "incident-import",
        "Nhập vụ việc từ tệp…",
        ".csv,.txt,.xlsx,.geojson,.json",
        "CSV, văn bản Unicode, Excel (.xlsx) hoặc GeoJSON, như lệnh «diaban incidents import»: vụ việc đã có (cùng số"
        " hiệu) không nhập lại; mỗi dòng lỗi được báo kèm số dòng và lý do.",
        f'<label>Điểm nằm ngoài mọi xã/phường <select name="outside">{outside}</select></label>',
    )
    detection = f"""<details class="import" id="detection-box"><summary>{DETECTION_TITLE}…</summary>
        <form id="detection-form" class="stack" novalidate>
          <label>Số ngày gần nhất <input name="days" inputmode="numeric" maxlength="5"
            value="{DetectionParams.window_days}" data-max="{MAX_WINDOW_DAYS}"></label>
          {_date_input("end", "Đến ngày (để trống: ngày có vụ việc mới nhất)")}
          <div class="import-buttons"><button type="button" name="check">{DETECTION_CHECK}</button>
            <button type="submit">Chạy và cập nhật sổ điểm nóng</button></div>
        </form>
        <p class="hint">Như lệnh «diaban hotspots detect»: gom các vụ việc của khoảng ngày thành cụm (trong
          {vn_number(DetectionParams.eps_m)} m), bỏ các cụm có thể chỉ do ngẫu nhiên, rồi cập nhật sổ: điểm mới, điểm
          {RECURRED_WORDS}, điểm tạm lắng. «{DETECTION_CHECK}» cho biết kết quả mà chưa ghi gì. Lần chạy ghi tên người
          chạy.</p>
        <div id="detection-report" class="import-report" hidden></div>
      </details>"""
    return f"""<main class="panel"><div id="message" class="message" role="status" aria-live="polite"></div>
      {help_panel(Role.COMMAND)}
      {tabs}
      <datalist id="commune-names"></datalist>
      <section id="tab-hotspots" class="tab" hidden>
        <h2 class="visually-hidden">Sổ điểm nóng</h2>
        {_tip_form(f"{COMMAND_TIP}…", "Xác nhận, thêm vào sổ điểm nóng", gps=False)}
        {_register_filters("hotspot-filters", "status", hotspot_states, _new_and_near())}
        <p class="register-count" id="hotspot-count">Đang tải…</p>
        <table class="register" id="hotspot-table"><thead><tr>{hotspot_columns}</tr></thead><tbody></tbody></table>
      </section>
      <section id="tab-tasks" class="tab" hidden>
        <h2 class="visually-hidden">Sổ nhiệm vụ</h2>
        <details class="new-task"><summary>Giao nhiệm vụ chuyển hóa địa bàn…</summary>
          <form id="conversion-form" class="register-filters" novalidate>
            <label>Xã/phường <input name="commune" list="commune-names" placeholder="Gõ tên để tìm"></label>
            <label>Năm <input name="year" inputmode="numeric" maxlength="4"></label>
            <label class="wide">Tổ công tác (gợi ý: ít việc đang mở nhất) <select name="team" disabled>
              <option value="">— chọn xã/phường trước —</option></select></label>
            <label>Hạn <input name="due" placeholder="dd/mm/yyyy" inputmode="numeric"></label>
            <input type="hidden" name="key">
            <button type="submit">Giao nhiệm vụ</button>
          </form>
        </details>
        {_register_filters("task-filters", "state", task_states)}
        <p class="register-count" id="task-count">Đang tải…</p>
        <table class="register" id="task-table"><thead><tr>{task_columns}</tr></thead><tbody></tbody></table>
      </section>
      <section id="tab-inbox" class="tab" hidden>
        <h2 class="visually-hidden">Hộp thư</h2>
        <p class="hint">Điểm các tổ báo mới còn chờ xác minh (đứng đầu), việc tổ công tác báo hoàn thành hoặc từ chối, và ghi chú của các tổ (mới nhất trước).</p>
        <ul id="inbox" class="inbox"></ul>
      </section>
      <section id="tab-overview" class="tab">
      <h2>Chỉ số</h2>
      <div class="kpi"><span id="kpi-drug-free-label">Tỷ lệ xã không ma túy</span><b id="kpi-drug-free">—</b></div>
      <div class="kpi"><span id="kpi-target-label">Mục tiêu năm nay</span><b id="kpi-target">—</b></div>
      <div class="kpi"><span id="kpi-final-label">Mục tiêu cuối lộ trình</span><b id="kpi-final">—</b></div>
      <div class="kpi-note" id="kpi-note"></div>
      <div class="kpi"><span id="kpi-recurred-label">Điểm {RECURRED_WORDS} trong năm</span><b id="kpi-recurred">—</b>
        </div>
      <div class="kpi"><span>Nhiệm vụ các tổ đang giữ</span><b id="kpi-open">—</b></div>
      <div class="kpi"><span id="kpi-overdue-label">Nhiệm vụ quá hạn</span><b><a href="#" id="kpi-overdue"
        aria-labelledby="kpi-overdue-label kpi-overdue">—</a></b></div>
      <div class="kpi"><span id="kpi-awaiting-label">Chờ nghiệm thu</span><b><a href="#" id="kpi-awaiting"
        aria-labelledby="kpi-awaiting-label kpi-awaiting">—</a></b></div>
      <div class="kpi"><span id="kpi-outside-label">Nhiệm vụ nằm ngoài địa bàn hiện tại của tổ</span><b><a href="#"
        id="kpi-outside" aria-labelledby="kpi-outside-label kpi-outside">—</a></b></div>
      <div class="kpi"><span>Phân loại xã trên bản đồ</span><b id="classes-year">—</b></div>
      {period_report_form()}
      <h2>Lọc vụ việc</h2>
      <form id="filters" novalidate>
        {_date_input("from", "Từ ngày")}{_date_input("to", "Đến ngày")}
        <div class="kinds">{kinds}</div>
        <label title="Nhân mật độ: Gauss, độ rộng σ (mặc định), hoặc bậc bốn kiểu ArcGIS, bán kính tìm kiếm ≈ 2,83σ"
          >{DENSITY_SPREAD} <select name="kernel">
          <option value="gaussian">Lan mềm, xa dần (mặc định)</option>
          <option value="quartic">Trong bán kính cố định</option></select></label>
        <button type="submit">Áp dụng</button>
      </form>
      {incident_import}
      {detection}
      <h2>Theo tháng</h2>
      <input id="month" type="range" min="0" max="24" value="0" aria-label="Chọn tháng">
      <div id="month-label">Mọi ngày (chưa chọn khoảng ngày)</div>
      <h2>Chú giải</h2>
      <p class="hint">Thứ tự lớp từ dưới lên: phân loại xã, mật độ, ô nóng, ô lạnh và xu hướng, vụ việc, điểm nóng, tên xã.</p>
      <details open class="legend" data-layer="hotspots"><summary>Điểm nóng theo trạng thái</summary>{status_legend()}
        {size_legend()}</details>
      <details open class="legend" data-layer="heat"><summary>Mật độ vụ việc (vụ/km²)</summary>{heat_legend()}</details>
      <details class="legend" data-layer="incidents"><summary>Vụ việc</summary>{incident_legend()}</details>
      <details class="legend" data-layer="classes"><summary>Phân loại xã</summary>{class_legend()}</details>
      <details class="legend" data-layer="gistar"><summary>{GISTAR_TITLE}</summary>{gistar_legend()}</details>
      <details class="legend" data-layer="emerging"><summary>{EMERGING_TITLE}</summary>
        {emerging_legend()}</details>
      </section>
    </main>"""


def team_panel() -> str:
    """The team's notices (work given, accepted, returned, taken away or cancelled, command's comments), a new spot to
    report, the spots it reported that are not yet its tasks, and its tasks: where, what to do now, progress notes with
    photos, history; above them, while changes made without signal wait on the phone, how many and «Gửi ngay» (team.js)."""
    return f"""<main class="panel"><div id="message" class="message" role="status" aria-live="polite"></div>
      <div id="queue-bar" class="queue-bar" hidden><span class="queue-count"></span> <small class="queue-state"></small>
        <button type="button">Gửi ngay</button></div>
      {help_panel(Role.TEAM)}
      <details id="notices" open><summary>Thông báo <b id="inbox-count" class="badge"></b></summary>
        <ul id="inbox" class="inbox"><li class="none">Đang tải…</li></ul></details>
      {_tip_form(TEAM_TIP, "Gửi báo điểm mới", gps=True)}
      <details id="reports"><summary>Điểm tổ đã báo, chưa thành nhiệm vụ <small id="report-count"></small>
        <b id="report-waiting" class="badge"></b></summary>
        <ul id="report-list" class="inbox"><li class="none">Đang tải…</li></ul></details>
      <h2>Nhiệm vụ của tổ <small id="task-count"></small>
        <button type="button" id="reload-tasks" class="link">Tải lại danh sách</button></h2>
      <label class="check"><input type="checkbox" id="show-finished"> Hiện cả nhiệm vụ đã nghiệm thu, đã hủy,
        đã từ chối</label>
      <div id="tasks">Đang tải…</div>
      <details class="legend" data-layer="tasks"><summary>Chú giải bản đồ</summary>{team_legend()}</details></main>"""


def planner_panel(years: list[int]) -> str:
    """Year choice, running the classification, approval (four eyes) or discarding the draft, the upload of a yearly indicator table,
    downloads, the year-over-year comparison, the history of the year's versions and the searchable, sortable review
    table linked to the map, with the next-year forecast beside the legal class and a note on what it is (a planning aid,
    not a class under the decision). ``review-part`` (the filters, the forecast's note and the table) and the
    comparison are hidden when the year's run holds none of the reader's units: the status line says so, once."""
    options = "".join(f'<option value="{y}">{y}</option>' for y in years)
    columns = _columns(
        ("name", "Xã/phường"),
        ("final", "Kết quả"),
        ("model", "Mô hình"),
        ("previous", "Năm trước"),
        ("forecast", FORECAST_HEADER),
        ("review", "Cần xem"),
    )
    indicator_import = _import_form(
        "indicator-import",
        "Nhập chỉ số năm",
        ".csv,.txt,.xlsx",
        "Bảng chỉ số theo xã (CSV, văn bản Unicode hoặc Excel .xlsx), như lệnh «diaban indicators import»: số liệu"
        " của mỗi dòng hợp lệ thay số liệu đã có của xã đó trong năm đó (xã không có trong tệp, hoặc có dòng bị từ chối,"
        " giữ số liệu cũ); chạy lại phân loại năm để dùng số liệu mới.",
    )
    return f"""<main class="panel"><div id="message" class="message" role="status" aria-live="polite"></div>
      {help_panel(Role.PLANNER)}
      <h2>Phân loại xã, phường, đặc khu</h2>
      <div class="toolbar">
        <label>Năm <select id="year">{options}</select></label>
        <button type="button" id="approve" data-focus-after="run-status">Phê duyệt kết quả năm</button>
        <button type="button" id="discard" hidden>Bỏ bản nháp</button>
        <form id="run-form" class="inline">
          <label>Chạy phân loại năm <input id="run-year" name="year" type="number" min="2000" max="2100" required></label>
          <button type="submit">Chạy</button>
        </form>
      </div>
      <p id="run-status">—</p>
      {indicator_import}
      <p class="downloads">Tải về: phân loại <a id="download-csv">CSV</a> · <a id="download-geojson">GeoJSON</a> ·
        <a id="download-xlsx">Excel</a> — <a id="download-kpi"><b>Báo cáo chỉ tiêu (Excel)</b></a></p>
      {period_report_form()}
      <details id="diff" open><summary>So sánh với năm trước đã phê duyệt</summary>
        <p id="diff-summary"></p>
        <table class="register diff"><thead><tr><th>Loại</th><th>Năm trước</th><th>Năm này</th><th>Chênh lệch</th>
          </tr></thead><tbody id="diff-table"></tbody></table></details>
      <details id="history"><summary>Lịch sử phiên bản</summary>
        <p class="hint">Mọi phiên bản phân loại của năm, mới nhất ở trên: bản đã phê duyệt, bản nháp, bản nháp đã bỏ
          hoặc đã bị thay thế (lưu lại, không sửa, không xóa được); ai chạy, phê duyệt, bỏ, khi nào, và từng điều chỉnh
          của mỗi bản.</p>
        <ul id="history-list" class="versions"></ul></details>
      <details class="legend" data-layer="classes"><summary>Chú giải bản đồ</summary>{class_legend()}</details>
      <div id="review-part"><div class="toolbar">
        <input id="commune-filter" class="search" type="search" placeholder="Tìm xã/phường theo tên"
          aria-label="Tìm xã/phường">
        <label class="check"><input type="checkbox" id="only-flagged"> Chỉ xã cần xem xét</label>
        <label class="check"><input type="checkbox" id="only-changed"> Chỉ xã thay đổi so với năm trước</label>
        <label class="check"><input type="checkbox" id="only-leaving"> Chỉ xã {escape(LEAVING_DRUG_FREE_LABEL)}
          năm sau</label>
      </div>
      <p class="hint">Cần xem (tô màu, xếp đầu): kết quả (sau điều chỉnh, nếu có) khác nhóm mô hình gợi ý, hoặc khác
        năm trước đã phê duyệt. Bấm một xã (trong bảng hoặc trên bản đồ) để xem lý do, tiêu chí và điều chỉnh.</p>
      <details id="forecast" class="forecast"><summary>{escape(FORECAST_HEADER)} — tham khảo, không phải kết quả
        phân loại: <span id="forecast-summary"></span></summary><p class="hint">{escape(FORECAST_NOTE)}</p></details>
      <p id="table-count" class="register-count"></p>
      <table class="register review" id="review-table"><thead><tr>{columns}</tr></thead><tbody id="communes"></tbody>
      </table></div></main>"""


def admin_panel() -> str:
    """Users (create with a password shown once, deactivate, reset, unlock), teams and their areas over time (renamed,
    dissolved), the boundaries loaded from a file (beside the areas drawn on them), the admin audit and the access log
    (who read which detailed data), each filtered and exported."""
    roles = "".join(f'<option value="{code}">{escape(label)}</option>' for code, label in Role.labels().items())
    user_columns = _columns(
        ("username", "Tên đăng nhập"), ("role", "Vai trò"), ("team", "Tổ / phạm vi"), ("state", "Trạng thái")
    )
    user_import = _import_form(
        "user-import",
        "Nhập danh sách tổ công tác và người dùng từ tệp (thiết lập cả thành phố)",
        ".csv,.txt,.xlsx",
        "Mỗi dòng một cán bộ: Tên đăng nhập, Vai trò, Tổ công tác, Xã/phường (địa bàn của tổ mới, cách nhau bằng «;»),"
        " Tỉnh (với Ban chỉ huy, Cán bộ tham mưu: mã, tên hoặc «Toàn quốc»). Có dòng sai thì không tạo gì: sửa các"
        " dòng được báo rồi nhập lại cả tệp. Mỗi người dùng nhận mật khẩu dùng một lần, phải đổi khi đăng nhập lần"
        " đầu; bảng mật khẩu chỉ tải về một lần.",
        '<a href="/api/users/import-template" download>Tải tệp mẫu (Excel)</a>',
    )
    boundary_import = _import_form(
        "boundary-import",
        "Nạp ranh giới hành chính từ tệp",
        ".geojson,.json",
        "Tệp GeoJSON (hệ tọa độ bất kỳ, kể cả hệ tọa độ quốc gia), mỗi đối tượng một xã, phường, đặc khu có mã và"
        " tên đơn vị, như lệnh «diaban boundaries import» (lệnh đó đọc thêm tệp nén và các dạng tệp bản đồ khác)."
        " Nạp lại cùng tệp không thay đổi gì; ranh giới thay đổi mở phiên bản mới từ ngày hiệu lực, vụ"
        " việc, điểm nóng và nhiệm vụ chưa kết thúc theo ranh giới mới. Hãy «Kiểm tra tệp» trước: biết sẽ thêm, khép"
        " lại, chuyển những gì mà chưa ghi gì.",
        f"""{_date_input("valid_from", "Có hiệu lực từ ngày (để trống: 01/07/2025)", "Ngày hiệu lực")}
          {_date_input("valid_to", "Hết hiệu lực từ ngày (chỉ với bộ đơn vị cũ, ví dụ trước sắp xếp)", "Ngày hết hiệu lực")}
          <label class="check"><input type="checkbox" name="whole" value="true"> Tệp là toàn bộ đơn vị hiện hành của
            các tỉnh trong tệp (đơn vị của các tỉnh đó không có trong tệp được khép lại từ ngày hiệu lực)</label>
          <label class="check"><input type="checkbox" name="allow_many_closed" value="true"> Cho phép khép lại quá nửa
            số đơn vị của một tỉnh (mặc định bị từ chối: thường là tệp chỉ có một phần của tỉnh)</label>""",
        sheet=False,
    )
    return rf"""<main class="panel"><div id="message" class="message" role="status" aria-live="polite"></div>
      {help_panel(Role.ADMIN)}
      {_tabs(("users", "Người dùng"), ("teams", "Tổ, địa bàn"), ("audit", "Nhật ký quản trị"), ("access", "Nhật ký truy cập"))}
      <section id="tab-users" class="tab">
        <h2>Tạo người dùng</h2>
        <form id="new-user" class="stack">
          <label>Tên đăng nhập <input name="username" required pattern="[A-Za-z0-9_.\-]{{2,64}}" autocomplete="off"
            title="2–64 ký tự: chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới"></label>
          <label>Vai trò <select name="role"><option value="">— Chọn vai trò —</option>{roles}</select></label>
          <label>Tổ công tác (chỉ với vai trò tổ công tác) <select name="team" disabled>
            <option value="">—</option></select></label>
          <label>Phạm vi (chỉ với vai trò ban chỉ huy, tham mưu) <select name="province" disabled>
            <option value="">—</option></select></label>
          <button type="submit">Tạo người dùng và cấp mật khẩu</button>
        </form>
        <div id="secret" class="secret" role="alert" hidden></div>
        {user_import}
        <div id="user-import-sheet" class="secret" role="alert" hidden></div>
        <h2>Người dùng</h2>
        <input id="user-search" class="search" type="search" placeholder="Tìm theo tên, vai trò, tổ, phạm vi" aria-label="Tìm người dùng">
        <p class="hint">Bấm vào một người dùng để cấp lại mật khẩu, mở khóa, chuyển tổ, đổi vai trò, ngừng hoặc kích
          hoạt lại.</p>
        <table class="register" id="user-table"><thead><tr>{user_columns}</tr></thead><tbody></tbody></table>
      </section>
      <section id="tab-teams" class="tab" hidden>
        <h2>Tổ công tác và địa bàn phụ trách</h2>
        <label>Tổ <select id="team-pick"><option value="">— Tạo tổ mới —</option></select></label>
        <p id="team-summary" class="hint"></p>
        <p id="team-unheld" class="hint" hidden></p>
        <form id="team-rename" class="stack" hidden>
          <label>Tên tổ <input name="name" maxlength="200" required autocomplete="off"></label>
          <button type="submit">Đổi tên tổ</button>
          <small>Thành viên, địa bàn, nhiệm vụ và lịch sử vẫn là của tổ; nhật ký ghi cả tên cũ.</small>
        </form>
        <div id="team-dissolve" class="stack" hidden>
          <button type="button" id="dissolve-team" class="danger">Giải thể tổ…</button>
          <small>Chỉ khi tổ không còn thành viên và không còn nhiệm vụ chưa kết thúc. Địa bàn kết thúc hôm nay; tổ không
            còn được chọn để giao việc hay thêm người, nhưng nhiệm vụ cũ và nhật ký vẫn ghi tên tổ.</small>
        </div>
        <form id="team-form" class="stack" novalidate>
          <label id="team-name">Tên tổ mới <input name="name" maxlength="200"></label>
          <label>Có hiệu lực từ ngày <input name="valid_from" placeholder="dd/mm/yyyy" inputmode="numeric" required
            pattern="{DATE_PATTERN}" title="Ngày theo dạng dd/mm/yyyy, từ hôm nay trở đi"></label>
          <p>Địa bàn: <b id="area-count">0</b> xã/phường — bấm vào xã trên bản đồ hoặc đánh dấu trong danh sách.
            <br><small id="area-names"></small></p>
          <p class="hint"><i class="swatch held-elsewhere"></i> Tô xám: xã/phường tổ khác đang phụ trách (tên tổ ghi
            trong danh sách); vẫn chọn được, hai tổ cùng phụ trách.</p>
          <input id="commune-search" class="search" type="search" placeholder="Tìm xã/phường theo tên hoặc tên tổ"
            aria-label="Tìm xã/phường">
          <div id="commune-list" class="commune-list"></div>
          <button type="submit" id="team-save">Lưu</button>
        </form>
        <div id="area-history-block" hidden><h3>Lịch sử địa bàn</h3>
        <table class="register" id="area-history"><thead><tr><th>Xã/phường</th><th>Từ ngày</th><th>Đến ngày</th>
          </tr></thead><tbody></tbody></table></div>
        {boundary_import}
      </section>
      <section id="tab-audit" class="tab" hidden>
        <p class="hint">Mọi thao tác quản trị, mới nhất trước (không sửa, không xóa được).</p>
        <form id="audit-filters" class="register-filters" novalidate>
          {_date_input("from", "Từ ngày")}{_date_input("to", "Đến ngày")}
          <button type="submit">Xem</button>
        </form>
        <p class="downloads"><a id="audit-xlsx" href="/api/audit.xlsx">Tải về Excel (theo khoảng ngày đã chọn)</a></p>
        <p class="register-count" id="audit-count"></p>
        <ol id="audit" class="history"></ol>
      </section>
      <section id="tab-access" class="tab" hidden>
        <p class="hint">Ai đã xem hoặc xuất dữ liệu chi tiết (vụ việc, ảnh và ghi chú nhiệm vụ, tệp xuất, nhật ký), mới
          nhất trước. Mỗi lần xem hay tải nhật ký này cũng được ghi lại.</p>
        <form id="access-filters" class="register-filters" novalidate>
          <label>Người dùng <input name="username" list="usernames" maxlength="64" autocomplete="off"
            placeholder="Mọi người dùng"></label>
          <label>Dữ liệu đã xem <select name="what">{_options(dict(AccessedData.labels()), "Mọi dữ liệu")}</select></label>
          {_date_input("from", "Từ ngày")}{_date_input("to", "Đến ngày")}
          <button type="submit">Xem</button>
        </form>
        <datalist id="usernames"></datalist>
        <p class="downloads"><a id="access-xlsx" href="/api/access-log.xlsx">Tải về Excel (các dòng đã lọc)</a></p>
        <p class="register-count" id="access-count"></p>
        <ol id="access-log" class="history access"></ol>
      </section>
    </main>"""
