"""Authentication: token flow, lockout, refused tokens, the signing key; the accounts CLI and demo accounts."""

import io
import os
import re
import stat
import sys
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta

import jwt
from conftest import TEST_PASSWORD
from sqlalchemy import text

from api.cli.main import main
from api.security import create_access_token, resolve_secret_key
from gis.demo.accounts import DEMO_STAFF, commune_layout, seed_demo_accounts
from gis.store.accounts import shared_communes
from gis.store.sessions import open_session
from models.analytics.areas import connect_components
from models.vocabulary import local_today

OPEN_PATHS = {"/health", "/api/auth/token"}


def login(client, username: str, password: str = TEST_PASSWORD):
    """POST the OAuth2 password form."""
    return client.post(
        "/api/auth/token", data={"username": username, "password": password}, headers={"Authorization": ""}
    )


def test_password_flow_gives_a_bearer_token(client, make_user) -> None:
    make_user("thammuu", "planner")
    response = login(client, "thammuu")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["username"] == "thammuu" and me["role"] == "planner" and me["role_label"] == "Cán bộ tham mưu"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_the_users_list_says_when_each_user_last_logged_in(client, make_user, bearer, conn) -> None:
    """Sessions are deleted once ended, so nothing said whether an account had been used this year: each successful
    login is the user's last (a refused one is not), null for a user who never logged in."""
    make_user("da-dang-nhap", "planner")
    make_user("chua-dang-nhap", "planner")
    client.headers.update(bearer(make_user("quan-tri-thu", "admin")))
    before = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    assert login(client, "da-dang-nhap").status_code == 200
    listed = {u["username"]: u for u in client.get("/api/users").json()}
    assert listed["chua-dang-nhap"]["last_login_at"] is None
    first = datetime.fromisoformat(listed["da-dang-nhap"]["last_login_at"])
    assert first >= before
    assert login(client, "da-dang-nhap", "sai").status_code == 401
    assert login(client, "chua-dang-nhap", "sai").status_code == 401
    listed = {u["username"]: u for u in client.get("/api/users").json()}
    assert datetime.fromisoformat(listed["da-dang-nhap"]["last_login_at"]) == first
    assert listed["chua-dang-nhap"]["last_login_at"] is None


def test_a_password_with_diacritics_is_the_same_composed_or_decomposed(client, conn) -> None:
    """Vietnamese marks arrive composed (NFC, Windows) or decomposed (NFD, some phone and Mac keyboards): the same
    password to the person typing it. A hash made from a decomposed entry before normalising still opens."""
    from api.security import _hasher, hash_password
    from gis.store.accounts import create_user

    composed = unicodedata.normalize("NFC", "Mật-khẩu-Đường-Hồ")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    create_user(conn, "nfc", hash_password(composed), "planner", None, None)
    create_user(conn, "nfd", hash_password(decomposed), "planner", None, None)
    create_user(conn, "cu", _hasher().hash(decomposed), "planner", None, None)  # hashed as typed, before this fix
    for username in ("nfc", "nfd"):
        assert [login(client, username, typed).status_code for typed in (composed, decomposed)] == [200, 200], username
    assert login(client, "cu", decomposed).status_code == 200
    assert login(client, "nfc", composed.lower()).status_code == 401


def test_wrong_password_unknown_locked_and_inactive_users_look_the_same(client, make_user, conn) -> None:
    make_user("chihuy", "command")
    make_user("khoa", "command")
    make_user("nghi", "command")
    conn.execute(text("UPDATE users SET locked_until = now() + interval '1 minute' WHERE username = 'khoa'"))
    conn.execute(text("UPDATE users SET active = false WHERE username = 'nghi'"))
    answers = [
        login(client, "chihuy", "sai-mat-khau"),
        login(client, "khong-co", "sai-mat-khau"),
        login(client, "khoa"),  # the right password of a locked account
        login(client, "nghi"),  # the right password of a deactivated account
    ]
    assert {a.status_code for a in answers} == {401}
    assert all(a.json() == answers[0].json() for a in answers)
    assert "tạm khóa" in answers[0].json()["detail"]


def test_a_refused_login_or_password_change_has_the_documented_error_body(client, make_user) -> None:
    """The login's and the password change's refusals are returned, not raised (their failure counts are committed):
    they too carry ``message``, the Vietnamese alone that a page shows (they had only ``detail`` and ``code``)."""
    make_user("sai-mk", "planner")
    refused = login(client, "sai-mk", "sai-mat-khau").json()
    assert refused["code"] == "invalid_credentials"
    assert (
        refused["message"] == "sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang tạm khóa do đăng nhập sai nhiều lần"
    )
    assert refused["detail"].startswith(refused["message"] + " (incorrect")
    token = login(client, "sai-mk").json()["access_token"]
    wrong = client.post(
        "/api/auth/password",
        json={"current_password": "sai", "new_password": "mat-khau-moi-dai"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert wrong == {
        "detail": "mật khẩu hiện tại không đúng (wrong current password)",
        "message": "mật khẩu hiện tại không đúng",
        "code": "wrong_password",
    }


def test_five_failures_lock_the_account_even_for_the_right_password(client, make_user, make_team, conn) -> None:
    make_user("to01", "team", make_team("Tổ 1", ["10507"]))
    assert login(client, "to01").status_code == 200
    for _ in range(4):
        assert login(client, "to01", "sai").status_code == 401
    assert login(client, "to01").status_code == 200  # success resets the count
    for _ in range(5):
        assert login(client, "to01", "sai").status_code == 401
    assert login(client, "to01").status_code == 401
    until = conn.execute(
        text("SELECT locked_until - clock_timestamp() FROM users WHERE username = 'to01'")
    ).scalar_one()
    assert 4 * 60 < until.total_seconds() <= 5 * 60  # a short lock (DIABAN_LOCKOUT_MINUTES)
    conn.execute(text("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'to01'"))
    assert login(client, "to01").status_code == 200


def test_every_api_route_requires_a_token(client) -> None:
    client.headers.pop("Authorization")
    paths = client.app.openapi()["paths"]
    assert len(paths) > 10
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in operations:
            status = client.request(method, path).status_code
            if template in OPEN_PATHS:
                assert status != 401, template
            else:
                assert status == 401, (method, template)
    assert client.get("/health").status_code == 200


def test_tampered_expired_foreign_and_inactive_tokens_are_refused(client, make_user, bearer, conn) -> None:
    user_id = make_user("thammuu", "planner")
    good = bearer(user_id)["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    header, payload, signature = good.split(".")
    other_payload = jwt.utils.base64url_encode(b'{"sub":"1","exp":9999999999}').decode()
    unsigned = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    forged = jwt.encode(
        {"sub": "1", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "mot-khoa-khac-du-dai-de-ky-hs256-abcdef",
        algorithm="HS256",
    )
    refused = [
        f"{header}.{payload}.{signature[:-2]}xx",
        f"{header}.{other_payload}.{signature}",
        bearer(user_id, minutes=-1)["Authorization"].removeprefix("Bearer "),
        forged,
        f"{unsigned}.{payload}.",
        "not-a-token",
    ]
    key = client.app.state.auth.secret_key
    refused += [
        jwt.encode({"sub": str(user_id), "exp": datetime.now(UTC) + timedelta(hours=1)}, key, algorithm="HS256"),
        create_access_token(user_id, "khong-co-phien-nay", key, 30),  # well signed, but no such session
    ]
    for token in refused:
        response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == "Bearer"
    admin = bearer(make_user("quantri", "admin"))
    assert client.patch(f"/api/users/{user_id}", json={"active": False, "version": 1}, headers=admin).status_code == 200
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {good}"}).status_code == 401


def test_secret_key_is_generated_once_private_and_kept(tmp_path) -> None:
    configured = "k" * 32
    assert resolve_secret_key(configured, tmp_path) == configured
    first = resolve_secret_key(None, tmp_path / "home")
    assert len(first) >= 40 and resolve_secret_key(None, tmp_path / "home") == first
    assert stat.S_IMODE(os.stat(tmp_path / "home" / "secret_key").st_mode) == 0o600
    token = create_access_token(7, "phien", first, 5)
    claims = jwt.decode(token, first, algorithms=["HS256"])
    assert (claims["sub"], claims["sid"]) == ("7", "phien")


def test_cli_adds_teams_and_users_and_lists_them(db_env, engine, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])

    def diaban(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(list(args))

    try:
        assert diaban("teams", "add", "Tổ CLI", "--communes", "10507,10525") == 0
        assert diaban("teams", "add", "Tổ CLI 2", "--communes", "99999") == 2
        capsys.readouterr()
        assert diaban("teams", "add", "Tổ CLI 3", "--communes", "10525") == 0  # shares a commune with Tổ CLI
        shared = capsys.readouterr().out
        assert "Lưu ý:" in shared and "cũng thuộc địa bàn của Tổ CLI" in shared, shared
        assert (
            diaban(
                "users",
                "add",
                "cli-to",
                "--role",
                "team",
                "--team",
                "Tổ CLI",
                "--password-stdin",
                stdin="mat-khau-dai-du\n",
            )
            == 0
        )
        assert (
            diaban("users", "add", "cli-to", "--role", "command", "--password-stdin", stdin="mat-khau-dai-du\n") == 3
        )  # already exists: refused
        assert diaban("users", "add", "ngan", "--role", "command", "--password-stdin", stdin="ngan\n") == 2
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET locked_until = now() + interval '5 minutes' WHERE username = 'cli-to'"))
        assert diaban("users", "unlock", "cli-to") == 0
        assert diaban("users", "unlock", "khong-co-ai") == 2
        with engine.begin() as conn:
            cli_id = conn.execute(text("SELECT id FROM users WHERE username = 'cli-to'")).scalar_one()
            for _ in range(2):
                open_session(conn, cli_id, 30)
        assert diaban("users", "revoke", "cli-to") == 0
        capsys.readouterr()
        assert diaban("users", "password", "cli-to", "--password-stdin", stdin="mat-khau-moi-nua\n") == 0
        assert capsys.readouterr().out.strip().endswith("người dùng phải đổi mật khẩu này khi đăng nhập lần đầu")
        own = ("users", "add", "cli-chinh-minh", "--role", "admin", "--password-stdin", "--no-change-required")
        assert diaban(*own, stdin="mat-khau-cua-toi\n") == 0
        with engine.connect() as conn:
            must = conn.execute(
                text("SELECT username, must_change_password FROM users WHERE username IN ('cli-to', 'cli-chinh-minh')")
            )
            assert dict(must.all()) == {"cli-to": True, "cli-chinh-minh": False}
        assert diaban("users", "deactivate", "cli-to") == 0
        with engine.connect() as conn:
            ended = conn.execute(
                text("SELECT count(*) FROM sessions WHERE user_id = :id AND revoked_reason = 'revoked'"), {"id": cli_id}
            )
            assert ended.scalar_one() == 2
        capsys.readouterr()
        assert diaban("users", "list") == 0
        listed = capsys.readouterr().out
        assert "cli-to" in listed and "Tổ CLI" in listed and "ngừng" in listed and "khóa tạm" not in listed
        assert "Tổ công tác" in listed and " team " not in listed  # the role by its label, not its code
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'cli-to'")).scalar_one()
        assert stored.startswith("$argon2id$") and "mat-khau-dai-du" not in stored
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username IN ('cli-to', 'cli-chinh-minh')"))
            conn.execute(text("DELETE FROM teams WHERE name LIKE 'Tổ CLI%'"))


def test_cli_renames_a_team_moves_a_user_and_changes_a_role(db_env, engine, monkeypatch, capsys) -> None:
    """`diaban teams rename`, `diaban users move`, `diaban users role` and `diaban teams dissolve` are the page's
    services: the same rules, the same audit lines; the role change ends the user's sessions."""
    monkeypatch.setenv("DIABAN_DATABASE_URL", db_env["DIABAN_DATABASE_URL"])

    def diaban(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO("mat-khau-dai-du\n"))
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    try:
        assert diaban("teams", "add", "Tổ CLI A", "--communes", "10507")[0] == 0
        assert diaban("teams", "add", "Tổ CLI B", "--communes", "10525")[0] == 0
        assert diaban("users", "add", "cli-can-bo", "--role", "team", "--team", "Tổ CLI A", "--password-stdin")[0] == 0
        code, out, _ = diaban("teams", "rename", "Tổ CLI A", "Tổ CLI Một")
        assert code == 0 and "«Tổ CLI A» thành «Tổ CLI Một»" in out, out
        code, _, err = diaban("teams", "rename", "Tổ CLI Một", "tổ cli b")
        assert code == 3 and "tổ công tác «Tổ CLI B» đã tồn tại" in err, err
        code, out, _ = diaban("users", "move", "cli-can-bo", "--team", "Tổ CLI B")
        assert code == 0 and "từ tổ «Tổ CLI Một» sang tổ «Tổ CLI B»" in out, out
        with engine.begin() as conn:
            user_id = conn.execute(text("SELECT id FROM users WHERE username = 'cli-can-bo'")).scalar_one()
            open_session(conn, user_id, 30)
        code, _, err = diaban("users", "role", "cli-can-bo", "--role", "command", "--team", "Tổ CLI B")
        assert code == 2 and "phải thuộc một tổ" in err, err
        code, out, _ = diaban("users", "role", "cli-can-bo", "--role", "command")
        assert code == 0 and "Ban chỉ huy" in out and "phiên đăng nhập" in out, out
        assert "phạm vi toàn quốc (không ghi --province)" in out, out  # the default said back, never unseen
        code, _, err = diaban("teams", "dissolve", "Tổ CLI B")  # its member moved there and is command now: none
        assert code == 0, err
        code, out, _ = diaban("teams", "dissolve", "Tổ CLI Một")
        assert code == 0 and out.startswith("Đã giải thể tổ công tác #") and "(địa bàn kết thúc: 1 xã, phường)" in out
        code, _, err = diaban("teams", "dissolve", "Tổ CLI Một")
        assert code == 3 and "đã giải thể ngày" in err, err
        with engine.connect() as conn:
            ended = conn.execute(text("SELECT revoked_reason FROM sessions WHERE user_id = :u"), {"u": user_id})
            assert ended.scalars().all() == ["role"]
            actions = conn.execute(
                text("""SELECT action, details FROM admin_audit WHERE target_user_id = :u OR target_team = 'Tổ CLI Một'
                        ORDER BY id"""),
                {"u": user_id},
            ).all()
        assert [a for a, _ in actions] == [
            "create_user",
            "rename_team",
            "move_user",
            "change_user_role",
            "dissolve_team",
        ]
        assert actions[2][1] == {"before": "Tổ CLI Một", "after": "Tổ CLI B"}
        assert actions[3][1]["role"] == {"before": "team", "after": "command"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = 'cli-can-bo'"))
            conn.execute(
                text("DELETE FROM team_areas WHERE team_id IN (SELECT id FROM teams WHERE name LIKE 'Tổ CLI%')")
            )
            conn.execute(text("DELETE FROM teams WHERE name LIKE 'Tổ CLI%'"))


def test_demo_accounts_cover_every_commune_with_contiguous_areas_and_share_one(conn) -> None:
    logins = seed_demo_accounts(conn, lambda password: "demo-hash", n_areas=12)
    assert [(x["username"], x["role"]) for x in logins[: len(DEMO_STAFF)]] == list(DEMO_STAFF)
    teams = [x for x in logins if x["role"] == "team"]
    assert len(teams) == 12 and sum(t["communes"] for t in teams) == 115
    codes, _, xy, edges = commune_layout(conn)
    linked = {frozenset(e) for e in connect_components(xy, edges)}
    index = {c: i for i, c in enumerate(codes)}
    areas = conn.execute(text("SELECT team_id, array_agg(commune_code) FROM team_areas GROUP BY team_id")).all()
    held = Counter(c for _, members in areas for c in members)
    assert set(held) == set(codes) and sorted(held.values()) == [1] * 113 + [2]  # one commune held by two teams
    # … which the administrator's page names for each of the two teams, and for no other.
    named = {team_id: [c["commune_code"] for c in shared_communes(conn, team_id)] for team_id, _ in areas}
    assert sorted(named.values()) == [[]] * 10 + [[c for c, n in held.items() if n == 2]] * 2
    for _, members in areas:  # each area is one connected piece of the neighbour graph
        seen, todo = set(), [index[members[0]]]
        inside = {index[c] for c in members}
        while todo:
            node = todo.pop()
            seen.add(node)
            todo += [j for j in inside - seen if frozenset((node, j)) in linked]
        assert seen == inside
    # Held since the communes exist as they are (their boundaries' start), not from the day the accounts were made:
    # the demo story dates its tasks in the past, and the area history began after them.
    starts = conn.execute(
        text("""SELECT DISTINCT ta.valid_from FROM team_areas ta JOIN teams t ON t.id = ta.team_id
                WHERE t.name LIKE 'Tổ công tác khu vực%'""")
    ).scalars()
    current = conn.execute(text("SELECT DISTINCT valid_from FROM admin_units WHERE valid_to IS NULL")).scalars()
    assert (starts := list(starts)) == list(current) and starts != [local_today()], starts
    again = seed_demo_accounts(conn, lambda password: "demo-hash", n_areas=12)
    assert len(again) == len(logins) and all(x["password"] == "(giữ nguyên)" for x in again)


def test_demo_accounts_are_audited_once_as_made_by_who_seeded_them(conn) -> None:
    """Accounts that log in with a printed password were created without a line of the admin audit."""
    logins = seed_demo_accounts(conn, lambda password: "demo-hash", n_areas=4, actor="van-hanh")
    seed_demo_accounts(conn, lambda password: "demo-hash", n_areas=4, actor="van-hanh")  # kept: nothing again
    audited = conn.execute(
        text("SELECT action, target_user, target_team FROM admin_audit WHERE actor = 'van-hanh' ORDER BY id")
    ).all()
    users = sorted(r.target_user for r in audited if r.action == "create_user")
    teams = [r.target_team for r in audited if r.action == "create_team"]
    assert users == sorted(x["username"] for x in logins)
    assert sorted(teams) == sorted(x["team"] for x in logins if "team" in x) and len(teams) == 4
    # The demo passwords are printed to be used as they are: not to be changed first.
    assert not conn.execute(text("SELECT bool_or(must_change_password) FROM users WHERE username = 'chihuy'")).scalar()
