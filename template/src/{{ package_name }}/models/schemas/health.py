"""What the health endpoints report."""

from typing import Literal

from pydantic import BaseModel, Field


class LivenessRead(BaseModel):
    status: Literal["ok"]
    version: str


class ReadinessRead(BaseModel):
    status: Literal["ok"]
    version: str
    checks: dict[str, Literal["ok"]] = Field(
        description="Each dependency the service needs, by its role, such as database."
    )
