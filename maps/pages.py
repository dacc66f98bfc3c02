"""HTML pages around the folium map: login, and one working page per role, in Vietnamese.

Each page is the folium map (rendered server-side, assets served by the app) plus a side panel
(maps/panels.py); maps/static/js/<role>.js fills the panel and the dynamic layers from the JSON API.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from maps.assets import HAI_PHONG_VIEW, MAX_ZOOM, Basemap, MapView, static_url
from maps.help import COMMAND_LAYERS
from maps.panels import admin_panel, command_panel, planner_panel, team_panel
from maps.styles import palette_css, script_vocabulary
from models.domain.access import PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS
from models.domain.dates import FIRST_YEAR, LAST_YEAR
from models.domain.hotspot_lifecycle import DEFAULT_MONITORING_DAYS

#: The pages' title, before the name of the province the user's view lies in.
TITLE = "Giám sát địa bàn, điểm nóng ma túy"
#: The title where a phone has no room for the whole one, before the province's initials.
SHORT_TITLE = "Giám sát ma túy"
#: Where a nation-wide user's view lies (the Ministry's, in a database of several provinces).
NATION = "toàn quốc"


def page_title(area: str | None) -> str:
    """'Giám sát địa bàn, điểm nóng ma túy — Hải Phòng' (the province's short name; None: 'toàn quốc')."""
    return f"{TITLE} — {area or NATION}"


def short_title(area: str | None) -> str:
    """'Giám sát ma túy HP': the province's initials ("Quảng Ninh" → QN), nothing nation-wide."""
    return f"{SHORT_TITLE} {''.join(word[0] for word in area.split()).upper()}" if area else SHORT_TITLE


#: The scripts a page loads after its own: self-contained sections shared by pages (period.js: «Báo cáo định kỳ»).
PAGE_MODULES = {"command": ("period",), "planner": ("period",)}

#: The band on every page while the data is synthetic (a screenshot must never pass for real data).
DEMO_BAND = "Dữ liệu giả lập — không phải số liệu thật"


def demo_band(synthetic: bool) -> str:
    """The demo band, or nothing when the data is real: a landmark of its own (a screen reader's tour of the page's
    regions reaches it; outside any landmark it was skipped)."""
    band = f'<aside class="demo-band" aria-label="Cảnh báo dữ liệu giả lập">{escape(DEMO_BAND)}</aside>'
    return band if synthetic else ""


@dataclass(frozen=True)
class Viewer:
    """Who a page is for: name, role (and its Vietnamese label), team, its name and its communes, the short name of the
    province their view lies in (None: nation-wide) and that view's map extent (maps.assets.map_view; the demo
    city's unless told)."""

    username: str
    role: str
    role_label: str
    team_id: int | None = None
    team_communes: tuple[str, ...] = ()
    team_name: str | None = None
    area: str | None = None
    view: MapView = HAI_PHONG_VIEW


def _head_bar(viewer: Viewer, csrf: str, subtitle: str, synthetic: bool) -> str:
    """Title (shortened on a phone), who is logged in (a link to change one's password) and in which role, the logout
    form (which carries the CSRF token), and the demo band while the data is synthetic."""
    title, short = escape(page_title(viewer.area)), escape(short_title(viewer.area))
    return f"""<header class="bar"><h1><span class="title-long">{title}</span><span class="title-short">
      {short}</span><span class="subtitle"> — {escape(subtitle)}</span></h1>
      <span id="who"><a class="user" href="/password" title="Đổi mật khẩu">{escape(viewer.username)}</a>
      <span class="role">{escape(viewer.role_label)}</span></span>
      <form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
      <button type="submit">Đăng xuất</button></form></header>{demo_band(synthetic)}"""


@dataclass(frozen=True)
class PageData:
    """What the pages offer: years with a classification (newest first), the newest approved, the last incident day,
    the command page's KPI panel (gis.services.overview.kpi_panel), whether the data is synthetic (demo band),
    whether an approval needs a second planner (DIABAN_FOUR_EYES), the largest photo accepted (DIABAN_PHOTO_MAX_MB,
    in bytes; None: the page leaves the check to the server), refused by the team's page before minutes of upload, and
    the monitoring period of an eradicated hotspot (days: the hotspot lifecycle's, models.domain.hotspot_lifecycle
    .monitoring_days), which the command page tells where it offers to record an eradication, and whether the user's
    scope holds every unit (gis.store.scoping.units_outside): only then does a planner's page offer to run and approve
    a year, and command's to run hotspot detection (runs that cover every unit: both were refused with a 403 to a
    provincial user of a database of several provinces)."""

    years: tuple[int, ...] = ()
    approved_year: int | None = None
    last_incident: date | None = None
    kpi: dict[str, Any] | None = None
    synthetic: bool = False
    four_eyes: bool = True
    photo_max_bytes: int | None = None
    monitoring_days: int = DEFAULT_MONITORING_DAYS
    covers_all: bool = True
    #: When the user's session before this one began (a team's phone visited for the first time counts the notices
    #: before it as seen); None: none.
    previous_login: datetime | None = None


def _page_config(page: str, viewer: Viewer, data: PageData, basemap: Basemap) -> dict[str, Any]:
    """What the page script needs: the page, the map's extent, the viewer's communes and province, years and dates,
    targets and vocabulary."""
    return {
        "page": page,
        **viewer.view.config(),
        "maxZoom": MAX_ZOOM,
        "teamCommunes": list(viewer.team_communes),
        "teamName": viewer.team_name,
        "approvedYear": data.approved_year,
        "lastIncident": data.last_incident.isoformat() if data.last_incident else None,
        "kpi": data.kpi,
        "synthetic": data.synthetic,
        "fourEyes": data.four_eyes,
        "photoMaxBytes": data.photo_max_bytes,
        "monitoringDays": data.monitoring_days,
        "coversAll": data.covers_all,
        "previousLogin": data.previous_login.isoformat() if data.previous_login else None,
        "yearRange": [FIRST_YEAR, LAST_YEAR],
        "username": viewer.username,
        "basemap": bool(basemap.tile_url),
        "title": page_title(viewer.area),
        "area": viewer.area,
        "layerTitles": dict(COMMAND_LAYERS),
        **script_vocabulary(),
    }


def role_page(viewer: Viewer, csrf: str, data: PageData, basemap: Basemap = Basemap()) -> str:
    """The working page of a role: command map, team tasks, planner review, or administration."""
    subtitle, panel = {
        "command": ("Ban chỉ huy", command_panel),
        "team": ("Tổ công tác", team_panel),
        "planner": ("Tham mưu, phân loại địa bàn", lambda: planner_panel(list(data.years))),
        "admin": ("Quản trị", admin_panel),
    }[viewer.role]
    import folium  # here: the login page and the API need no folium (maps.assets)

    from maps.base_map import base_map

    fmap = base_map(basemap, viewer.view, vector_tiles=viewer.role == "command")  # the incident tiles' page only
    root: Any = fmap.get_root()  # a folium Figure (typed as Element)
    root.title = f"diaban — {subtitle}"
    root.header.add_child(
        folium.Element(
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        )
    )
    root.header.add_child(folium.Element(f'<link rel="stylesheet" href="{static_url("app.css")}">'))
    root.header.add_child(folium.Element(f"<style>{palette_css()}</style>"))  # the swatches' colours (api.headers)
    for script in ("common", viewer.role, *PAGE_MODULES.get(viewer.role, ())):
        root.header.add_child(folium.Element(f'<script src="{static_url(f"js/{script}.js")}"></script>'))
    root.html.add_child(folium.Element(_head_bar(viewer, csrf, subtitle, data.synthetic) + panel()))
    config = json.dumps(_page_config(viewer.role, viewer, data, basemap), ensure_ascii=False).replace("</", "<\\/")
    root.script.add_child(
        folium.Element(
            f"window.addEventListener('load', function () {{ diabanStart(Object.assign({config},"
            f" {{map: {fmap.get_name()}}})); }});"
        )
    )
    # folium's own viewport tag forbids zooming the page (user-scalable=no): people with poor sight need it; and its
    # <html> names no language, so a screen reader would read the Vietnamese with an English voice.
    return _NO_ZOOM_LOCK.sub("", root.render()).replace("<html>", '<html lang="vi">', 1)


_NO_ZOOM_LOCK = re.compile(r'<meta name="viewport"[^>]*user-scalable=no[^>]*>')


def as_sentence(message: str) -> str:
    """A message shown on its own (the login and password pages' refusal) with a capital first letter: the server's
    messages are worded to follow «…: » in a sentence («sai tên đăng nhập…»); as common.js asSentence does in the
    page's message band."""
    return message[:1].upper() + message[1:]


def _refusal(message: str, role: str = "") -> str:
    """The page's refusal, said alone as a sentence (as_sentence); nothing without one."""
    return f'<p class="message error"{role}>{escape(as_sentence(message))}</p>' if message else ""


def login_page(message: str = "", username: str = "", synthetic: bool = False, area: str | None = None) -> str:
    """The login form (no map, nothing from outside the app), under the demo band while the data is synthetic,
    titled with the database's province (``area``; None: several, 'toàn quốc')."""
    note = _refusal(message)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Đăng nhập — diaban</title><link rel="icon" href="data:,"><link rel="stylesheet" href="{static_url("app.css")}">
      <script src="{static_url("js/common.js")}"></script></head>
      <body class="login-page">{demo_band(synthetic)}<main class="login"><h1>{escape(page_title(area))}</h1>{note}
      <form method="post" action="/login">
        <label>Tên đăng nhập <input name="username" autocomplete="username" autocapitalize="none" autocorrect="off"
          spellcheck="false" required value="{escape(username)}"></label>
        <label>Mật khẩu <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Đăng nhập</button>
      </form></main></body></html>"""


#: A page refusal's title by its status (others: «Không thực hiện được»).
_ERROR_TITLES = {404: "Không tìm thấy trang", 503: "Tạm thời chưa phục vụ được"}


def error_page(message: str, status: int = 503) -> str:
    """A page route's refusal that is no form's (the database unreachable, 503; an address with no page, 404): the
    Vietnamese message alone on a small page like the login form's, with a way back to the start page; no map, no
    script, nothing from outside the app."""
    title = _ERROR_TITLES.get(status, "Không thực hiện được")
    back = "Thử lại" if status == 503 else "Về trang chính"
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>{title} — diaban</title><link rel="icon" href="data:,">
      <link rel="stylesheet" href="{static_url("app.css")}"></head>
      <body class="login-page"><main class="login"><h1>{escape(TITLE)}</h1>{_refusal(message, ' role="alert"')}
      <p><a href="/">{back}</a></p></main></body></html>"""


def password_page(
    username: str, csrf: str, *, forced: bool, message: str = "", synthetic: bool = False, area: str | None = None
) -> str:
    """The change of one's own password (no map): ``forced`` when an administrator gave it (a new account, a reset),
    the only page such a user gets until it is changed; otherwise reached from the user's name in the bar."""
    note = _refusal(message, ' role="alert"')
    why = (
        "<p>Mật khẩu này do quản trị viên cấp: hãy đặt mật khẩu của riêng bạn trước khi làm việc. Quản trị viên"
        " không biết mật khẩu mới.</p>"
        if forced
        else '<p><a href="/">Quay lại trang làm việc</a></p>'
    )
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Đổi mật khẩu — diaban</title><link rel="icon" href="data:,"><link rel="stylesheet" href="{static_url("app.css")}">
      <script src="{static_url("js/common.js")}"></script></head>
      <body class="login-page">{demo_band(synthetic)}<main class="login"><h1>{escape(page_title(area))}</h1>
      <h2>Đổi mật khẩu của {escape(username)}</h2>{why}{note}
      <form method="post" action="/password"><input type="hidden" name="csrf" value="{escape(csrf)}">
        <input name="username" autocomplete="username" value="{escape(username)}" hidden>
        <label>Mật khẩu hiện tại <input name="current_password" type="password" autocomplete="current-password"
          required></label>
        <label>Mật khẩu mới ({PASSWORD_MIN_CHARS} ký tự trở lên) <input name="new_password" type="password"
          autocomplete="new-password" minlength="{PASSWORD_MIN_CHARS}" maxlength="{PASSWORD_MAX_CHARS}" required></label>
        <label>Nhập lại mật khẩu mới <input name="repeated" type="password" autocomplete="new-password"
          minlength="{PASSWORD_MIN_CHARS}" maxlength="{PASSWORD_MAX_CHARS}" required></label>
        <button type="submit">Đổi mật khẩu</button>
      </form>
      <form method="post" action="/logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
        <button type="submit" class="secondary">Đăng xuất</button></form></main></body></html>"""
