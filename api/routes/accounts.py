"""Administration of users and teams (admin only)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from api.deps import Admin, ConnDep
from api.security import hash_password
from gis.store.accounts import create_team, create_user, list_teams, list_users
from models.vocabulary import Role

router = APIRouter(prefix="/api", tags=["accounts"])


class TeamIn(BaseModel):
    """A new team and the commune codes of its area of responsibility."""

    name: str = Field(min_length=1, max_length=200)
    communes: list[str] = Field(min_length=1, max_length=200)


class UserIn(BaseModel):
    """A new user; `team_id` is required for the team role and refused for the others."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    team_id: int | None = None

    @model_validator(mode="after")
    def _team_matches_role(self) -> "UserIn":
        """A team user belongs to a team; other roles to none."""
        if (self.role == "team") != (self.team_id is not None):
            raise ValueError("team_id bắt buộc với vai trò 'team' và không dùng cho vai trò khác")
        return self


@router.get("/teams")
def get_teams(conn: ConnDep, user: Admin) -> list[dict[str, Any]]:
    """Teams with their current communes and member counts."""
    return list_teams(conn)


@router.post("/teams", status_code=201)
def post_team(body: TeamIn, conn: ConnDep, user: Admin) -> dict[str, Any]:
    """Create a team responsible for the given communes from today."""
    return {"id": create_team(conn, body.name, body.communes), "name": body.name}


@router.get("/users")
def get_users(conn: ConnDep, user: Admin) -> list[dict[str, Any]]:
    """Users with role, team and lock state."""
    return list_users(conn)


@router.post("/users", status_code=201)
def post_user(body: UserIn, conn: ConnDep, user: Admin) -> dict[str, Any]:
    """Create a user with an argon2-hashed password."""
    user_id = create_user(conn, body.username, hash_password(body.password), body.role, body.team_id)
    return {"id": user_id, "username": body.username, "role": body.role, "team_id": body.team_id}
