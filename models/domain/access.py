"""Who may do what: roles, the acting principal and the per-role permission rules (pure, no I/O)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.errors import InvalidRequest, PermissionDenied
from models.vocabulary import PROVINCIAL_ROLES, WRITERS, AreaLevel, HotspotStatus, Role, TaskState

#: Hotspot states a team may request directly (field verification, keeping clean); command may request every
#: state (assigning, suppressing and their withdrawal follow the task, eradication follows command's acceptance).
TEAM_HOTSPOT_TARGETS = frozenset({HotspotStatus.VERIFIED, HotspotStatus.MONITORING})
#: Task states a team may move its task into (doing the work).
TEAM_TASK_TARGETS = frozenset({TaskState.IN_PROGRESS, TaskState.PAUSED, TaskState.COMPLETED, TaskState.DECLINED})
#: Task states command may move a task into: accepting (nghiệm thu) or returning completed work, cancelling.
COMMAND_TASK_TARGETS = frozenset({TaskState.ACCEPTED, TaskState.RETURNED, TaskState.CANCELED})


#: Incidents counted on cells narrower than this (metres) are detailed data, read as the incidents themselves are
#: (the access log): one incident alone in such a cell is placed within a city block or a hamlet's few houses, its
#: address all but named — a heat surface's lone peak sits on its cell however wide the smoothing. Cells of this size
#: and more (the heat surface's default, the emerging hot spots' smallest) are read as commune-level counts.
DETAILED_CELL_M = 100.0

#: An approval says so when its approver's password was last reset by an administrator this many days before or less
#: (the approve answer, the year's history, the own change's audit line). Whoever holds a reset's one-time password
#: can make the forced change and work as the user, around four eyes, until the user, locked out, notices: a
#: takeover is used within days of its reset, and a week covers a working week and its weekend. Longer would mark
#: every routine reset (a forgotten password) and the mark would stop being read.
RECENT_RESET_DAYS = 7

#: A login name: 2-64 ASCII letters, digits, dots, hyphens, underscores — no spaces, no diacritics (a person's name
#: typed as a username would stay in the append-only history for good).
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{2,64}$"


def check_username(username: str) -> str:
    """``username`` if it is a login name, else InvalidRequest saying what one looks like."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise InvalidRequest(
            f"tên đăng nhập không hợp lệ: {username[:64]!r}; chỉ dùng 2–64 chữ cái không dấu, chữ số, '.', '-', '_'"
            " (không dấu cách, không họ tên người)",
            "a username is 2-64 ASCII letters, digits, '.', '-' or '_'",
        )
    return username


#: The shortest and the longest password (a longer one could not be typed into the password change form).
PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS = 8, 200
#: Words a guesser tries first here: the system's and the city's names, "password" in both languages. A password that
#: is one of them with digits or signs around it («Haiphong2025!», «matkhau123») is as weak as the word.
GUESSED_WORDS = frozenset({"password", "passw0rd", "matkhau", "diaban", "haiphong", "congan", "admin", "qwerty"})
#: Keyboard rows, typed along (or back): «qwertyui», «asdfghjk».
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def check_new_password(password: str, username: str) -> None:
    """Refuse (InvalidRequest, saying why) a password a person chose that is too short or too long, or is guessed
    first: one character repeated or fewer than four different ones («11111111», «abababab»), a run along the
    alphabet, the digits or a keyboard row («12345678», «87654321», «qwertyui»), the login name in it, or a guessed
    word with only digits and signs around it — the checks NIST SP 800-63B (5.1.1.2) asks of a verifier, without a
    list of leaked passwords (the closed network has none to consult). «12345678» was accepted at a first login."""
    if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        raise InvalidRequest(
            f"mật khẩu phải có từ {PASSWORD_MIN_CHARS} đến {PASSWORD_MAX_CHARS} ký tự",
            f"a password has {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters",
        )
    folded = unicodedata.normalize("NFC", password).casefold()
    steps = {ord(b) - ord(a) for a, b in zip(folded, folded[1:])}
    along_row = any(folded in row or folded in row[::-1] for row in _KEYBOARD_ROWS)
    if len(set(folded)) < 4:
        why = "chỉ lặp lại vài ký tự"
    elif steps in ({1}, {-1}) or along_row:
        why = "là một dãy liền nhau (như 12345678, abcdefgh, qwertyui)"
    elif len(username) >= 4 and username.casefold() in folded:  # «moi» is also a word («mới»)
        why = "chứa tên đăng nhập"
    elif re.sub(r"[\W\d_]+", "", folded) in GUESSED_WORDS:
        why = "là một từ dễ đoán thêm số hoặc ký hiệu"
    else:
        return
    raise InvalidRequest(
        f"mật khẩu quá dễ đoán: {why}; hãy chọn cụm từ dài hơn, khó đoán hơn", "the password is too easy to guess"
    )


#: The longest team name.
TEAM_NAME_CHARS = 200


def normal_team_name(name: str) -> str:
    """A team's name as it is stored and looked up: in NFC, without invisible format characters (zero-width space,
    byte order mark), its spaces as single ones between words. A name typed decomposed (NFD, as some terminals and
    input methods send Vietnamese), with a double space (which a page shows as one) or a zero-width space pasted from
    a document looked exactly like an existing team's and made a second team of the same name; a name of nothing but
    a zero-width space made a team nobody could see."""
    visible = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c) != "Cf")
    return " ".join(visible.split())


def team_name(name: str) -> str:
    """A new team's name, normalised (:func:`normal_team_name`); InvalidRequest when blank or longer than
    TEAM_NAME_CHARS."""
    name = normal_team_name(name)
    if not 1 <= len(name) <= TEAM_NAME_CHARS:
        raise InvalidRequest(
            f"tên tổ công tác cần từ 1 đến {TEAM_NAME_CHARS} ký tự (không tính dấu cách ở hai đầu)",
            f"a team name has 1 to {TEAM_NAME_CHARS} characters",
        )
    return name


@dataclass(frozen=True)
class Principal:
    """The authenticated user on whose behalf a request acts."""

    id: int
    username: str
    role: str
    team_id: int | None = None
    #: The province a provincial command or planner user is limited to (None: the whole country).
    province_code: str | None = None
    #: The password was given by an administrator: only the password change (and logout) is open until it is changed.
    must_change_password: bool = False

    @property
    def level(self) -> AreaLevel:
        """How far the user's view reaches: a team's communes, one province, or the nation."""
        if self.role == Role.TEAM:
            return AreaLevel.TEAM
        return AreaLevel.NATION if self.province_code is None else AreaLevel.PROVINCE


def check_user_scope(role: str, team_id: int | None, province_code: str | None) -> None:
    """Refuse a user whose area does not fit the role: a team user belongs to a team and only they do; only
    command and planner users may be limited to a province."""
    if (role == Role.TEAM) != (team_id is not None):
        raise InvalidRequest(
            "người dùng vai trò «Tổ công tác» phải thuộc một tổ; vai trò khác thì không",
            "a team user needs a team, other roles none",
        )
    if province_code is not None and role not in PROVINCIAL_ROLES:
        raise InvalidRequest(
            f"chỉ vai trò {_provincial_labels()} được giới hạn trong một tỉnh, thành phố (vai trò «{Role(role).label}» thì không)",
            f"only {', '.join(PROVINCIAL_ROLES)} users may be limited to a province",
        )


def check_scope_stated(role: str, province_code: str | None, national: bool) -> None:
    """Refuse a command or planner role given over the API without its reach stated: one province
    (``province_code``) or, chosen explicitly, the whole country (``national``). An omitted field used to mean the
    whole country, so a team member promoted on the administration page (which had no province choice) saw every
    province: least privilege wants the widest scope asked for, never assumed. ``national`` beside a province, or
    for a role that has no province, is refused too (the request would not say one thing)."""
    if role not in PROVINCIAL_ROLES:
        if national:
            raise InvalidRequest(
                f"chỉ vai trò {_provincial_labels()} mới chọn phạm vi toàn quốc (vai trò «{Role(role).label}» thì không)",
                f"only {', '.join(PROVINCIAL_ROLES)} users have a national scope",
            )
        return
    if national == (province_code is not None):
        raise InvalidRequest(
            f"vai trò «{Role(role).label}» cần nói rõ phạm vi: chọn một tỉnh, thành phố hoặc chọn «Toàn quốc»"
            + (" — không chọn cả hai" if national else ""),
            "a command or planner role needs province_code or national: true (not both)",
        )


def _provincial_labels() -> str:
    """The roles that have a province, as the page names them («Ban chỉ huy», «Cán bộ tham mưu»)."""
    return ", ".join(f"«{Role(r).label}»" for r in PROVINCIAL_ROLES)


def report_province(principal: Principal, requested: str | None) -> str | None:
    """The province a report is about: a provincial user's own (another is refused), else the one requested (None:
    the whole country)."""
    if principal.province_code is None:
        return requested
    if requested not in (None, principal.province_code):
        raise PermissionDenied(
            f"chỉ xem được báo cáo của tỉnh, thành phố mình (mã {principal.province_code})",
            "a provincial user reads only their own province's reports",
        )
    return principal.province_code


def require_role(principal: Principal, roles: tuple[str, ...]) -> None:
    """Raise PermissionDenied unless the principal has one of ``roles``."""
    if principal.role not in roles:
        allowed = ", ".join(f"«{Role(r).label}»" for r in roles)
        raise PermissionDenied(
            f"vai trò «{Role(principal.role).label}» không được phép thao tác này (chỉ {allowed})",
            f"allowed roles: {', '.join(roles)}",
        )


def may_target(role: str, target: str, team_targets: frozenset[str], command_targets: frozenset[str] | None) -> bool:
    """Whether a role may move a resource into ``target`` (command: ``command_targets``, None meaning every state)."""
    if role == Role.TEAM:
        return target in team_targets
    if role == Role.COMMAND:
        return command_targets is None or target in command_targets
    return False


def require_target(
    principal: Principal, target: str, team_targets: frozenset[str], command_targets: frozenset[str] | None = None
) -> None:
    """Raise PermissionDenied unless the principal may move a resource into ``target``."""
    require_role(principal, WRITERS)
    if not may_target(principal.role, target, team_targets, command_targets):
        who = "tổ công tác" if principal.role == Role.TEAM else "ban chỉ huy"
        owner = "ban chỉ huy" if principal.role == Role.TEAM else "tổ công tác được giao"
        raise PermissionDenied(
            f"{who} không được chuyển sang trạng thái «{_label(target)}» (việc của {owner})",
            f"role {principal.role!r} cannot move to {target!r}",
        )


def _label(state: str) -> str:
    """The Vietnamese label of a hotspot or task state (the code itself if it is neither)."""
    for vocabulary in (HotspotStatus, TaskState):
        if state in vocabulary.values():
            return vocabulary(state).label
    return state
