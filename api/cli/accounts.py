"""`diaban teams …` and `diaban users …`: teams with their areas, users with argon2 passwords, demo accounts."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from api.security import hash_password
from gis.store.accounts import (
    create_team,
    create_user,
    list_teams,
    list_users,
    set_active,
    set_password,
    team_id_by_name,
    user_id_by_name,
)
from gis.store.db import get_engine
from gis.store.logins import unlock_account
from gis.store.sessions import revoke_user_sessions
from models.errors import InvalidRequest
from models.vocabulary import Role, SessionEnd


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
    communes = [c.strip() for c in args.communes.split(",") if c.strip()]
    with get_engine().begin() as conn:
        team_id = create_team(conn, args.name, communes)
    print(f"Đã tạo tổ công tác #{team_id} '{args.name}' phụ trách {len(communes)} xã/phường")


def cmd_teams_list(args: argparse.Namespace) -> None:
    with get_engine().connect() as conn:
        teams = list_teams(conn)
    if args.json:
        print(json.dumps(teams, ensure_ascii=False))
        return
    for team in teams:
        print(f"#{team['id']} {team['name']}: {team['members']} người, địa bàn {', '.join(team['communes'])}")


def cmd_users_add(args: argparse.Namespace) -> None:
    password = _read_password(args.password_stdin)
    with get_engine().begin() as conn:
        team_id = team_id_by_name(conn, args.team) if args.team else None
        user_id = create_user(conn, args.name, hash_password(password), args.role, team_id)
    team = f", tổ {args.team}" if args.team else ""
    print(f"Đã tạo người dùng #{user_id} '{args.name}' vai trò {args.role}{team}")


def cmd_users_list(args: argparse.Namespace) -> None:
    with get_engine().connect() as conn:
        users = list_users(conn)
    if args.json:
        print(json.dumps(users, ensure_ascii=False))
        return
    for user in users:
        state = "khóa tạm" if user["locked"] else ("hoạt động" if user["active"] else "ngừng")
        print(f"{user['username']:<16} {user['role']:<8} {user['team'] or '-':<40} {state}")


def cmd_users_unlock(args: argparse.Namespace) -> None:
    with get_engine().begin() as conn:
        unlock_account(conn, user_id_by_name(conn, args.name))
    print(f"Đã mở khóa tài khoản '{args.name}' (unlocked)")


def cmd_users_deactivate(args: argparse.Namespace) -> None:
    with get_engine().begin() as conn:
        set_active(conn, user_id_by_name(conn, args.name), False)
    print(f"Đã ngừng tài khoản '{args.name}' và kết thúc mọi phiên đăng nhập (deactivated, sessions ended)")


def cmd_users_revoke(args: argparse.Namespace) -> None:
    with get_engine().begin() as conn:
        ended = revoke_user_sessions(conn, user_id_by_name(conn, args.name), SessionEnd.REVOKED)
    print(f"Đã kết thúc {ended} phiên đăng nhập của '{args.name}' (sessions ended)")


def cmd_users_password(args: argparse.Namespace) -> None:
    password = _read_password(args.password_stdin)
    with get_engine().begin() as conn:
        set_password(conn, user_id_by_name(conn, args.name), hash_password(password))
    print(f"Đã đổi mật khẩu của '{args.name}' và kết thúc mọi phiên đăng nhập (password changed, sessions ended)")


def cmd_users_demo(args: argparse.Namespace) -> None:
    from gis.demo.accounts import seed_demo_accounts

    with get_engine().begin() as conn:
        logins = seed_demo_accounts(conn, hash_password, args.areas)
    print("Tài khoản DEMO (chỉ dùng với dữ liệu tổng hợp — demo only, never on real data):")
    for login in logins:
        team = f"  {login['team']} — {login['communes']} xã/phường" if "team" in login else ""
        print(f"  {login['username']:<10} {login['role']:<8} mật khẩu: {login['password']}{team}")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the `teams` and `users` command groups."""
    teams = sub.add_parser("teams", help="field teams and their areas of responsibility")
    t_sub = teams.add_subparsers(dest="action", required=True)
    t_add = t_sub.add_parser("add", help="create a team responsible for some communes")
    t_add.add_argument("name")
    t_add.add_argument("--communes", required=True, help="commune codes, comma-separated")
    t_add.set_defaults(func=cmd_teams_add)
    t_list = t_sub.add_parser("list", help="teams with their current communes")
    t_list.add_argument("--json", action="store_true")
    t_list.set_defaults(func=cmd_teams_list)

    users = sub.add_parser("users", help="user accounts")
    u_sub = users.add_subparsers(dest="action", required=True)
    u_add = u_sub.add_parser("add", help="create a user (password hashed with argon2)")
    u_add.add_argument("name")
    u_add.add_argument("--role", required=True, choices=Role.values())
    u_add.add_argument("--team", help="team name (required for --role team)")
    u_add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    u_add.set_defaults(func=cmd_users_add)
    u_list = u_sub.add_parser("list", help="users with role, team and lock state")
    u_list.add_argument("--json", action="store_true")
    u_list.set_defaults(func=cmd_users_list)
    u_unlock = u_sub.add_parser("unlock", help="lift the lock after failed logins at once")
    u_unlock.add_argument("name")
    u_unlock.set_defaults(func=cmd_users_unlock)
    u_off = u_sub.add_parser("deactivate", help="stop an account (its sessions end at once)")
    u_off.add_argument("name")
    u_off.set_defaults(func=cmd_users_deactivate)
    u_revoke = u_sub.add_parser("revoke", help="end every open session of a user (they log in again)")
    u_revoke.add_argument("name")
    u_revoke.set_defaults(func=cmd_users_revoke)
    u_pw = u_sub.add_parser("password", help="set a user's password (their sessions end)")
    u_pw.add_argument("name")
    u_pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    u_pw.set_defaults(func=cmd_users_password)
    u_demo = u_sub.add_parser("demo", help="demo accounts: command, planner, admin and one team per area")
    u_demo.add_argument("--areas", type=int, default=12, help="number of contiguous areas (teams)")
    u_demo.set_defaults(func=cmd_users_demo)
