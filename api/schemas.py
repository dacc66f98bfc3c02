"""Request bodies shared by several routers."""

from pydantic import BaseModel, Field


class TransitionIn(BaseModel):
    """A lifecycle transition: target state, a note (required for some transitions) and the version read."""

    to: str = Field(max_length=16)
    note: str = Field(default="", max_length=4000)
    version: int = Field(ge=1)
