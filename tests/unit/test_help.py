"""The pages' «Hướng dẫn»: every status, state, class and role with its meaning, and who does what next, read off the
lifecycles (maps.help, models.domain.guide)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from maps.help import COMMAND_TIP, PERIOD_REPORT, TEAM_TIP, help_panel
from maps.panels import admin_panel, command_panel, planner_panel, team_panel
from models.domain.guide import DETECTION_ACTOR, Step, hotspot_steps, task_steps
from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE
from models.vocabulary import (
    CATEGORY_MEANINGS,
    DRAFT_END_MEANINGS,
    FIELD_LABELS,
    HOTSPOT_STATUS_MEANINGS,
    NEW_OR_RECURRED_LABEL,
    RECURRED_WORDS,
    ROLE_MEANINGS,
    RUN_STATUS_MEANINGS,
    TASK_STATE_MEANINGS,
    DraftEnd,
    HotspotStatus,
    Level,
    Role,
    RunStatus,
    TaskState,
    _meanings,
)

H, T = HotspotStatus, TaskState
COMMAND, TEAM = Role.COMMAND.label, Role.TEAM.label


def _text(html: str) -> str:
    """The help as a reader sees it (inline spans dropped, other tags a space apart, entities decoded)."""
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"</?span[^>]*>", "", html)))


def _row_html(html: str, machine: str, state: str) -> str:
    """The markup of one state's row in the help (machine: 'hotspot' or 'task')."""
    match = re.search(rf'<tr data-{machine}="{state}">(.*?)</tr>', html)
    assert match, f"no row for {state}"
    return match.group(1)


def _row(html: str, machine: str, state: str) -> str:
    """The text of one state's row in the help."""
    return _text(_row_html(html, machine, state))


def test_every_member_has_a_meaning_and_none_is_spare() -> None:
    with pytest.raises(ValueError, match="meanings do not match"):
        _meanings(Level, {"I": "loại nặng nhất.", "II": "loại giữa."})
    with pytest.raises(ValueError, match="meanings do not match"):
        _meanings(RunStatus, {"draft": "…", "approved": "…", "archived": "…"})


@pytest.mark.parametrize("role", [Role.COMMAND, Role.TEAM])
def test_operational_pages_explain_every_hotspot_status_and_task_state(role: Role) -> None:
    html = help_panel(role)
    assert html.startswith('<details class="help" id="help"><summary>Hướng dẫn</summary>')
    for status in H:
        row = _row(html, "hotspot", status)
        assert status.label in row and HOTSPOT_STATUS_MEANINGS[status] in row
        assert f"fill-status-{status}" in _row_html(html, "hotspot", status)  # its colour on the map
    for state in T:
        assert state.label in _row(html, "task", state) and TASK_STATE_MEANINGS[state] in _row(html, "task", state)


def test_planner_and_admin_pages_explain_classes_runs_and_roles() -> None:
    planner, admin = _text(help_panel(Role.PLANNER)), _text(help_panel(Role.ADMIN))
    assert all(meaning in planner for meaning in CATEGORY_MEANINGS.values())
    assert all(f"{RunStatus(s).label}" in planner and m in planner for s, m in RUN_STATUS_MEANINGS.items())
    assert "Trọng điểm loại I" in planner and "loại nặng nhất" in planner and "Mô hình" in planner
    assert all(Role(r).label in admin and m in admin for r, m in ROLE_MEANINGS.items())


def test_next_steps_are_read_off_the_task_lifecycle_and_the_access_rules() -> None:
    assert task_steps(T.ASSIGNED) == [Step(TEAM, T.IN_PROGRESS), Step(TEAM, T.DECLINED), Step(COMMAND, T.CANCELED)]
    assert task_steps(T.COMPLETED) == [Step(COMMAND, T.ACCEPTED), Step(COMMAND, T.RETURNED), Step(COMMAND, T.CANCELED)]
    assert task_steps(T.UNASSIGNED)[0] == Step(COMMAND, T.ASSIGNED)  # command opens and assigns tasks
    assert task_steps(T.ACCEPTED) == [] and "Kết thúc" in _row(help_panel(Role.TEAM), "task", T.ACCEPTED)


def test_a_hotspot_status_that_follows_its_task_names_the_task_change_and_who_makes_it() -> None:
    steps = hotspot_steps(HOTSPOT_LIFECYCLE, H.ASSIGNED)
    assert Step(TEAM, H.SUPPRESSING, T.IN_PROGRESS.label) in steps  # the team starting the task
    assert Step(TEAM, H.VERIFIED, T.DECLINED.label) in steps and Step(COMMAND, H.VERIFIED, T.CANCELED.label) in steps
    assert hotspot_steps(HOTSPOT_LIFECYCLE, H.VERIFIED)[0] == Step(COMMAND, H.ASSIGNED, T.ASSIGNED.label)
    row = _row(help_panel(Role.COMMAND), "hotspot", H.ASSIGNED)
    assert f"{TEAM} → «{H.SUPPRESSING.label}» (khi nhiệm vụ «{T.IN_PROGRESS.label}»)" in row


def test_detection_and_user_moves_are_told_apart() -> None:
    detected = hotspot_steps(HOTSPOT_LIFECYCLE, H.DETECTED)
    assert (
        Step(COMMAND, H.VERIFIED) in detected and Step(TEAM, H.VERIFIED) in detected
    )  # the team verifies in the field
    assert Step(COMMAND, H.DISMISSED) in detected and Step(TEAM, H.DISMISSED) not in detected
    assert Step(DETECTION_ACTOR, H.DORMANT) in detected
    assert {s.actor for s in hotspot_steps(HOTSPOT_LIFECYCLE, H.CLOSED)} == {DETECTION_ACTOR}  # only a recurrence
    assert [s for s in hotspot_steps(HOTSPOT_LIFECYCLE, H.MONITORING) if s.target == H.CLOSED] == [
        Step(COMMAND, H.CLOSED)
    ]


def test_the_command_and_team_help_explain_the_form_that_reports_a_spot() -> None:
    command, team = _text(help_panel(Role.COMMAND)), _text(help_panel(Role.TEAM))
    assert COMMAND_TIP in command and f"«{HotspotStatus.DETECTED.label}»" in command
    assert TEAM_TIP in team and "GPS" in team and "không ghi tên người" in team
    assert f"<summary>{COMMAND_TIP}…</summary>" in command_panel() and f"<summary>{TEAM_TIP}</summary>" in team_panel()


def test_each_pages_help_explains_its_newer_features_by_the_words_the_page_shows() -> None:
    """The periodic report, «Mới / phức tạp trở lại» and the dissolved teams of the filters (command), the periodic
    report and «Lịch sử phiên bản» with its ended drafts and replaced overrides (planner), the changes kept without signal (team)
    and the access log's values (administrator) are each explained where their users look, under the names their
    pages give them (none was in the help)."""
    command, planner = _text(help_panel(Role.COMMAND)), _text(help_panel(Role.PLANNER))
    team, admin = _text(help_panel(Role.TEAM)), _text(help_panel(Role.ADMIN))
    for term in (PERIOD_REPORT, NEW_OR_RECURRED_LABEL, "Tổ đã giải thể"):
        assert term in command and term in command_panel(), term
    assert "«Tổng quan»" in command and "cùng kỳ năm trước" in command and "giải thể" in command
    assert PERIOD_REPORT in planner and PERIOD_REPORT in planner_panel([2025])
    assert "Lịch sử phiên bản" in planner and "<summary>Lịch sử phiên bản</summary>" in planner_panel([2025])
    assert all(DraftEnd(s).label in planner and m in planner for s, m in DRAFT_END_MEANINGS.items())
    assert "điều chỉnh in mờ" in planner  # an override a later one replaced
    # Four eyes: the button's name, and that neither who ran the draft nor who overrode in it approves it.
    assert "Phê duyệt kết quả năm" in planner and ">Phê duyệt kết quả năm</button>" in planner_panel([2025])
    assert "người đã chạy bản nháp (cả bản hiệu chỉnh) và người đã điều chỉnh" in planner
    assert all(words in team and words in team_panel() for words in ("Chờ gửi", "Gửi ngay"))
    assert "Nhật ký truy cập" in admin and "«loại=Tin báo, tố giác»" in admin and "«từ ngày=01/03/2026»" in admin


#: The other name a recurred hotspot went by (the register's filter, its rows, the help, the API's messages).
OTHER_NAME = "tái phát"
#: Where the text users read is written: the page scripts and styles, the panels and help, the labels and messages.
USER_TEXT = ("maps", "api", "models", "gis", "data")


def test_a_hotspot_that_came_back_has_one_name_wherever_users_read() -> None:
    """A hotspot that came back after its eradication was «tái phát» in the hotspot register's filter and rows, the
    help and the API's refusals, «Phức tạp trở lại» in its status, history and the KPIs: one thing under two names.
    The state's own label (the plans' word, models.vocabulary) is the only one, in every page's help and panel, the
    field labels, and the source of the page scripts, templates, messages and exports."""
    assert RECURRED_WORDS == HotspotStatus.RECURRED.label.lower() and OTHER_NAME not in RECURRED_WORDS
    pages = [help_panel(role) for role in Role] + [command_panel(), team_panel(), planner_panel([2025]), admin_panel()]
    read = [_text(html).lower() for html in pages] + [label.lower() for label in FIELD_LABELS.values()]
    assert not [text for text in read if OTHER_NAME in text]
    assert RECURRED_WORDS in _text(help_panel(Role.COMMAND)).lower() and NEW_OR_RECURRED_LABEL in command_panel()
    root = Path(__file__).resolve().parents[2]
    sources = [
        path
        for folder in USER_TEXT
        for path in sorted((root / folder).rglob("*"))
        if path.suffix in {".py", ".js", ".css", ".html", ".toml"} and "vendor" not in path.parts
    ]
    assert len(sources) > 100  # the folders were found
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OTHER_NAME in line.lower()
    ]
    assert found == []


def test_the_help_and_the_machines_read_the_same_in_every_process() -> None:
    """Each process hashes strings its own way (PYTHONHASHSEED): a machine's transitions built from a frozenset
    listed «Đã gộp vào điểm khác» before or after «Tạm lắng» in the help, one server start to the next."""
    script = (
        "from maps.help import help_panel; from models.vocabulary import Role;"
        "from models.domain.hotspot_lifecycle import HOTSPOT_LIFECYCLE as H;"
        "from models.domain.task_lifecycle import TASK_LIFECYCLE as T;"
        "print([help_panel(r) for r in Role], [m.allowed(s) for m in (H, T) for s in m.states])"
    )
    shown = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(shown) == 1


def test_the_command_help_and_legends_explain_the_hot_and_cold_cells_in_plain_words() -> None:
    """A commander who must justify a patrol by the map reads, on the page, what each of the 17 trend patterns means
    (the legend listed their names only, the help «17 dạng» and eight words), over which months, cells and incidents
    the trend is computed (it follows none of the page's filters: 12 months to the latest incident, every kind), and
    what «tin cậy 95 %» of a hot cell means (a share of the cells coloured, under a p threshold lowered for the
    thousands of cells: on the demo a «tin cậy 90 %» cell had p = 0,0003, not «p < 0,10»); the layers call the statistics' cells «ô», never «điểm nóng», the
    register's word."""
    from maps.help import EMERGING_TITLE, GISTAR_TITLE
    from maps.styles import emerging_legend, gistar_legend
    from models.analytics.emerging import PATTERN_LABELS_VI, PATTERN_MEANINGS_VI, PATTERNS

    html = help_panel(Role.COMMAND)
    for pattern in PATTERNS:
        row = _row_html(html, "pattern", pattern)
        assert PATTERN_LABELS_VI[pattern] in _text(row) and PATTERN_MEANINGS_VI[pattern] in _text(row), pattern
        assert f"fill-emerging-{pattern}" in row or pattern == "no_pattern"
    assert "điểm nóng" not in f"{EMERGING_TITLE} {GISTAR_TITLE}".lower()
    trend = _text(emerging_legend())
    assert "12 tháng" in trend and "500 m" in trend and "không theo «Lọc vụ việc»" in trend
    assert 'id="emerging-end"' in emerging_legend()
    cells = _text(gistar_legend())
    assert (
        "250 m" in cells and "dưới 5 %" in cells and "p nhỏ hơn 0,05 nhiều" in cells and "theo «Lọc vụ việc»" in cells
    )


@pytest.mark.parametrize("role", list(Role))
def test_no_help_promises_a_mouse_alone(role: Role) -> None:
    """A phone has no mouse: the command help said «vụ/km²: … (để chuột lên dòng đó để xem cách tính: cỡ ô, độ rộng
    σ)», which a commander on the phone cannot do (the line's `title` shows nothing on a tap). Each clause that names
    the mouse says what a phone does too (a tap, or that the phone does not show it and where to read it instead)."""
    mouse = re.compile(r"chuột|hover|\brê\b", re.IGNORECASE)
    for clause in re.split(r"[;\n]", _text(help_panel(role))):
        if mouse.search(clause):
            assert re.search(r"chạm|điện thoại", clause), clause


def test_the_map_pages_say_a_tap_beside_a_circle_opens_it() -> None:
    """A tap beside a hotspot's or task's circle opens it on a phone (circleNear): the command and team pages' help
    says so, and that a tap while a report's place is being chosen chooses it; the pages without those circles do not."""
    for role in (Role.COMMAND, Role.TEAM):
        shown = unescape(re.sub(r"<[^>]+>", "", help_panel(role)))
        assert "Chạm trên bản đồ (điện thoại)" in shown and "mở thẻ của vòng tròn gần nhất" in shown, role
    for role in (Role.PLANNER, Role.ADMIN):
        assert "Chạm trên bản đồ" not in help_panel(role), role
