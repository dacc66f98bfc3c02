"""Administration of users and teams (admin only)."""

from fastapi import APIRouter

from api.deps import Admin, ConnDep, SessionsDep
from api.schemas import SessionsRevoked, TeamCreated, TeamIn, TeamOut, UserChanges, UserCreated, UserIn, UserOut
from api.security import hash_password
from gis.store.accounts import create_team, create_user, get_user, list_teams, list_users, set_active
from gis.store.logins import unlock_account
from gis.store.sessions import revoke_user_sessions
from models.vocabulary import SessionEnd

router = APIRouter(prefix="/api", tags=["accounts"])


@router.get("/teams", response_model=list[TeamOut])
def get_teams(conn: ConnDep, user: Admin) -> list[dict]:
    """Teams with their current communes and member counts."""
    return list_teams(conn)


@router.post("/teams", status_code=201, response_model=TeamCreated)
def post_team(body: TeamIn, conn: ConnDep, user: Admin) -> dict:
    """Create a team responsible for the given communes from today."""
    return {"id": create_team(conn, body.name, body.communes), "name": body.name}


@router.get("/users", response_model=list[UserOut])
def get_users(conn: ConnDep, user: Admin) -> list[dict]:
    """Users with role, team and lock state."""
    return list_users(conn)


@router.post("/users", status_code=201, response_model=UserCreated)
def post_user(body: UserIn, conn: ConnDep, user: Admin) -> dict:
    """Create a user with an argon2-hashed password."""
    user_id = create_user(conn, body.username, hash_password(body.password), body.role, body.team_id)
    return {"id": user_id, "username": body.username, "role": body.role, "team_id": body.team_id}


@router.post("/users/{user_id:int}/unlock", response_model=UserOut)
def unlock_user(user_id: int, conn: ConnDep, user: Admin) -> dict:
    """Lift a user's lock after failed logins at once (and forget the failures)."""
    unlock_account(conn, user_id)
    return get_user(conn, user_id)


@router.patch("/users/{user_id:int}", response_model=UserOut)
def patch_user(user_id: int, body: UserChanges, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """Deactivate (or reactivate) a user; deactivation ends every session of the user at once."""
    set_active(conn, user_id, body.active)
    sessions.forget_user(user_id)
    return get_user(conn, user_id)


@router.delete("/users/{user_id:int}/sessions", response_model=SessionsRevoked)
def delete_sessions(user_id: int, conn: ConnDep, user: Admin, sessions: SessionsDep) -> dict:
    """End every open session of a user (a lost phone, a leaked token): they must log in again."""
    get_user(conn, user_id)  # 404 for an unknown user
    revoked = revoke_user_sessions(conn, user_id, SessionEnd.REVOKED)
    sessions.forget_user(user_id)
    return {"revoked": revoked}
