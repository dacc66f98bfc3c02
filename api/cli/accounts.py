"""`diaban teams …` and `diaban users …`: teams with their areas, users with argon2 passwords, demo accounts."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli.vi import DRY_RUN_HELP, cli_int, cli_name, no_folder, parser_options
from models.domain.access import check_new_password
from models.domain.dates import vn_day, vn_time
from models.errors import InvalidRequest
from models.numbers import vn_number
from models.vocabulary import DRY_RUN_NOTICE, PROVINCIAL_ROLES, AreaLevel, Role, vietnamese_reason

if TYPE_CHECKING:
    from sqlalchemy import Connection


def _read_password(from_stdin: bool, username: str) -> str:
    """The new password of ``username``: the first line of stdin, or typed twice at a prompt; as the API allows
    (:func:`models.domain.access.check_new_password`: a longer one could never be given to the password change) and
    valid text (bytes that are not UTF-8 were a UnicodeError traceback from the hash). Without a terminal the prompt
    is refused (it was an EOFError traceback, or English warnings and the password echoed)."""
    try:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            with warnings.catch_warnings():
                # No terminal to type on unseen: getpass would warn in English and read the password echoed.
                warnings.simplefilter("error", getpass.GetPassWarning)
                password = getpass.getpass("Mật khẩu: ")
                if password != getpass.getpass("Nhập lại mật khẩu: "):
                    raise InvalidRequest("hai lần nhập mật khẩu không khớp", "the two passwords differ")
        password.encode("utf-8")
    except (EOFError, getpass.GetPassWarning):
        raise InvalidRequest(
            "không có màn hình dòng lệnh để gõ mật khẩu kín: dùng --password-stdin (mật khẩu ở dòng đầu của đầu vào)",
            "no terminal to type the password on",
        ) from None
    except UnicodeError:
        raise InvalidRequest("mật khẩu không phải văn bản UTF-8 hợp lệ", "the password is not valid UTF-8") from None
    check_new_password(password, username)
    return password


def cmd_teams_add(args: argparse.Namespace) -> None:
    from gis.services.admin import create_team
    from gis.store.accounts import shared_communes
    from gis.store.db import get_engine

    communes = sorted({c.strip() for c in args.communes.split(",") if c.strip()})  # a code given twice counts once
    with get_engine().begin() as conn:
        team_id = create_team(conn, getpass.getuser(), args.name, communes)
        shared = shared_communes(conn, team_id)
    print(f"Đã tạo tổ công tác #{team_id} «{args.name}» phụ trách {vn_number(len(communes))} xã/phường")
    for commune in shared:
        print(
            f"Lưu ý: {commune['commune_name'] or commune['commune_code']} cũng thuộc địa bàn của {', '.join(commune['teams'])}"
        )


def cmd_teams_rename(args: argparse.Namespace) -> None:
    from gis.services.admin import rename_team
    from gis.store.accounts import team_id_by_name, team_version
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        team_id = team_id_by_name(conn, args.name)
        renamed = rename_team(conn, getpass.getuser(), team_id, args.new_name, team_version(conn, team_id))
    print(f"Đã đổi tên tổ công tác #{team_id} «{renamed['before']}» thành «{renamed['name']}»")


def cmd_teams_dissolve(args: argparse.Namespace) -> None:
    """Dissolve a team as the administration page does (refused while it holds unfinished tasks or members)."""
    from gis.services.admin import dissolve_team
    from gis.store.accounts import team_id_by_name, team_version
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        team_id = team_id_by_name(conn, args.name)
        dissolved = dissolve_team(conn, getpass.getuser(), team_id, team_version(conn, team_id))
    print(
        f"Đã giải thể tổ công tác #{team_id} «{args.name}» từ ngày {vn_day(dissolved['dissolved_on'])}"
        f" (địa bàn kết thúc: {len(dissolved['communes'])} xã, phường); tổ vẫn còn trong lịch sử nhiệm vụ và nhật ký"
    )
    if dissolved["left_without_team"]:
        named = ", ".join(c["commune_name"] or c["commune_code"] for c in dissolved["left_without_team"])
        print(f"Lưu ý: không còn tổ nào phụ trách {len(dissolved['left_without_team'])} xã/phường: {named}")


def cmd_teams_list(args: argparse.Namespace) -> None:
    from gis.store.accounts import list_teams
    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        teams = list_teams(conn)
    if args.json:
        print(json.dumps(teams, ensure_ascii=False))
        return
    for team in teams:
        print(f"#{team['id']} {team['name']}: {team['members']} người, địa bàn {', '.join(team['communes'])}")


def _change_required_argument(parser: argparse.ArgumentParser) -> None:
    """`--no-change-required`: the password set is the operator's own (their account), not one to hand over."""
    parser.add_argument(
        "--no-change-required",
        action="store_true",
        help="không bắt đổi mật khẩu khi đăng nhập lần đầu (tài khoản của chính người chạy lệnh); mặc định người"
        " dùng phải đổi mật khẩu được giao",
    )


def cmd_users_add(args: argparse.Namespace) -> None:
    from api.security import hash_password
    from gis.services.admin import create_user
    from gis.store.accounts import team_id_by_name
    from gis.store.db import get_engine

    password = _read_password(args.password_stdin, args.name)
    with get_engine().begin() as conn:
        team_id = team_id_by_name(conn, args.team) if args.team else None
        user_id = create_user(
            conn,
            getpass.getuser(),
            args.name,
            hash_password(password),
            args.role,
            team_id,
            args.province,
            must_change_password=not args.no_change_required,
        )
    team = f", tổ {args.team}" if args.team else ""
    print(
        f"Đã tạo người dùng #{user_id} «{args.name}» vai trò {Role.labels()[args.role]}{team}{_scope(args)}"
        f"{_first_login(args)}"
    )


def cmd_users_import(args: argparse.Namespace) -> None:
    """Create the teams and users of an accounts file, all or nothing, and write their one-time passwords to
    ``--out`` (an Excel sheet, never printed: a terminal's scrollback and logs keep what it shows). ``--dry-run``: the
    same creations rolled back, what they would be said; no password made, no file written."""
    from api.security import generate_password, hash_password
    from gis.services.account_import import (
        PASSWORDS_AT_IMPORT,
        AccountsRefused,
        import_accounts,
        password_sheet,
        refusal_rows,
    )
    from gis.store.db import get_engine
    from gis.store.provinces import document_heading

    out = Path(args.out)
    if out.exists():
        raise InvalidRequest(
            f"tệp {out} đã có: chọn tên khác (bảng mật khẩu không ghi đè tệp nào)", "the output file exists"
        )
    if not out.parent.is_dir():  # said before the import, as the other commands' --out (it read «không tìm thấy tệp»)
        raise InvalidRequest(no_folder(out), "no folder to write the password sheet in")
    if args.dry_run:
        print(DRY_RUN_NOTICE)
    try:
        with get_engine().begin() as conn:
            imported = import_accounts(
                conn,
                getpass.getuser(),
                Path(args.file),
                new_password=generate_password,
                hash_password=hash_password,
                sheet=args.sheet,
                dry_run=args.dry_run,
            )
            if not imported.dry_run:
                content = password_sheet(imported, document_heading(conn, None, getpass.getuser()))
                with open(out, "xb") as sheet_file:  # before the commit: no account whose password nobody has
                    sheet_file.write(content)
    except AccountsRefused as refused:
        for row in refusal_rows(refused):
            print(
                f"dòng {row['line']}: {row['field_label']} «{row['ref']}»: {vietnamese_reason(row['reason'])}",
                file=sys.stderr,
            )
        raise
    if imported.dry_run:
        print(
            f"Sẽ tạo {vn_number(len(imported.teams))} tổ công tác và {vn_number(len(imported.users))} người dùng;"
            f" {PASSWORDS_AT_IMPORT}"
        )
        return
    os.chmod(out, 0o600)
    print(
        f"Đã tạo {vn_number(len(imported.teams))} tổ công tác và {vn_number(len(imported.users))} người dùng; mật khẩu dùng một lần ghi ở"
        f" {out} (chỉ người chạy lệnh đọc được): giao riêng từng dòng cho đúng cán bộ rồi hủy tệp"
    )


#: What the operator is told when the user must change the password they were given (as the pages ask them to).
MUST_CHANGE = "; người dùng phải đổi mật khẩu này khi đăng nhập lần đầu"


def _first_login(args: argparse.Namespace) -> str:
    """Whether the user must change the password at the next login, said back to the operator."""
    return "" if args.no_change_required else MUST_CHANGE


def _scope(args: argparse.Namespace) -> str:
    """How far a command or planner user given a role reaches, said back to the operator: without `--province`
    the whole country (the command line's documented default, which the page and the API never assume)."""
    if args.province:
        return f", giới hạn trong tỉnh, thành phố mã {args.province}"
    return ", phạm vi toàn quốc (không ghi --province)" if args.role in PROVINCIAL_ROLES else ""


def cmd_users_province(args: argparse.Namespace) -> None:
    from gis.services.admin import set_user_province
    from gis.store.accounts import get_user
    from gis.store.db import get_engine

    province = None if args.nation else args.province
    with get_engine().begin() as conn:
        user_id = _user_id(conn, args.name)
        changed = set_user_province(conn, getpass.getuser(), user_id, province, get_user(conn, user_id)["version"])
    where = f"tỉnh, thành phố {changed['province']} (mã {province})" if province else "toàn quốc"
    print(f"Phạm vi của «{args.name}» từ nay: {where} (áp dụng từ yêu cầu tiếp theo)")


def cmd_provinces_list(args: argparse.Namespace) -> None:
    from gis.store.db import get_engine
    from gis.store.provinces import list_provinces

    with get_engine().connect() as conn:
        provinces = list_provinces(conn)
    if args.json:
        print(json.dumps(provinces, ensure_ascii=False))
        return
    for province in provinces:
        print(f"{province['code']:<4} {province['full_name']:<32} {vn_number(province['units']):>5} đơn vị cấp xã")


def cmd_users_list(args: argparse.Namespace) -> None:
    from gis.store.accounts import list_users
    from gis.store.db import get_engine
    from gis.store.provinces import province_names

    with get_engine().connect() as conn:
        users = list_users(conn)
        provinces = province_names(conn)
    if args.json:  # times as ISO 8601 (a locked user's `locked_until` had stopped the listing)
        print(json.dumps(users, ensure_ascii=False, default=lambda value: value.isoformat()))
        return
    for user in users:
        state = "khóa tạm" if user["locked"] else ("hoạt động" if user["active"] else "ngừng")
        # Where the user works as the users page names it: the team, the province by its name, or the whole country.
        province = user["province_code"]
        area = user["team"] or (provinces.get(province, province) if province else AreaLevel.NATION.label.lower())
        seen = user["last_login_at"]
        last = f"đăng nhập gần nhất {vn_time(seen)}" if seen else "chưa đăng nhập lần nào"
        print(f"{user['username']:<16} {Role.labels()[user['role']]:<16} {area:<40} {state:<10} {last}")


def _user_id(conn: Connection, name: str) -> int:
    from gis.store.accounts import user_id_by_name

    return user_id_by_name(conn, name)


def _former_team_line(former: dict | None) -> str:
    """What becomes of the open tasks of the team a user left: tasks belong to teams, not people."""
    if former is None or not former["open_tasks"]:
        return ""
    line = f"\nNhiệm vụ thuộc về tổ, không thuộc người: {former['open_tasks']} nhiệm vụ đang mở ở lại tổ «{former['name']}»"
    if not former["active_members"]:
        line += " — tổ không còn thành viên nào hoạt động: chỉ huy cần giao lại các nhiệm vụ này"
    return line


def cmd_users_move(args: argparse.Namespace) -> None:
    from gis.services.admin import move_user
    from gis.store.accounts import get_user, team_id_by_name
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        user_id = _user_id(conn, args.name)
        moved = move_user(
            conn, getpass.getuser(), user_id, team_id_by_name(conn, args.team), get_user(conn, user_id)["version"]
        )
    print(
        f"Đã chuyển «{args.name}» từ tổ «{moved['former_team']['name']}» sang tổ «{moved['team']}» (áp dụng từ yêu cầu"
        f" tiếp theo){_former_team_line(moved['former_team'])}"
    )


def cmd_users_role(args: argparse.Namespace) -> None:
    from gis.services.admin import change_user_role
    from gis.store.accounts import get_user, team_id_by_name
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        user_id = _user_id(conn, args.name)
        team_id = team_id_by_name(conn, args.team) if args.team else None
        changed = change_user_role(
            conn, getpass.getuser(), user_id, args.role, team_id, args.province, get_user(conn, user_id)["version"]
        )
    team = f", tổ «{changed['team']}»" if changed["team"] else ""
    print(
        f"Vai trò của «{args.name}» từ nay: {Role.labels()[args.role]}{team}{_scope(args)}; mọi phiên đăng nhập của tài"
        f" khoản đã kết thúc{_former_team_line(changed['former_team'])}"
    )


def cmd_users_unlock(args: argparse.Namespace) -> None:
    from gis.services.admin import unlock_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        unlock_user(conn, getpass.getuser(), _user_id(conn, args.name))
    print(f"Đã mở khóa tài khoản «{args.name}»")


def cmd_users_deactivate(args: argparse.Namespace) -> None:
    from gis.services.admin import set_user_active
    from gis.store.accounts import get_user
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        user_id = _user_id(conn, args.name)
        changed = set_user_active(conn, getpass.getuser(), user_id, False, get_user(conn, user_id)["version"])
    print(
        f"Đã ngừng tài khoản «{args.name}» và kết thúc mọi phiên đăng nhập của tài khoản"
        f"{_former_team_line(changed['former_team'])}"
    )


def cmd_users_revoke(args: argparse.Namespace) -> None:
    from gis.services.admin import revoke_sessions
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        ended = revoke_sessions(conn, getpass.getuser(), _user_id(conn, args.name))
    print(f"Đã kết thúc {ended} phiên đăng nhập của «{args.name}»")


def cmd_users_password(args: argparse.Namespace) -> None:
    from api.security import hash_password
    from gis.services.admin import reset_password
    from gis.store.db import get_engine

    password = _read_password(args.password_stdin, args.name)
    with get_engine().begin() as conn:
        user_id = _user_id(conn, args.name)
        reset_password(
            conn, getpass.getuser(), user_id, hash_password(password), must_change_password=not args.no_change_required
        )
    print(f"Đã đổi mật khẩu của «{args.name}» và kết thúc mọi phiên đăng nhập của tài khoản{_first_login(args)}")


def cmd_users_demo(args: argparse.Namespace) -> None:
    """Create the demo accounts (printed with their password), audited as the operating-system user's."""
    from api.security import hash_password
    from gis.demo.accounts import seed_demo_accounts
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        logins = seed_demo_accounts(conn, hash_password, args.areas, actor=getpass.getuser())
    print("Tài khoản DEMO (chỉ dùng với dữ liệu tổng hợp — demo only, never on real data):")
    for login in logins:
        team = f"  {login['team']} — {login['communes']} xã/phường" if "team" in login else ""
        print(f"  {login['username']:<10} {Role.labels()[login['role']]:<16} mật khẩu: {login['password']}{team}")


def _role_arguments(parser: argparse.ArgumentParser, role_help: str) -> None:
    """A user's role and its scope (``users add`` and ``users role``): --role, --team, --province."""
    parser.add_argument(
        "--role",
        required=True,
        choices=Role.values(),
        help=f"{role_help}: " + ", ".join(f"{code} = {label}" for code, label in Role.labels().items()),
    )
    parser.add_argument("--team", help="tên tổ (bắt buộc với --role team)")
    parser.add_argument(
        "--province",
        metavar="MÃ",
        help="giới hạn người dùng chỉ huy hoặc tham mưu trong một tỉnh, thành phố (ví dụ 31 = Hải Phòng);"
        " không ghi: toàn quốc",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the `teams`, `users` and `provinces` command groups."""
    provinces = sub.add_parser(
        "provinces",
        help="tỉnh, thành phố",
        **parser_options("Liệt kê tỉnh, thành phố và số đơn vị cấp xã đã nạp ranh giới."),
    )
    p_sub = provinces.add_subparsers(dest="action", required=True, metavar="list")
    p_list = p_sub.add_parser("list", help="các tỉnh, thành phố", **parser_options("Liệt kê tỉnh, thành phố."))
    p_list.add_argument("--json", action="store_true", help="in dạng JSON")
    p_list.set_defaults(func=cmd_provinces_list)
    teams = sub.add_parser(
        "teams",
        help="tổ công tác và địa bàn phụ trách",
        **parser_options("Tạo và liệt kê tổ công tác; địa bàn phụ trách là danh sách mã xã, phường."),
    )
    t_sub = teams.add_subparsers(dest="action", required=True, metavar="add|rename|dissolve|list")
    t_add = t_sub.add_parser("add", help="tạo tổ phụ trách một số xã, phường", **parser_options("Tạo tổ công tác."))
    t_add.add_argument("name", help="tên tổ")
    t_add.add_argument("--communes", required=True, metavar="MÃ,MÃ", help="mã xã, phường, cách nhau bằng dấu phẩy")
    t_add.set_defaults(func=cmd_teams_add)
    t_rename = t_sub.add_parser(
        "rename",
        help="đổi tên tổ (thành viên, địa bàn, nhiệm vụ và lịch sử vẫn là của tổ)",
        **parser_options(
            "Đổi tên tổ công tác; tên mới không được trùng tên tổ khác (không phân biệt chữ hoa, thường)."
        ),
    )
    t_rename.add_argument("name", type=cli_name("tên tổ"), help="tên hiện tại của tổ")
    t_rename.add_argument("new_name", metavar="TÊN_MỚI", help="tên mới")
    t_rename.set_defaults(func=cmd_teams_rename)
    t_dissolve = t_sub.add_parser(
        "dissolve",
        help="giải thể tổ (khi tổ không còn thành viên và nhiệm vụ chưa xong)",
        **parser_options(
            "Giải thể tổ công tác: địa bàn kết thúc hôm nay, tổ giữ lại trong lịch sử; bị từ chối khi tổ còn thành"
            " viên hoặc nhiệm vụ chưa xong."
        ),
    )
    t_dissolve.add_argument("name", type=cli_name("tên tổ"), help="tên tổ")
    t_dissolve.set_defaults(func=cmd_teams_dissolve)
    t_list = t_sub.add_parser("list", help="các tổ và địa bàn hiện tại", **parser_options("Liệt kê tổ công tác."))
    t_list.add_argument("--json", action="store_true", help="in dạng JSON")
    t_list.set_defaults(func=cmd_teams_list)

    users = sub.add_parser(
        "users",
        help="tài khoản người dùng",
        **parser_options("Tạo và liệt kê tài khoản; mật khẩu lưu dạng băm argon2."),
    )
    u_sub = users.add_subparsers(
        dest="action",
        required=True,
        metavar="add|import|list|move|role|province|unlock|deactivate|revoke|password|demo",
    )
    u_add = u_sub.add_parser("add", help="tạo người dùng", **parser_options("Tạo người dùng."))
    u_add.add_argument("name", help="tên đăng nhập")
    _role_arguments(u_add, "vai trò")
    u_add.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ dòng đầu của đầu vào chuẩn")
    _change_required_argument(u_add)
    u_add.set_defaults(func=cmd_users_add)
    u_import = u_sub.add_parser(
        "import",
        help="tạo tổ công tác và người dùng từ một tệp (tất cả hoặc không gì)",
        **parser_options(
            "Tạo tổ công tác (kèm địa bàn) và người dùng từ tệp CSV/Excel, mỗi dòng một cán bộ; có dòng sai thì không"
            " tạo gì. Mật khẩu dùng một lần ghi vào tệp Excel --out."
        ),
    )
    u_import.add_argument(
        "file", metavar="TỆP", help="tệp tài khoản (.csv, .txt, .xlsx), xem mẫu data/samples/mau-nhap-tai-khoan.xlsx"
    )
    u_import.add_argument("--sheet", metavar="TRANG", help="trang tính của tệp Excel (mặc định trang đầu)")
    u_import.add_argument(
        "--out",
        metavar="TỆP",
        default="mat-khau-lan-dau.xlsx",
        help="tệp Excel ghi mật khẩu dùng một lần (không ghi đè tệp đã có)",
    )
    u_import.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    u_import.set_defaults(func=cmd_users_import)
    u_list = u_sub.add_parser(
        "list", help="người dùng với vai trò, tổ, trạng thái khóa", **parser_options("Liệt kê người dùng.")
    )
    u_list.add_argument("--json", action="store_true", help="in dạng JSON")
    u_list.set_defaults(func=cmd_users_list)
    for name, func, help_vi in (
        ("unlock", cmd_users_unlock, "mở khóa ngay tài khoản bị khóa vì đăng nhập sai nhiều lần"),
        ("deactivate", cmd_users_deactivate, "ngừng tài khoản (mọi phiên đăng nhập kết thúc ngay)"),
        ("revoke", cmd_users_revoke, "kết thúc mọi phiên đăng nhập của người dùng (phải đăng nhập lại)"),
        ("password", cmd_users_password, "đặt mật khẩu mới (mọi phiên đăng nhập kết thúc)"),
    ):
        command = u_sub.add_parser(name, help=help_vi, **parser_options(help_vi[0].upper() + help_vi[1:] + "."))
        command.add_argument("name", type=cli_name("tên đăng nhập"), help="tên đăng nhập")
        if func is cmd_users_password:
            command.add_argument(
                "--password-stdin", action="store_true", help="đọc mật khẩu từ dòng đầu của đầu vào chuẩn"
            )
            _change_required_argument(command)
        command.set_defaults(func=func)
    u_move = u_sub.add_parser(
        "move",
        help="chuyển người dùng tổ công tác sang tổ khác (nhiệm vụ đang mở ở lại tổ cũ)",
        **parser_options(
            "Chuyển người dùng tổ công tác sang tổ khác: vẫn tài khoản đó, lịch sử giữ nguyên; nhiệm vụ thuộc về tổ,"
            " không thuộc người, nên nhiệm vụ đang mở ở lại tổ cũ."
        ),
    )
    u_move.add_argument("name", type=cli_name("tên đăng nhập"), help="tên đăng nhập")
    u_move.add_argument("--team", required=True, type=cli_name("tên tổ"), help="tên tổ mới")
    u_move.set_defaults(func=cmd_users_move)
    u_role = u_sub.add_parser(
        "role",
        help="đổi vai trò người dùng (mọi phiên đăng nhập kết thúc)",
        **parser_options(
            "Đổi vai trò người dùng cùng phạm vi của vai trò mới; mọi phiên đăng nhập của tài khoản kết thúc. Không đổi"
            " được vai trò của quản trị viên cuối cùng còn hoạt động."
        ),
    )
    u_role.add_argument("name", type=cli_name("tên đăng nhập"), help="tên đăng nhập")
    _role_arguments(u_role, "vai trò mới")
    u_role.set_defaults(func=cmd_users_role)
    u_province = u_sub.add_parser(
        "province",
        help="giới hạn người dùng chỉ huy, tham mưu trong một tỉnh, thành phố (hoặc cho xem toàn quốc)",
        **parser_options("Đặt phạm vi tỉnh, thành phố của người dùng chỉ huy hoặc tham mưu."),
    )
    u_province.add_argument("name", type=cli_name("tên đăng nhập"), help="tên đăng nhập")
    where = u_province.add_mutually_exclusive_group(required=True)
    where.add_argument("--province", metavar="MÃ", help="mã tỉnh, thành phố (xem `diaban provinces list`)")
    where.add_argument("--nation", action="store_true", help="bỏ giới hạn: xem toàn quốc")
    u_province.set_defaults(func=cmd_users_province)
    u_demo = u_sub.add_parser(
        "demo",
        help="tài khoản demo: chỉ huy, tham mưu, quản trị và một tổ mỗi địa bàn",
        **parser_options("Tạo tài khoản DEMO (chỉ dùng với dữ liệu giả lập)."),
    )
    u_demo.add_argument("--areas", type=cli_int(1), default=12, help="số địa bàn liền kề (số tổ)")
    u_demo.set_defaults(func=cmd_users_demo)
