"""`diaban teams …` and `diaban users …`: teams with their areas, users with argon2 passwords, demo accounts."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from api.cli.vi import parser_options
from models.errors import InvalidRequest
from models.vocabulary import Role


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu: ")
        if password != getpass.getpass("Nhập lại mật khẩu: "):
            raise InvalidRequest("hai lần nhập mật khẩu không khớp", "the two passwords differ")
    if len(password) < 8:
        raise InvalidRequest("mật khẩu phải có ít nhất 8 ký tự", "a password needs at least 8 characters")
    return password


def cmd_teams_add(args: argparse.Namespace) -> None:
    from gis.services.admin import create_team
    from gis.store.db import get_engine

    communes = [c.strip() for c in args.communes.split(",") if c.strip()]
    with get_engine().begin() as conn:
        team_id = create_team(conn, getpass.getuser(), args.name, communes)
    print(f"Đã tạo tổ công tác #{team_id} '{args.name}' phụ trách {len(communes)} xã/phường")


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


def cmd_users_add(args: argparse.Namespace) -> None:
    from api.security import hash_password
    from gis.services.admin import create_user
    from gis.store.accounts import team_id_by_name
    from gis.store.db import get_engine

    password = _read_password(args.password_stdin)
    with get_engine().begin() as conn:
        team_id = team_id_by_name(conn, args.team) if args.team else None
        user_id = create_user(conn, getpass.getuser(), args.name, hash_password(password), args.role, team_id)
    team = f", tổ {args.team}" if args.team else ""
    print(f"Đã tạo người dùng #{user_id} '{args.name}' vai trò {args.role}{team}")


def cmd_users_list(args: argparse.Namespace) -> None:
    from gis.store.accounts import list_users
    from gis.store.db import get_engine

    with get_engine().connect() as conn:
        users = list_users(conn)
    if args.json:
        print(json.dumps(users, ensure_ascii=False))
        return
    for user in users:
        state = "khóa tạm" if user["locked"] else ("hoạt động" if user["active"] else "ngừng")
        print(f"{user['username']:<16} {user['role']:<8} {user['team'] or '-':<40} {state}")


def cmd_users_demo(args: argparse.Namespace) -> None:
    from api.security import hash_password
    from gis.demo.accounts import seed_demo_accounts
    from gis.store.db import get_engine

    with get_engine().begin() as conn:
        logins = seed_demo_accounts(conn, hash_password, args.areas)
    print("Tài khoản DEMO (chỉ dùng với dữ liệu tổng hợp — demo only, never on real data):")
    for login in logins:
        team = f"  {login['team']} — {login['communes']} xã/phường" if "team" in login else ""
        print(f"  {login['username']:<10} {login['role']:<8} mật khẩu: {login['password']}{team}")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the `teams` and `users` command groups."""
    teams = sub.add_parser(
        "teams",
        help="tổ công tác và địa bàn phụ trách",
        **parser_options("Tạo và liệt kê tổ công tác; địa bàn phụ trách là danh sách mã xã, phường."),
    )
    t_sub = teams.add_subparsers(dest="action", required=True, metavar="add|list")
    t_add = t_sub.add_parser("add", help="tạo tổ phụ trách một số xã, phường", **parser_options("Tạo tổ công tác."))
    t_add.add_argument("name", help="tên tổ")
    t_add.add_argument("--communes", required=True, metavar="MÃ,MÃ", help="mã xã, phường, cách nhau bằng dấu phẩy")
    t_add.set_defaults(func=cmd_teams_add)
    t_list = t_sub.add_parser("list", help="các tổ và địa bàn hiện tại", **parser_options("Liệt kê tổ công tác."))
    t_list.add_argument("--json", action="store_true", help="in dạng JSON")
    t_list.set_defaults(func=cmd_teams_list)

    users = sub.add_parser(
        "users",
        help="tài khoản người dùng",
        **parser_options("Tạo và liệt kê tài khoản; mật khẩu lưu dạng băm argon2."),
    )
    u_sub = users.add_subparsers(dest="action", required=True, metavar="add|list|demo")
    u_add = u_sub.add_parser("add", help="tạo người dùng", **parser_options("Tạo người dùng."))
    u_add.add_argument("name", help="tên đăng nhập")
    u_add.add_argument(
        "--role",
        required=True,
        choices=Role.values(),
        help="vai trò: " + ", ".join(f"{code} = {label}" for code, label in Role.labels().items()),
    )
    u_add.add_argument("--team", help="tên tổ (bắt buộc với --role team)")
    u_add.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ dòng đầu của đầu vào chuẩn")
    u_add.set_defaults(func=cmd_users_add)
    u_list = u_sub.add_parser(
        "list", help="người dùng với vai trò, tổ, trạng thái khóa", **parser_options("Liệt kê người dùng.")
    )
    u_list.add_argument("--json", action="store_true", help="in dạng JSON")
    u_list.set_defaults(func=cmd_users_list)
    u_demo = u_sub.add_parser(
        "demo",
        help="tài khoản demo: chỉ huy, tham mưu, quản trị và một tổ mỗi địa bàn",
        **parser_options("Tạo tài khoản DEMO (chỉ dùng với dữ liệu giả lập)."),
    )
    u_demo.add_argument("--areas", type=int, default=12, help="số địa bàn liền kề (số tổ)")
    u_demo.set_defaults(func=cmd_users_demo)
