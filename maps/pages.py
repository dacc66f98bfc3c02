"""HTML pages around the folium map: login, and one working page per role, in Vietnamese.

Each page is the folium map (rendered server-side, assets served by the app) plus a side panel;
maps/static/app.js fills the panel and the dynamic layers from the JSON API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from html import escape

import folium

from maps.base_map import BACH_LONG_VI, STATIC_URL, base_map
from models.incident_kinds import KIND_LABELS_VI
from models.task_lifecycle import TASK_LABELS_VI

TITLE = "Giám sát địa bàn, điểm nóng ma túy — Hải Phòng"


@dataclass(frozen=True)
class Viewer:
    """Who a page is for: name, role (and its Vietnamese label), team and its communes."""

    username: str
    role: str
    role_label: str
    team_id: int | None = None
    team_communes: tuple[str, ...] = ()
    team_targets: tuple[str, ...] = ()


def _head_bar(viewer: Viewer, csrf: str, subtitle: str) -> str:
    return f"""<header class="bar"><h1>{escape(TITLE)} — {escape(subtitle)}</h1>
      <span id="who">{escape(viewer.username)} — {escape(viewer.role_label)}</span>
      <form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
      <button type="submit">Đăng xuất</button></form></header>"""


def _command_panel() -> str:
    kinds = "".join(f'<label><input type="checkbox" name="kind" value="{k}"> {escape(v)}</label>'
                    for k, v in KIND_LABELS_VI.items())
    return f"""<aside class="panel"><div id="message" class="message"></div>
      <h2>Chỉ số</h2>
      <div class="kpi"><span>Tỷ lệ xã không ma túy</span><b id="kpi-drug-free">—</b></div>
      <div class="kpi"><span>Nhiệm vụ đang mở</span><b id="kpi-open">—</b></div>
      <div class="kpi"><span>Nhiệm vụ quá hạn</span><b id="kpi-overdue">—</b></div>
      <div class="kpi"><span>Điểm phức tạp trở lại</span><b id="kpi-recurred">—</b></div>
      <div class="kpi"><span>Phân loại xã</span><b id="classes-year">—</b></div>
      <h2>Lọc vụ việc</h2>
      <form id="filters">
        <label>Từ ngày <input name="from" placeholder="dd/mm/yyyy" pattern="\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}"></label>
        <label>Đến ngày <input name="to" placeholder="dd/mm/yyyy" pattern="\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}"></label>
        <div class="kinds">{kinds}</div>
        <button type="submit">Áp dụng</button>
      </form>
      <h2>Theo tháng</h2>
      <input id="month" type="range" min="0" max="24" value="0" style="width:100%">
      <div id="month-label">Theo khoảng ngày đã chọn</div>
      <h2>Mật độ</h2><div id="heat-legend">—</div>
      <h2>Chú giải điểm nóng</h2>
      <div>Cam: phát hiện · Đỏ: đã giao, đang đấu tranh · Xanh lá: đã triệt xóa · Xanh dương: giữ sạch ·
        Xám: loại khỏi danh sách · Tím: phức tạp trở lại</div>
    </aside>"""


def _team_panel() -> str:
    return """<aside class="panel"><div id="message" class="message"></div>
      <h2>Nhiệm vụ của tổ</h2><div id="tasks">Đang tải…</div></aside>"""


def _planner_panel(years: list[int]) -> str:
    options = "".join(f'<option value="{y}"{" selected" if i == 0 else ""}>{y}</option>' for i, y in enumerate(years))
    return f"""<aside class="panel"><div id="message" class="message"></div>
      <h2>Phân loại xã, phường, đặc khu</h2>
      <label>Năm <select id="year">{options}</select></label>
      <p id="run-status">—</p>
      <button id="approve">Phê duyệt năm</button>
      <p>Tải về: <a id="download-csv">CSV</a> · <a id="download-geojson">GeoJSON</a> · <a id="download-xlsx">Excel</a></p>
      <p>Các xã có kết quả pháp lý khác mô hình, hoặc thay đổi so với năm trước, được xếp đầu và tô màu.</p>
      <table class="review"><thead><tr><th>Xã/phường</th><th>Kết quả</th><th>Mô hình</th><th>Lý do</th>
        <th>Điều chỉnh</th></tr></thead><tbody id="communes"></tbody></table></aside>"""


def role_page(viewer: Viewer, csrf: str, today: date | None = None) -> str:
    """The working page of a role: command map, team tasks, or planner review."""
    today = today or date.today()
    page = {"command": "command", "team": "team", "planner": "planner"}[viewer.role]
    subtitle, panel = {
        "command": ("Ban chỉ huy", _command_panel()),
        "team": ("Tổ công tác", _team_panel()),
        "planner": ("Tham mưu, phân loại địa bàn", _planner_panel(list(range(today.year, today.year - 5, -1)))),
    }[page]
    fmap = base_map()
    root = fmap.get_root()
    root.title = f"diaban — {subtitle}"
    root.header.add_child(folium.Element('<meta name="viewport" content="width=device-width, initial-scale=1">'
                                         '<link rel="icon" href="data:,">'))
    root.header.add_child(folium.Element(f'<link rel="stylesheet" href="{STATIC_URL}/app.css">'))
    root.header.add_child(folium.Element(f'<script src="{STATIC_URL}/app.js"></script>'))
    root.html.add_child(folium.Element(_head_bar(viewer, csrf, subtitle) + panel))
    config = {"page": page, "bachLongVi": BACH_LONG_VI, "teamCommunes": list(viewer.team_communes),
              "teamTargets": list(viewer.team_targets), "taskLabels": dict(TASK_LABELS_VI)}
    root.script.add_child(folium.Element(
        f"window.addEventListener('load', function () {{ window.diaban = Object.assign({json.dumps(config)},"
        f" {{map: {fmap.get_name()}}}); document.body.className = {json.dumps(page)}; diabanStart(); }});"))
    return root.render()


def login_page(message: str = "", username: str = "") -> str:
    """The login form (no map, nothing from outside the app)."""
    note = f'<p class="message error">{escape(message)}</p>' if message else ""
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Đăng nhập — diaban</title><link rel="icon" href="data:,"><link rel="stylesheet" href="{STATIC_URL}/app.css"></head>
      <body><main class="login"><h1>{escape(TITLE)}</h1>{note}
      <form method="post" action="/login">
        <label>Tên đăng nhập <input name="username" autocomplete="username" required value="{escape(username)}"></label>
        <label>Mật khẩu <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Đăng nhập</button>
      </form></main></body></html>"""


def admin_page(viewer: Viewer, csrf: str) -> str:
    """Administrators manage users and teams through the API and the command line."""
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Quản trị — diaban</title><link rel="icon" href="data:,">
      <link rel="stylesheet" href="{STATIC_URL}/app.css"></head><body>{_head_bar(viewer, csrf, "Quản trị")}
      <main class="login"><h1>Quản trị</h1><p>Quản lý người dùng và tổ công tác:
      <code>diaban users …</code>, <code>diaban teams …</code> hoặc API <code>/api/users</code>,
      <code>/api/teams</code> (<a href="/docs">tài liệu API</a>).</p></main></body></html>"""
